"""APIs the procedures call that moto lacks (or answers unlike AWS), filled with AWS's request and response
shapes, and the parts of the emulated account the procedures act on (seeded from the catalog).

Gap fills (install(), once per process, from sandbox.aws.install_gap_fills):
- Step Functions: aws-sdk integration errors named like AWS's (<Service>.<Code>Exception, PascalCase service),
  SendTaskFailure keeps its cause.
- Kafka UpdateBrokerCount (the cluster is UPDATING, then ACTIVE with the new count once the sandbox's clock has
  passed the update: sandbox.clock.DURATIONS).
- Redshift ResizeCluster (resizing, then available at the new size, on the sandbox's clock),
  RestoreTableFromClusterSnapshot and DescribeTableRestoreStatus (PENDING, IN_PROGRESS, SUCCEEDED on the
  sandbox's clock); the restored table is created in the Redshift stand-in (PostgreSQL) from the snapshot's
  copy of the table when the restore succeeds.
- Redshift Data API ExecuteStatement, BatchExecuteStatement (one transaction), DescribeStatement,
  GetStatementResult, run against the stand-in.
- CloudTrail LookupEvents over the events the sandbox seeded (seed_cloudtrail_event).
- AWS Health and AWS Support answer SubscriptionRequiredException: the emulated account has the Basic support
  plan (set_support_plan("business") to rehearse an entitled account).
- Secrets Manager RotateSecret on a secret without a rotation function finishes the rotation with a new
  password, as a Redshift-managed admin secret's rotation does.

Snapshots and the stand-in: a snapshot taken while the stand-in runs keeps a copy of the catalog's tables (in
a schema of its own); the automated snapshot the sandbox seeds stands for the seeded, healthy data (a copy
taken when the stand-in starts, before any fault can be injected into it).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from moto.core.responses import ActionResult

SEED_SCHEMA = "snapshot_seed"  # the healthy seeded tables, as the seeded automated snapshot holds them
SEEDED_SNAPSHOT_AGE = timedelta(hours=6)


@dataclass
class _State:
    cloudtrail: list[dict[str, Any]] = field(default_factory=list)
    restores: dict[str, dict[str, Any]] = field(default_factory=dict)  # request id -> TableRestoreStatus
    restore_sources: dict[str, str] = field(default_factory=dict)  # request id -> stand-in schema restored from
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)  # Data API statement id -> its result
    snapshot_schemas: dict[str, str] = field(default_factory=dict)  # snapshot id -> stand-in schema with its copy
    support_plan: str = "basic"
    touched_tables: set[str] = field(default_factory=set)  # schema.table the procedures changed in the stand-in


STATE = _State()
_LOCK = threading.RLock()
_ORIGINAL_SNAPSHOT: Any = None  # moto's CreateClusterSnapshot, before the fill that copies the tables


def reset() -> None:
    """Forget what the previous scenario seeded or did (the account itself is reset by the sandbox)."""
    global STATE
    with _LOCK:
        STATE = _State()


def set_support_plan(plan: str) -> None:
    """'basic' (default): Health and Support answer SubscriptionRequiredException; 'business': they answer."""
    STATE.support_plan = plan


def seed_cloudtrail_event(*, name: str, source: str, at: datetime, username: str = "", access_key: str = "",
                          identity_arn: str = "", ip: str = "203.0.113.7", error: str = "", read_only: bool = False,
                          region: str = "eu-west-1", resources: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """One event in the emulated account's CloudTrail event history (what LookupEvents returns)."""
    event_id = str(uuid.uuid4())
    detail = {"eventVersion": "1.08", "eventID": event_id, "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": ip,
              "readOnly": read_only, "userIdentity": {"type": "IAMUser" if username else "AssumedRole",
                                                      "arn": identity_arn, "accessKeyId": access_key,
                                                      "userName": username}}
    if error:
        detail["errorCode"] = error
    event = {"EventId": event_id, "EventName": name, "ReadOnly": "true" if read_only else "false",
             "AccessKeyId": access_key, "EventTime": at, "EventSource": source, "Username": username,
             "Resources": resources or [], "CloudTrailEvent": json.dumps(detail)}
    STATE.cloudtrail.append(event)
    return event


