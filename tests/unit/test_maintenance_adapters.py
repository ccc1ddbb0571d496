"""Maintenance adapters: every boto3 request checked against the real API model by botocore's Stubber
(errors included), and the Redshift system-table SQL through a recording connection. No network."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from functions.core.adapters.clients import Clients
from functions.core.adapters.redshift import RedshiftSettings
from functions.core.catalog import Catalog
from functions.maintenance.adapters import (
    CloudWatchAlarmHistory,
    DynamoAuditReader,
    RedshiftBackups,
    S3ReportStore,
    S3Storage,
    redshift_history,
)

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
WEEK_AGO = NOW - timedelta(days=7)


@pytest.fixture
def stubbed() -> Iterator[tuple[Clients, dict[str, Stubber]]]:
    made = {s: boto3.client(s, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
            for s in ("dynamodb", "cloudwatch", "s3", "redshift")}
    stubs = {s: Stubber(c) for s, c in made.items()}
    for stub in stubs.values():
        stub.activate()
    yield Clients(made), stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_audit_reader_scans_one_time_window(stubbed: tuple[Clients, dict[str, Stubber]]) -> None:
    clients, stubs = stubbed
    item = {"incident_id": {"S": "a@1"}, "seq": {"S": "2026-11-20T10:00:00+00:00#0001"}, "kind": {"S": "outcome"},
            "at": {"S": "2026-11-20T10:00:00+00:00"}, "payload": {"S": '{"status": "REMEDIATED"}'}}
    stubs["dynamodb"].add_response("scan", {"Items": [item]}, {
        "TableName": "remedy-dev-audit", "FilterExpression": "#at >= :start AND #at < :end",
        "ExpressionAttributeNames": {"#at": "at"},
        "ExpressionAttributeValues": {":start": {"S": "2026-11-16T07:00:00+00:00"},
                                      ":end": {"S": "2026-11-23T07:00:00+00:00"}}})
    [record] = DynamoAuditReader(clients, "remedy-dev-audit").records(WEEK_AGO, NOW)
    assert (record.incident_id, record.kind, record.payload) == ("a@1", "outcome", {"status": "REMEDIATED"})
    assert record.at == datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_alarm_history_by_alarm_name(stubbed: tuple[Clients, dict[str, Stubber]]) -> None:
    clients, stubs = stubbed
    name = "remedy-dev/consumer-lag/glue:orders-stream"
    stubs["cloudwatch"].add_response("describe_alarms", {
        "MetricAlarms": [{"AlarmName": name, "StateValue": "OK", "StateUpdatedTimestamp": NOW}],
        "CompositeAlarms": [{"AlarmName": "remedy-dev/composite-upstream/glue:sales-batch", "StateValue": "OK"}]},
        {"AlarmNamePrefix": "remedy-dev/", "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
    data = '{"version":"1.0","oldState":{"stateValue":"OK"},"newState":{"stateValue":"ALARM"}}'
    stubs["cloudwatch"].add_response("describe_alarm_history", {"AlarmHistoryItems": [
        {"AlarmName": name, "Timestamp": NOW - timedelta(days=1), "HistoryItemType": "StateUpdate",
         "HistorySummary": "Alarm updated from OK to ALARM", "HistoryData": data},
        {"AlarmName": name, "Timestamp": NOW - timedelta(days=2), "HistoryItemType": "StateUpdate",
         "HistorySummary": "garbled", "HistoryData": "not json"}]},
        {"AlarmName": name, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "HistoryItemType": "StateUpdate",
         "StartDate": WEEK_AGO, "EndDate": NOW, "ScanBy": "TimestampAscending"})
    adapter = CloudWatchAlarmHistory(clients)
    alarms = adapter.alarms("remedy-dev/")
    assert [(a.name, a.composite) for a in alarms] == [(name, False),
                                                       ("remedy-dev/composite-upstream/glue:sales-batch", True)]
    [change] = adapter.transitions(name, WEEK_AGO, NOW)
    assert (change.old, change.new, change.at) == ("OK", "ALARM", NOW - timedelta(days=1))


def test_report_store_writes_once_per_key(stubbed: tuple[Clients, dict[str, Stubber]]) -> None:
    clients, stubs = stubbed
    request = {"Bucket": "reports", "Key": "weekly/2026-11-23.json", "Body": ANY, "ContentType": "application/json",
               "ServerSideEncryption": "AES256", "IfNoneMatch": "*"}
    stubs["s3"].add_response("put_object", {}, request)
    stubs["s3"].add_client_error("put_object", "PreconditionFailed", http_status_code=412, expected_params=request)
    stubs["s3"].add_client_error("put_object", "AccessDenied", http_status_code=403, expected_params=request)
    store = S3ReportStore(clients, "reports")
    assert store.put("weekly/2026-11-23.json", "{}", "application/json", only_if_absent=True) is True
    assert store.put("weekly/2026-11-23.json", "{}", "application/json", only_if_absent=True) is False
    with pytest.raises(Exception, match="AccessDenied"):
        store.put("weekly/2026-11-23.json", "{}", "application/json", only_if_absent=True)


def test_report_store_lists_and_reads(stubbed: tuple[Clients, dict[str, Stubber]]) -> None:
    clients, stubs = stubbed
    stubs["s3"].add_response("list_objects_v2", {"Contents": [{"Key": "posture/2026-11-22.json"}], "KeyCount": 1},
                             {"Bucket": "reports", "Prefix": "posture/", "StartAfter": "posture/2026-11-16"})
    body = b'{"disk": {"used_percent": 59.0}}'
    stubs["s3"].add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))},
                             {"Bucket": "reports", "Key": "redshift/2026-10.json"})
    stubs["s3"].add_client_error("get_object", "NoSuchKey", http_status_code=404,
                                 expected_params={"Bucket": "reports", "Key": "redshift/2026-09.json"})
    store = S3ReportStore(clients, "reports")
    assert store.keys("posture/", start_after="posture/2026-11-16") == ["posture/2026-11-22.json"]
    assert store.get_json("redshift/2026-10.json") == {"disk": {"used_percent": 59.0}}
    assert store.get_json("redshift/2026-09.json") is None


def test_storage_reads_versioning_lifecycle_and_versions(stubbed: tuple[Clients, dict[str, Stubber]]) -> None:
    clients, stubs = stubbed
    stubs["s3"].add_response("get_bucket_versioning", {}, {"Bucket": "lake"})
    stubs["s3"].add_client_error("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration",
                                 http_status_code=404, expected_params={"Bucket": "lake"})
    stubs["s3"].add_response("list_object_versions", {
        "IsTruncated": True, "NextKeyMarker": "curated/b", "NextVersionIdMarker": "v9",
        "Versions": [{"Key": "curated/a", "Size": 10, "StorageClass": "STANDARD", "IsLatest": True},
                     {"Key": "curated/a", "Size": 7, "StorageClass": "STANDARD", "IsLatest": False},
                     {"Key": "curated/b", "Size": 5, "StorageClass": "GLACIER", "IsLatest": True}],
        "DeleteMarkers": [{"Key": "curated/c", "IsLatest": True}]},
        {"Bucket": "lake", "Prefix": "curated/", "MaxKeys": 1000})
    storage = S3Storage(clients)
    assert storage.versioning("lake") == "Disabled"
    assert storage.lifecycle_rules("lake") == []
    tally = storage.versions("lake", "curated/", cap=4)  # the cap stops after the first page
    assert {k: (v.objects, v.bytes) for k, v in tally.current.items()} == {"STANDARD": (1, 10), "GLACIER": (1, 5)}
    assert (tally.noncurrent.objects, tally.noncurrent.bytes, tally.delete_markers, tally.partial) == (1, 7, 1, True)


def test_backups_read_retention_and_the_newest_automated_snapshot(stubbed: tuple[Clients, dict[str, Stubber]]) -> None:
    clients, stubs = stubbed
    stubs["redshift"].add_response("describe_clusters", {"Clusters": [
        {"ClusterIdentifier": "rs", "AutomatedSnapshotRetentionPeriod": 1}]}, {"ClusterIdentifier": "rs"})
    stubs["redshift"].add_response("describe_cluster_snapshots", {"Snapshots": [
        {"SnapshotIdentifier": "rs:a", "SnapshotCreateTime": NOW - timedelta(days=2), "Status": "available"},
        {"SnapshotIdentifier": "rs:b", "SnapshotCreateTime": NOW - timedelta(hours=3), "Status": "available"},
        {"SnapshotIdentifier": "rs:c", "SnapshotCreateTime": NOW, "Status": "creating"}]},
        {"ClusterIdentifier": "rs", "SnapshotType": "automated"})
    backups = RedshiftBackups(clients)
    assert backups.snapshot_retention_days("rs") == 1
    assert backups.newest_automated_snapshot("rs") == NOW - timedelta(hours=3)


class Recording:
    """A redshift_connector connection that records statements and answers from a table of SQL prefixes."""

    def __init__(self, answers: dict[str, list[tuple[Any, ...]]]):
        self.answers = answers
        self.statements: list[tuple[str, Any]] = []
        self.autocommit = False

    def cursor(self) -> Recording:
        return self

    def execute(self, sql: str, params: Any = None) -> None:
        self.statements.append((sql, params))
        self.description = None
        self._rows: list[tuple[Any, ...]] = []
        for prefix, rows in self.answers.items():
            if prefix in sql:
                self.description, self._rows = [("c",)], rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        pass


def test_system_table_queries_bind_values_and_only_catalog_tables(stubbed: tuple[Clients, dict[str, Stubber]],
                                                                  catalog: Catalog) -> None:
    clients, stubs = stubbed
    stubs["redshift"].add_response("get_cluster_credentials", {"DbUser": "IAM:remedy", "DbPassword": "p4ss",
                                                              "Expiration": NOW + timedelta(minutes=15)},
                                   {"DbUser": "remedy", "DbName": "analytics_db", "DurationSeconds": 900,
                                    "ClusterIdentifier": "retail-redshift-dev", "AutoCreate": False})
    conn = Recording({"FROM pg_user": [(105,)], "FROM stl_query": [("SELECT  1\n", 3, 1.0, 2.0, 3.0, NOW)],
                      "FROM stl_wlm_query": [(6, 10, 1.0, 2.0, 3.0, 10.0)],
                      "FROM stv_wlm_service_class_config": [(6, "etl ", 2)],
                      "FROM svv_table_info": [("analytics", "fact_sales", 12.5, None, 4, 2000)],
                      "FROM stv_partitions": [(640, 1000)]})
    history = redshift_history(clients, catalog, RedshiftSettings(REDSHIFT_HOST="127.0.0.1", REDSHIFT_PORT=5439,
                                                                  REDSHIFT_SSL=False),
                               connect=lambda **kwargs: conn)
    [query] = history.query_stats(WEEK_AGO, NOW, "runs", 10)
    assert (query.sql, query.runs) == ("SELECT 1", 3)
    assert [q.name for q in history.queue_config()] == ["etl"]
    assert history.queue_waits(WEEK_AGO, NOW)[0].p90_wait_seconds == 2.0
    [table] = history.table_health([("analytics", "fact_sales"), ("analytics", "dim_customer")])
    assert (table.stats_off, table.unsorted) == (12.5, None)
    assert history.disk() == (640, 1000)
    with pytest.raises(ValueError, match="not a table of the catalog"):
        history.table_health([("pg_catalog", "pg_authid")])
    sql = {s.split(" FROM ")[1].split()[0]: (s, p) for s, p in conn.statements if " FROM " in s}
    stl, params = sql["stl_query"]
    assert "ORDER BY runs DESC" in stl and params == (WEEK_AGO.replace(tzinfo=None), NOW.replace(tzinfo=None), 105, 10)
    table_sql, table_params = sql["svv_table_info"]
    assert "fact_sales" not in table_sql and table_params == ("analytics", "fact_sales", "analytics", "dim_customer")
    history.close()
