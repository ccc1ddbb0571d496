"""boto3 and redshift-connector adapters for the maintenance ports. Clients come from
functions.core.adapters.clients.Clients: created lazily, injectable (Stubber tests), endpoints from
configuration only. Every call here reads, except the reports bucket's own objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from functions.core.errors import error_code
from functions.maintenance.ports import (
    AlarmInfo,
    AlarmTransition,
    AuditRecord,
    QueryRow,
    QueueConfig,
    QueueRow,
    StorageClassTally,
    TableRow,
    VersionTally,
)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()  # the audit trail's own format (DynamoAudit)


class DynamoAuditReader:
    """The audit trail's records of a time window (Scan: the table is keyed by incident, not time)."""

    def __init__(self, clients: Any, table: str):
        self._clients = clients
        self._table = table

    def records(self, start: datetime, end: datetime) -> list[AuditRecord]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="#at >= :start AND #at < :end",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":start": {"S": _iso(start)}, ":end": {"S": _iso(end)}})
        records = []
        for page in pages:
            for item in page.get("Items", []):
                try:
                    payload = json.loads(item.get("payload", {}).get("S", "{}"))
                except json.JSONDecodeError:
                    payload = {}
                records.append(AuditRecord(incident_id=item["incident_id"]["S"], seq=item["seq"]["S"],
                                           kind=item.get("kind", {}).get("S", "?"), at=_utc(item["at"]["S"]),
                                           payload=payload if isinstance(payload, dict) else {}))
        return records