# -- the stand-in --------------------------------------------------------------------------------------------

def standin() -> Any:
    """The active sandbox's Redshift stand-in, started on first use (sandbox.redshift_wiring)."""
    from sandbox import stepfunctions

    sandbox = stepfunctions.active()
    if sandbox is None:
        raise RuntimeError("no sandbox is active: the Redshift stand-in has nowhere to run")
    existing = getattr(sandbox, "redshift", None)
    if existing is not None and existing.port:
        _capture_seed(existing, sandbox.catalog)
        return existing
    from sandbox.redshift_wiring import attach_redshift

    started = attach_redshift(sandbox)
    _capture_seed(started, sandbox.catalog)
    return started


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,126}", name):
        raise ValueError(f"not an identifier the sandbox handles: {name!r}")
    return f'"{name}"'


def _capture_seed(rs: Any, catalog: Any) -> None:
    """Copy the healthy seeded tables once: the content of the seeded automated snapshot."""
    if rs.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (SEED_SCHEMA,)):
        return
    rs.execute(f"CREATE SCHEMA {_ident(SEED_SCHEMA)}")
    for table in catalog.redshift.tables:
        rs.execute(f"CREATE TABLE {_ident(SEED_SCHEMA)}.{_ident(table.name)} AS SELECT * FROM "
                   f"{_ident(table.schema_name)}.{_ident(table.name)}")


def restore_touched_tables(catalog: Any) -> None:
    """Between scenarios: the catalog's tables the procedures swapped or that scenarios corrupted get their
    seeded content back; the restored and kept-corrupt copies go."""
    sandbox_rs = _attached()
    if sandbox_rs is None or not sandbox_rs.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (SEED_SCHEMA,)):
        return  # no stand-in, or one the procedures never used: nothing of theirs to undo
    schemas = {t.schema_name for t in catalog.redshift.tables}
    for schema in sorted(schemas):
        for (name,) in sandbox_rs.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                                          (schema,)):
            if "_restored_" in name or "_corrupt_" in name:
                sandbox_rs.execute(f"DROP TABLE {_ident(schema)}.{_ident(name)}")
    for table in catalog.redshift.tables:
        if table.qualified not in STATE.touched_tables:
            continue
        target = f"{_ident(table.schema_name)}.{_ident(table.name)}"
        sandbox_rs.execute(f"DELETE FROM {target}")
        sandbox_rs.execute(f"INSERT INTO {target} SELECT * FROM {_ident(SEED_SCHEMA)}.{_ident(table.name)}")
        sandbox_rs.execute(f"ANALYZE {target}")
    for schema in set(STATE.snapshot_schemas.values()) - {SEED_SCHEMA}:
        sandbox_rs.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")


def _attached() -> Any:
    from sandbox import stepfunctions

    sandbox = stepfunctions.active()
    rs = getattr(sandbox, "redshift", None) if sandbox is not None else None
    return rs if rs is not None and rs.port else None


def mark_touched(qualified: str) -> None:
    STATE.touched_tables.add(qualified)


# -- seeding: what the procedures act on ---------------------------------------------------------------------

def seed(catalog: Any, account: Any) -> None:
    """The catalog's security groups (with its ids and allowed ingress), Glue triggers, the Redshift admin
    secret, an automated snapshot from before any fault, and the MSK cluster ACTIVE."""
    _seed_security_groups(catalog, account)
    _seed_triggers(catalog, account)
    if catalog.redshift.admin_secret:
        sm = account.client("secretsmanager")
        names = {s["Name"] for s in sm.list_secrets().get("SecretList", [])}
        if catalog.redshift.admin_secret not in names:
            sm.create_secret(Name=catalog.redshift.admin_secret, SecretString=json.dumps(
                {"username": "admin", "password": secrets.token_urlsafe(18), "engine": "redshift",
                 "dbClusterIdentifier": catalog.redshift.cluster_id}))
    from moto.kafka.models import kafka_backends
    from moto.redshift.models import redshift_backends

    for cluster in kafka_backends[account.account_id][account.region].clusters.values():
        cluster.state = "ACTIVE"  # MSK clusters finish creating; moto's stay CREATING
    # The lake's Glue jobs were defined long before today: a change today is news (service-outage evidence).
    week_ago = datetime.now(UTC) - timedelta(days=7)
    glue = account.glue_backend()
    for job in catalog.glue_jobs:
        try:
            defined = glue.get_job(job.name)
        except Exception:
            continue
        if (datetime.now(UTC) - _aware(defined.last_modified_on)) < timedelta(minutes=5):
            defined.created_on = defined.last_modified_on = week_ago.replace(tzinfo=defined.last_modified_on.tzinfo)
    backend = redshift_backends[account.account_id][account.region]
    at = datetime.now(UTC) - SEEDED_SNAPSHOT_AGE
    snapshot_id = f"rs:{catalog.redshift.cluster_id}-{at:%Y-%m-%d-%H-%M}"
    if snapshot_id not in backend.snapshots and catalog.redshift.cluster_id in backend.clusters:
        create = _ORIGINAL_SNAPSHOT or type(backend).create_cluster_snapshot  # no copy: it stands for the seed
        snapshot = create(backend, catalog.redshift.cluster_id, snapshot_id, account.region, [],
                          snapshot_type="automated")
        snapshot.create_time = at
        STATE.snapshot_schemas[snapshot_id] = SEED_SCHEMA


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _seed_security_groups(catalog: Any, account: Any) -> None:
    import moto.ec2.models.security_groups as groups_module
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account.account_id][account.region]
    ec2 = account.client("ec2")
    ports = {"redshift": [(catalog.redshift.port, catalog.redshift.port)], "msk": [(9092, 9098)]}
    for kind, ids in (("redshift", catalog.redshift.security_group_ids), ("msk", catalog.msk.security_group_ids)):
        for group_id in ids:
            if backend.get_security_group_from_id(group_id) is not None:
                continue
            original = groups_module.random_security_group_id
            groups_module.random_security_group_id = lambda gid=group_id: gid  # the catalog's id, not a random one
            try:
                backend.create_security_group(f"{catalog.prefix}-{kind}-{group_id[-4:]}",
                                              f"{kind} ({catalog.env})", None)
            finally:
                groups_module.random_security_group_id = original
            allowed = [{"CidrIp": c} for c in catalog.procedures.allowed_ingress_cidrs if ":" not in c]
            if allowed:
                ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": low, "ToPort": high, "IpRanges": allowed}
                    for low, high in ports[kind]])


def _seed_triggers(catalog: Any, account: Any) -> None:
    glue = account.client("glue")
    existing = set(glue.list_triggers().get("TriggerNames", []))
    for job in catalog.glue_jobs:
        if job.trigger and job.trigger not in existing:
            glue.create_trigger(Name=job.trigger, Type="SCHEDULED", Schedule=job.schedule or "cron(0 * * * ? *)",
                                Actions=[{"JobName": job.name}], StartOnCreation=True,
                                Description=f"runs {job.name} on its schedule")


# -- gap fills -----------------------------------------------------------------------------------------------

_SDK_SERVICE_NAMES = {"glue": "Glue", "iam": "Iam", "ec2": "Ec2", "kafka": "Kafka", "redshift": "Redshift",
                      "secretsmanager": "SecretsManager", "sns": "Sns", "dynamodb": "DynamoDb", "s3": "S3",
                      "cloudtrail": "CloudTrail", "sfn": "Sfn", "lambda": "Lambda"}