class CloudWatchAlarmHistory:
    def __init__(self, clients: Any):
        self._clients = clients

    def alarms(self, prefix: str) -> list[AlarmInfo]:
        pages = self._clients("cloudwatch").get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        found = []
        for page in pages:
            for kind, items in (("metric", page.get("MetricAlarms", [])), ("composite", page.get("CompositeAlarms",
                                                                                                  []))):
                for alarm in items:
                    since = alarm.get("StateUpdatedTimestamp")
                    found.append(AlarmInfo(name=alarm["AlarmName"], state=alarm.get("StateValue", "OK"),
                                           state_since=_utc(since) if since else None, composite=kind == "composite"))
        return found

    def transitions(self, alarm_name: str, start: datetime, end: datetime) -> list[AlarmTransition]:
        """StateUpdates of one alarm (by name: IAM scopes DescribeAlarmHistory to this service's alarms)."""
        pages = self._clients("cloudwatch").get_paginator("describe_alarm_history").paginate(
            AlarmName=alarm_name, AlarmTypes=["MetricAlarm", "CompositeAlarm"], HistoryItemType="StateUpdate",
            StartDate=start, EndDate=end, ScanBy="TimestampAscending")
        found = []
        for page in pages:
            for item in page.get("AlarmHistoryItems", []):
                try:
                    data = json.loads(item.get("HistoryData") or "{}")
                    old, new = data["oldState"]["stateValue"], data["newState"]["stateValue"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # not a state change we can read: skip it rather than guess
                found.append(AlarmTransition(alarm_name=item["AlarmName"], at=_utc(item["Timestamp"]), old=old,
                                             new=new))
        return sorted(found, key=lambda t: t.at)


class S3ReportStore:
    """The reports bucket. `put(..., only_if_absent=True)` is a conditional write (If-None-Match: *): the
    report of a period is written once, so a retried or re-run schedule does not notify twice."""

    def __init__(self, clients: Any, bucket: str):
        self._clients = clients
        self.bucket = bucket

    def put(self, key: str, body: str, content_type: str, only_if_absent: bool = False) -> bool:
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body.encode("utf-8"),
                                   "ContentType": content_type, "ServerSideEncryption": "AES256"}
        if only_if_absent:
            request["IfNoneMatch"] = "*"
        try:
            self._clients("s3").put_object(**request)
        except ClientError as error:
            if only_if_absent and error_code(error) in ("PreconditionFailed", "412"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._clients("s3").delete_object(Bucket=self.bucket, Key=key)

    def keys(self, prefix: str, start_after: str | None = None) -> list[str]:
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            request["StartAfter"] = start_after
        pages = self._clients("s3").get_paginator("list_objects_v2").paginate(**request)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def get_json(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            body = self._clients("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise
        data = json.loads(body)
        return data if isinstance(data, dict) else None


class S3Storage:
    """Bucket-level reads of the data lake and the Terraform state bucket."""

    def __init__(self, clients: Any):
        self._clients = clients

    def versioning(self, bucket: str) -> str:
        return str(self._clients("s3").get_bucket_versioning(Bucket=bucket).get("Status") or "Disabled")

    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        try:
            return list(self._clients("s3").get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", []))
        except ClientError as error:
            if error_code(error) == "NoSuchLifecycleConfiguration":
                return []
            raise

    def versions(self, bucket: str, prefix: str, cap: int) -> VersionTally:
        tally = VersionTally()
        seen = 0
        pages = self._clients("s3").get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000})
        for page in pages:
            for version in page.get("Versions", []):
                size = int(version.get("Size", 0))
                if version.get("IsLatest", True):
                    name = str(version.get("StorageClass") or "STANDARD")
                    was = tally.current.get(name, StorageClassTally())
                    tally.current[name] = StorageClassTally(was.objects + 1, was.bytes + size)
                else:
                    tally.noncurrent = StorageClassTally(tally.noncurrent.objects + 1, tally.noncurrent.bytes + size)
            tally.delete_markers += len(page.get("DeleteMarkers", []))
            seen += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
            if seen >= cap and (page.get("IsTruncated") or False):
                tally.partial = True
                break
        return tally


class RedshiftBackups:
    def __init__(self, clients: Any):
        self._clients = clients

    def snapshot_retention_days(self, cluster_id: str) -> int:
        cluster = self._clients("redshift").describe_clusters(ClusterIdentifier=cluster_id)["Clusters"][0]
        return int(cluster.get("AutomatedSnapshotRetentionPeriod", 0))

    def newest_automated_snapshot(self, cluster_id: str) -> datetime | None:
        pages = self._clients("redshift").get_paginator("describe_cluster_snapshots").paginate(
            ClusterIdentifier=cluster_id, SnapshotType="automated")
        times = [_utc(s["SnapshotCreateTime"]) for page in pages for s in page.get("Snapshots", [])
                 if s.get("Status", "available") == "available" and s.get("SnapshotCreateTime")]
        return max(times) if times else None


def emit_emf(records: list[dict[str, Any]]) -> None:
    """Embedded metric format: one JSON line per record on stdout; CloudWatch Logs turns them into metrics."""
    for record in records:
        print(json.dumps(record, separators=(",", ":")))


# --- Redshift system tables ----------------------------------------------------------------------------

SQL_OWN_USER = "SELECT usesysid FROM pg_user WHERE usename = current_user"
# stl_query: what ran (querytxt), svl_qlog: how long (elapsed, microseconds). Userid 1 is rdsdb (Redshift's
# own); our own session is left out by id (pg_user is a leader-node table: not joined with STL tables).
SQL_QUERY_STATS = (
    "SELECT left(trim(q.querytxt), 300) AS sql_text, count(*) AS runs, "
    "avg(l.elapsed::float8) / 1000000.0 AS avg_s, max(l.elapsed::float8) / 1000000.0 AS max_s, "
    "sum(l.elapsed::float8) / 1000000.0 AS total_s, min(q.starttime) AS first_seen "
    "FROM stl_query q JOIN svl_qlog l ON l.query = q.query "
    "WHERE q.starttime >= %s AND q.starttime < %s AND q.aborted = 0 AND q.userid > 1 AND q.userid <> %s "
    "GROUP BY 1 ORDER BY {order} DESC, 1 LIMIT %s"
)
QUERY_ORDER = {"max": "max_s", "runs": "runs"}
# User-defined WLM queues are service classes 6-13 (manual) and 100+ (automatic WLM); 1-5 are system ones.
SQL_QUEUE_WAITS = (
    "SELECT w.service_class, count(*) AS queries, avg(w.total_queue_time::float8) / 1000000.0, "
    "percentile_cont(0.9) WITHIN GROUP (ORDER BY w.total_queue_time::float8) / 1000000.0, "
    "max(w.total_queue_time::float8) / 1000000.0, sum(w.total_queue_time::float8) / 1000000.0 "
    "FROM stl_wlm_query w WHERE w.service_class > 5 AND w.queue_start_time >= %s AND w.queue_start_time < %s "
    "GROUP BY w.service_class ORDER BY w.service_class"
)
SQL_QUEUE_CONFIG = ("SELECT service_class, trim(name), num_query_tasks FROM stv_wlm_service_class_config "
                    "WHERE service_class > 5 ORDER BY service_class")
SQL_TABLE_HEALTH = 'SELECT "schema", "table", stats_off, unsorted, size, tbl_rows FROM svv_table_info WHERE '
# Superuser-visible (as are svv_table_info and stv_wlm_service_class_config): sql/redshift-grants.sql grants them.
SQL_DISK = "SELECT sum(used), sum(capacity) FROM stv_partitions WHERE part_begin = 0"


def redshift_history(clients: Any, catalog: Any, settings: Any = None, connect: Any = None) -> Any:
    """A RedshiftHistoryPort on the catalog's cluster, reusing the Redshift playbook's adapter for the
    connection (endpoint, GetClusterCredentials, TLS, statement timeout, one-line errors without secrets)."""
    from functions.core.adapters.redshift import RedshiftAdapter, RedshiftSettings

    class RedshiftHistory(RedshiftAdapter):
        _own_user: int | None = None

        def _own_id(self) -> int:
            if self._own_user is None:
                rows = self._query("reading pg_user", SQL_OWN_USER)
                self._own_user = int(rows[0][0]) if rows else -1
            return self._own_user

        def query_stats(self, start: datetime, end: datetime, order: str, limit: int) -> list[QueryRow]:
            sql = SQL_QUERY_STATS.format(order=QUERY_ORDER[order])
            rows = self._query("reading stl_query", sql, (_naive(start), _naive(end), self._own_id(), int(limit)))
            return [QueryRow(sql=" ".join(str(text).split()), runs=int(runs), avg_seconds=float(avg),
                             max_seconds=float(top), total_seconds=float(total),
                             first_seen=_utc(first) if first else None)
                    for text, runs, avg, top, total, first in rows]

        def queue_waits(self, start: datetime, end: datetime) -> list[QueueRow]:
            rows = self._query("reading stl_wlm_query", SQL_QUEUE_WAITS, (_naive(start), _naive(end)))
            return [QueueRow(service_class=int(c), queries=int(n), avg_wait_seconds=float(avg or 0),
                             p90_wait_seconds=float(p90 or 0), max_wait_seconds=float(top or 0),
                             total_wait_seconds=float(total or 0)) for c, n, avg, p90, top, total in rows]

        def queue_config(self) -> list[QueueConfig]:
            rows = self._query("reading stv_wlm_service_class_config", SQL_QUEUE_CONFIG,
                               needs="SELECT on stv_wlm_service_class_config")
            return [QueueConfig(service_class=int(c), name=str(name).strip(), slots=int(slots))
                    for c, name, slots in rows]

        def table_health(self, tables: list[tuple[str, str]]) -> list[TableRow]:
            pairs = [self._catalog_table(schema, table) for schema, table in tables]
            if not pairs:
                return []
            match = " OR ".join(['("schema" = %s AND "table" = %s)'] * len(pairs))
            rows = self._query("reading svv_table_info", SQL_TABLE_HEALTH + f"({match})",
                               tuple(v for pair in pairs for v in pair), needs="SELECT on svv_table_info")
            return [TableRow(schema=str(s).rstrip(), table=str(t).rstrip(),
                             stats_off=None if off is None else float(off),
                             unsorted=None if unsorted is None else float(unsorted), size_mb=int(size or 0),
                             rows=int(count or 0)) for s, t, off, unsorted, size, count in rows]

        def disk(self) -> tuple[int, int]:
            rows = self._query("reading stv_partitions", SQL_DISK, needs="SELECT on stv_partitions")
            used, capacity = rows[0] if rows else (0, 0)
            return int(used or 0), int(capacity or 0)

    return RedshiftHistory(clients, catalog.redshift, settings or RedshiftSettings.from_environ(), connect)


def _naive(at: datetime) -> datetime:
    """System tables keep UTC without a zone."""
    return at.astimezone(UTC).replace(tzinfo=None)