def _fill_stepfunctions() -> None:
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    sdk._SERVICE_ERROR_NAMES.update({k.lower(): v for k, v in _SDK_SERVICE_NAMES.items()})

    def normalise(norm_service_name: str, ex: Exception) -> str:
        # AWS: <Service>.<error code>, "Exception" appended when the code lacks it (also for unmodeled codes).
        code = str(getattr(ex, "response", {}).get("Error", {}).get("Code", "")) or ex.__class__.__name__
        name = f"{norm_service_name}.{code}"
        return name if name.endswith("Exception") else f"{name}Exception"

    sdk.StateTaskServiceAwsSdk._normalise_exception_name = staticmethod(normalise)
    original_from_error = sdk.StateTaskServiceAwsSdk._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        # AWS answers every request with a request id; an error without one (a fault the sandbox injects)
        # must not break the cause moto writes from it.
        metadata = getattr(ex, "response", {}).get("ResponseMetadata")
        if isinstance(metadata, dict):
            metadata.setdefault("RequestId", "sandbox-injected-fault")
            metadata.setdefault("HTTPStatusCode", 400)
        return original_from_error(self, env, ex)

    sdk.StateTaskServiceAwsSdk._from_error = from_error

    def send_task_failure(self: Any) -> ActionResult:
        # moto drops the cause; AWS hands it to the Catch as Cause.
        self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                    cause=self._get_param("cause"))
        from moto.core.responses import EmptyResult

        return EmptyResult()

    responses.StepFunctionResponse.send_task_failure = send_task_failure
    _fill_definite_paths()


_INDEFINITE = re.compile(r"[*?:,]|\.\.")


def _fill_definite_paths() -> None:
    """A definite path through an array index ($.Clusters[0].NumberOfNodes) selects one value in AWS; moto's
    interpreter wraps it in a list when the index is not the last step. Answer such paths with the value."""
    import importlib
    import sys

    from jsonpath_ng.ext import parse
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if "[" in path and not _INDEFINITE.search(path):
            matches = parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    importlib.import_module("moto.stepfunctions.parser.models")  # loads the interpreter's modules
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) is original:
            module.extract_json = extract_json  # type: ignore[attr-defined]


def _fill_kafka() -> None:
    from moto.kafka import models, responses

    from sandbox import clock

    original_describe = models.KafkaBackend.describe_cluster_v2
    original_list = models.KafkaBackend.list_clusters_v2

    def settle(cluster: Any) -> None:
        if cluster.state == "UPDATING" and clock.done(getattr(cluster, "update_started_at", None),
                                                      "kafka.update_broker_count"):
            cluster.state = "ACTIVE"  # the brokers are in once the sandbox's clock has passed the update
            cluster.number_of_broker_nodes = getattr(cluster, "target_broker_nodes", cluster.number_of_broker_nodes)

    def describe_cluster_v2(self: Any, cluster_arn: str) -> dict[str, Any]:
        if cluster_arn in self.clusters:
            settle(self.clusters[cluster_arn])
        info: dict[str, Any] = original_describe(self, cluster_arn)
        provisioned = info.get("provisioned") or {}
        if not provisioned.get("loggingInfo"):
            # moto writes {} for a cluster without broker logs; botocore's LoggingInfo requires BrokerLogs, so
            # AWS leaves an unset one out (tests/integration/test_gap_fill_shapes.py). ListClustersV2 uses this.
            provisioned.pop("loggingInfo", None)
        return info

    def list_clusters_v2(self: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        for cluster in self.clusters.values():
            settle(cluster)
        return list(original_list(self, *args, **kwargs))

    def update_broker_count(self: Any) -> str:
        path = unquote(self.parsed_url.path)
        arn = path.split("/v1/clusters/", 1)[1].rsplit("/nodes/count", 1)[0]
        body = json.loads(self.body or "{}")
        cluster = self.kafka_backend.clusters.get(arn)
        if cluster is None:
            return self._error(404, "NotFoundException", f"cluster {arn} not found")
        if body.get("currentVersion") != cluster.current_version:
            return self._error(400, "BadRequestException", "The cluster's current version does not match")
        if cluster.state != "ACTIVE":  # one operation at a time: AWS refuses an update of a busy cluster
            return self._error(400, "BadRequestException", f"The cluster is in the {cluster.state} state; "
                                                           f"the operation is allowed only in ACTIVE")
        target = int(body["targetNumberOfBrokerNodes"])
        if target <= (cluster.number_of_broker_nodes or 0):
            return self._error(400, "BadRequestException", "The broker count can only be increased")
        # UPDATING, with the old broker count, until the sandbox's clock has passed the update's duration.
        cluster.target_broker_nodes = target
        cluster.update_started_at = clock.now()
        cluster.state = "UPDATING"
        cluster.current_version = f"K{uuid.uuid4().hex[:12].upper()}"
        operation = f"{arn.replace(':cluster/', ':cluster-operation/')}/{uuid.uuid4()}"
        return json.dumps({"clusterArn": arn, "clusterOperationArn": operation})

    def _error(self: Any, status: int, code: str, message: str) -> Any:
        # moto answers with the status in the headers (without it, 200: the error would pass as a success)
        return status, {"x-amzn-ErrorType": code, "status": str(status)}, json.dumps({"message": message})

    models.KafkaBackend.describe_cluster_v2 = describe_cluster_v2
    models.KafkaBackend.list_clusters_v2 = list_clusters_v2
    responses.KafkaResponse.update_broker_count = update_broker_count
    responses.KafkaResponse._error = _error


def _fill_redshift() -> None:
    from moto.redshift import models, responses
    from moto.redshift.exceptions import ClusterNotFoundError

    from sandbox import clock

    def resize_cluster(self: Any) -> ActionResult:
        cluster_id = self._get_param("ClusterIdentifier")
        cluster = self.redshift_backend.clusters.get(cluster_id)
        if cluster is None:
            raise ClusterNotFoundError(cluster_id)
        if cluster.status != "available":
            return self._restore_error("InvalidClusterState",
                                       f"The cluster {cluster_id} is {cluster.status}: it must be available")
        # "resizing" until the sandbox's clock has passed the resize; DescribeClusters shows the old size
        # until then (the new nodes are not serving yet).
        cluster.resize_target = (self._get_param("NodeType") or cluster.node_type,
                                 self._get_int_param("NumberOfNodes") or cluster.number_of_nodes)
        cluster.resize_started_at = clock.now()
        cluster.status = "resizing"
        return ActionResult({"Cluster": cluster})

    original_describe = models.RedshiftBackend.describe_clusters

    def describe_clusters(self: Any, *args: Any, **kwargs: Any) -> Any:
        clusters = original_describe(self, *args, **kwargs)
        for cluster in clusters:
            started = getattr(cluster, "resize_started_at", None)
            if cluster.status == "resizing" and started is not None and clock.done(started, "redshift.resize"):
                cluster.node_type, cluster.number_of_nodes = cluster.resize_target
                cluster.status = "available"
                cluster.resize_started_at = None
        return clusters

    global _ORIGINAL_SNAPSHOT
    original_snapshot = _ORIGINAL_SNAPSHOT = models.RedshiftBackend.create_cluster_snapshot

    def create_cluster_snapshot(self: Any, cluster_identifier: str, snapshot_identifier: str, *args: Any,
                                **kwargs: Any) -> Any:
        snapshot = original_snapshot(self, cluster_identifier, snapshot_identifier, *args, **kwargs)
        rs = _attached()
        if rs is not None:  # keep the tables as they are now: what restoring from this snapshot gives back
            from sandbox import stepfunctions

            schema = "snapshot_" + re.sub(r"[^a-z0-9_]", "_", snapshot_identifier.lower())[:50]
            rs.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
            rs.execute(f"CREATE SCHEMA {_ident(schema)}")
            for table in stepfunctions.active().catalog.redshift.tables:
                rs.execute(f"CREATE TABLE {_ident(schema)}.{_ident(table.name)} AS SELECT * FROM "
                           f"{_ident(table.schema_name)}.{_ident(table.name)}")
            STATE.snapshot_schemas[snapshot_identifier] = schema
        return snapshot

    def restore_table_from_cluster_snapshot(self: Any) -> ActionResult:
        p = {k: self._get_param(k) for k in ("ClusterIdentifier", "SnapshotIdentifier", "SourceDatabaseName",
                                              "SourceSchemaName", "SourceTableName", "TargetDatabaseName",
                                              "TargetSchemaName", "NewTableName")}
        if p["ClusterIdentifier"] not in self.redshift_backend.clusters:
            raise ClusterNotFoundError(p["ClusterIdentifier"])
        snapshot = self.redshift_backend.snapshots.get(p["SnapshotIdentifier"])
        if snapshot is None:
            return self._restore_error("ClusterSnapshotNotFound", f"Snapshot {p['SnapshotIdentifier']} not found")
        rs = standin()
        schema = p["TargetSchemaName"] or p["SourceSchemaName"] or "public"
        exists = rs.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                            (schema, p["NewTableName"]))
        if exists:
            return self._restore_error("InvalidTableRestoreArgument",
                                       f"Table {schema}.{p['NewTableName']} already exists")
        source_schema = STATE.snapshot_schemas.get(p["SnapshotIdentifier"], SEED_SCHEMA)
        request_id = str(uuid.uuid4())
        now = clock.now()
        status = {"TableRestoreRequestId": request_id, "Status": "PENDING",
                  "Message": "restore requested", "RequestTime": now,
                  "ProgressInMegaBytes": 0, "TotalDataInMegaBytes": 1, "ClusterIdentifier": p["ClusterIdentifier"],
                  "SnapshotIdentifier": p["SnapshotIdentifier"], "SourceDatabaseName": p["SourceDatabaseName"],
                  "SourceSchemaName": p["SourceSchemaName"], "SourceTableName": p["SourceTableName"],
                  "TargetDatabaseName": p["TargetDatabaseName"] or p["SourceDatabaseName"],
                  "TargetSchemaName": schema, "NewTableName": p["NewTableName"]}
        STATE.restores[request_id] = status
        STATE.restore_sources[request_id] = source_schema
        mark_touched(f"{schema}.{p['SourceTableName']}")
        # AWS answers PENDING and restores in the background: PENDING, IN_PROGRESS, then SUCCEEDED on the
        # sandbox's clock (the table exists only once it is SUCCEEDED).
        return ActionResult({"TableRestoreStatus": dict(status)})

    def progress(status: dict[str, Any]) -> None:
        if status["Status"] in ("SUCCEEDED", "FAILED", "CANCELED"):
            return
        if clock.done(status["RequestTime"], "redshift.restore_table"):
            source = STATE.restore_sources.get(status["TableRestoreRequestId"], SEED_SCHEMA)
            standin().execute(f"CREATE TABLE {_ident(status['TargetSchemaName'])}.{_ident(status['NewTableName'])}"
                              f" AS SELECT * FROM {_ident(source)}.{_ident(status['SourceTableName'])}")
            status.update(Status="SUCCEEDED", Message="restored from the snapshot's copy of the table",
                          ProgressInMegaBytes=status["TotalDataInMegaBytes"])
        elif clock.done(status["RequestTime"], "redshift.restore_table.pending"):
            status.update(Status="IN_PROGRESS", Message="restoring")

    def describe_table_restore_status(self: Any) -> ActionResult:
        wanted = self._get_param("TableRestoreRequestId")
        cluster = self._get_param("ClusterIdentifier")
        found = [s for s in STATE.restores.values()
                 if (not wanted or s["TableRestoreRequestId"] == wanted) and (not cluster or s["ClusterIdentifier"]
                                                                             == cluster)]
        for status in found:
            progress(status)
        return ActionResult({"TableRestoreStatusDetails": [dict(s) for s in found]})

    def _restore_error(self: Any, code: str, message: str) -> Any:
        body = (f'<ErrorResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
                f"</ErrorResponse>")
        return 400, {"Content-Type": "text/xml", "status": "400"}, body

    responses.RedshiftResponse.resize_cluster = resize_cluster
    responses.RedshiftResponse.restore_table_from_cluster_snapshot = restore_table_from_cluster_snapshot
    responses.RedshiftResponse.describe_table_restore_status = describe_table_restore_status
    responses.RedshiftResponse._restore_error = _restore_error
    models.RedshiftBackend.describe_clusters = describe_clusters
    models.RedshiftBackend.create_cluster_snapshot = create_cluster_snapshot


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, Decimal):
        return {"stringValue": str(value)}  # Redshift's DECIMAL comes back as a string
    return {"stringValue": value.isoformat() if hasattr(value, "isoformat") else str(value)}


def _run_statements(sqls: list[str]) -> dict[str, Any]:
    rs = standin()
    rows: list[tuple[Any, ...]] = []
    try:
        if len(sqls) == 1:
            rows = rs.execute(sqls[0])
        else:  # BatchExecuteStatement: one transaction
            rs.execute("BEGIN")
            try:
                for sql in sqls:
                    rows = rs.execute(sql)
                rs.execute("COMMIT")
            except Exception:
                rs.execute("ROLLBACK")
                raise
        for sql in sqls:
            match = re.match(r'\s*ALTER TABLE "?([a-z_0-9]+)"?\."?([a-z_0-9]+)"?', sql, re.IGNORECASE)
            if match:
                mark_touched(f"{match.group(1)}.{match.group(2)}")
        return {"Status": "FINISHED", "rows": [list(r) for r in rows], "HasResultSet": bool(rows) or
                sqls[-1].lstrip().upper().startswith("SELECT")}
    except Exception as error:
        return {"Status": "FAILED", "Error": " ".join(str(error).split())[:500], "rows": [], "HasResultSet": False}


def _fill_redshift_data() -> None:
    from moto.redshiftdata import responses

    def start(self: Any, sqls: list[str]) -> str:
        statement_id = str(uuid.uuid4())
        result = _run_statements(sqls)
        now = datetime.now(UTC)
        STATE.statements[statement_id] = {
            **result, "Id": statement_id, "QueryString": "; ".join(sqls), "CreatedAt": now, "UpdatedAt": now,
            "ClusterIdentifier": self._get_param("ClusterIdentifier"), "Database": self._get_param("Database"),
            "DbUser": self._get_param("DbUser")}
        return json.dumps({"Id": statement_id, "CreatedAt": now.timestamp(),
                           "ClusterIdentifier": self._get_param("ClusterIdentifier"),
                           "Database": self._get_param("Database"), "DbUser": self._get_param("DbUser")})

    def execute_statement(self: Any) -> str:
        return start(self, [self._get_param("Sql")])

    def batch_execute_statement(self: Any) -> str:
        return start(self, list(self._get_param("Sqls")))

    def describe_statement(self: Any) -> Any:
        item = STATE.statements.get(self._get_param("Id"))
        if item is None:
            return 400, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps({"Message": "no statement"})
        answer = {"Id": item["Id"], "Status": item["Status"], "HasResultSet": item["HasResultSet"],
                  "ResultRows": len(item["rows"]), "QueryString": item["QueryString"],
                  "CreatedAt": item["CreatedAt"].timestamp(), "UpdatedAt": item["UpdatedAt"].timestamp()}
        if item.get("Error"):
            answer["Error"] = item["Error"]
        return json.dumps(answer)

    def get_statement_result(self: Any) -> Any:
        item = STATE.statements.get(self._get_param("Id"))
        if item is None or not item["HasResultSet"]:
            return 400, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps({"Message": "no result"})
        records = [[_field(v) for v in row] for row in item["rows"]]
        return json.dumps({"Records": records, "TotalNumRows": len(records),
                           "ColumnMetadata": [{"name": f"col{i}"} for i in range(len(records[0]) if records else 0)]})

    responses.RedshiftDataAPIServiceResponse.execute_statement = execute_statement
    responses.RedshiftDataAPIServiceResponse.batch_execute_statement = batch_execute_statement
    responses.RedshiftDataAPIServiceResponse.describe_statement = describe_statement
    responses.RedshiftDataAPIServiceResponse.get_statement_result = get_statement_result


def _fill_cloudtrail() -> None:
    from moto.cloudtrail import responses

    def lookup_events(self: Any) -> ActionResult:
        attributes = self._get_param("LookupAttributes") or []
        start, end = self._get_param("StartTime"), self._get_param("EndTime")
        keys = {"Username": "Username", "AccessKeyId": "AccessKeyId", "EventName": "EventName",
                "EventSource": "EventSource", "ReadOnly": "ReadOnly", "EventId": "EventId"}
        events = sorted(STATE.cloudtrail, key=lambda e: e["EventTime"], reverse=True)
        for attribute in attributes:
            key = keys.get(attribute["AttributeKey"])
            if key:
                events = [e for e in events if str(e.get(key, "")) == attribute["AttributeValue"]]

        def instant(value: Any) -> datetime | None:
            if value in (None, ""):
                return None
            if isinstance(value, int | float):
                return datetime.fromtimestamp(value, UTC)
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))

        low, high = instant(start), instant(end)
        events = [e for e in events
                  if (low is None or e["EventTime"] >= low) and (high is None or e["EventTime"] <= high)]
        limit = int(self._get_param("MaxResults") or 50)
        offset = int(self._get_param("NextToken") or 0)
        page = events[offset:offset + limit]
        result: dict[str, Any] = {"Events": page}
        if offset + limit < len(events):
            result["NextToken"] = str(offset + limit)
        return ActionResult(result)

    responses.CloudTrailResponse.lookup_events = lookup_events


def _fill_health_and_support() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        scope = str(environ.get("HTTP_AUTHORIZATION", ""))
        service = next((s for s in ("health", "support") if f"/{s}/aws4_request" in scope), None)
        if service == "support" and STATE.support_plan != "basic":
            return original(self, environ, start_response)
        if service == "health" and STATE.support_plan != "basic":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)
            body = json.dumps({"events": []}).encode()
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
            return [body]
        if service is not None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)  # the request is answered, not left half read
            message = (f"AWS {'Health' if service == 'health' else 'Support'} API needs a Business, Enterprise "
                       f"On-Ramp or Enterprise support plan")
            body = json.dumps({"__type": "SubscriptionRequiredException", "message": message}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                               ("x-amzn-ErrorType", "SubscriptionRequiredException")])
            return [body]
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call


def _fill_secrets() -> None:
    from moto.secretsmanager import models

    original = models.SecretsManagerBackend.rotate_secret

    def rotate_secret(self: Any, secret_id: str, *args: Any, **kwargs: Any) -> str:
        answer: str = original(self, secret_id, *args, **kwargs)
        secret = self.secrets[secret_id]
        current = secret.versions.get(secret.default_version_id or "", {})
        if not secret.rotation_lambda_arn and "secret_string" not in current:
            # A service-managed rotation (Redshift's admin password): a new password becomes AWSCURRENT.
            previous = next((v for v in secret.versions.values() if "AWSPREVIOUS" in v["version_stages"]), {})
            try:
                value = json.loads(previous.get("secret_string") or "{}")
            except ValueError:
                value = {}
            value["password"] = secrets.token_urlsafe(18)
            current["secret_string"] = json.dumps(value)
            current.setdefault("createdate", int(datetime.now(UTC).timestamp()))
            secret.secret_string = current["secret_string"]
        return answer

    models.SecretsManagerBackend.rotate_secret = rotate_secret


_INSTALLED = False


def install() -> None:
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        _fill_stepfunctions()
        _fill_kafka()
        _fill_redshift()
        _fill_redshift_data()
        _fill_cloudtrail()
        _fill_health_and_support()
        _fill_secrets()
        _INSTALLED = True


def backdate_object_version(account: Any, bucket: str, key: str, version_id: str, at: datetime) -> None:
    """History for a scenario: S3 stamps LastModified itself, so an object version 'written yesterday' is
    made by writing it now and moving its stamp back."""
    from moto.s3.models import s3_backends

    backend = s3_backends[account.account_id]["aws"]
    for item in backend.get_bucket(bucket).keys.getlist(key):
        if item.version_id == version_id:
            item.last_modified = at.replace(tzinfo=None) if item.last_modified.tzinfo is None else at
            return
    raise KeyError(f"s3://{bucket}/{key} has no version {version_id}")
