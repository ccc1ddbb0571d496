"""Redshift: ResizeCluster and table restores that take time, snapshots that keep the tables, and the stand-in
they act on.

moto 5.2 has no ResizeCluster, no RestoreTableFromClusterSnapshot or
DescribeTableRestoreStatus, and its snapshots hold no data. Here a resize is `resizing` (DescribeClusters shows
the old size: the new nodes are not serving yet) until the sandbox's clock has passed it
(sandbox.clock.DURATIONS["redshift.resize"]); a table restore is PENDING, IN_PROGRESS, then SUCCEEDED on the
sandbox's clock, and the restored table appears in the Redshift stand-in (PostgreSQL, sandbox.redshift) only
then, copied from the snapshot's copy of the table.

Snapshots and the stand-in: a snapshot taken while the stand-in runs keeps a copy of the catalog's tables (in a
schema of its own); the automated snapshot the sandbox seeds (seed_automated_snapshot) stands for the seeded,
healthy data (a copy taken when the stand-in starts, before any fault can be injected into it). standin() is
the active sandbox's stand-in (sandbox.redshift_wiring starts it on first use); restore_touched_tables() puts
the tables the procedures changed back between scenarios.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult

from sandbox import active, clock
from sandbox.gaps import Fill

_API = "https://docs.aws.amazon.com/redshift/latest/APIReference"
OPERATIONS: dict[str, Fill] = {
    "redshift:ResizeCluster": Fill("missing", "`resizing` until the sandbox's clock has passed the resize, then "
                                            "`available` at the new size; refused unless available",
                                   f"{_API}/API_ResizeCluster.html"),
    "redshift:DescribeClusters": Fill("async", "a resizing cluster settles on the sandbox's clock",
                                      f"{_API}/API_DescribeClusters.html"),
    "redshift:CreateClusterSnapshot": Fill("behaviour", "the snapshot keeps a copy of the catalog's tables in the "
                                                        "stand-in (what a restore from it gives back)",
                                           f"{_API}/API_CreateClusterSnapshot.html"),
    "redshift:RestoreTableFromClusterSnapshot": Fill(
        "missing", "PENDING at once; the table is created in the stand-in from the snapshot's copy when it "
                   "SUCCEEDS", f"{_API}/API_RestoreTableFromClusterSnapshot.html"),
    "redshift:DescribeTableRestoreStatus": Fill("missing", "PENDING, IN_PROGRESS, SUCCEEDED on the sandbox's clock",
                                                f"{_API}/API_DescribeTableRestoreStatus.html"),
}

SEED_SCHEMA = "snapshot_seed"  # the healthy seeded tables, as the seeded automated snapshot holds them
SEEDED_SNAPSHOT_AGE = timedelta(hours=6)


@dataclass
class _State:
    restores: dict[str, dict[str, Any]] = field(default_factory=dict)  # request id -> TableRestoreStatus
    restore_sources: dict[str, str] = field(default_factory=dict)  # request id -> stand-in schema restored from
    snapshot_schemas: dict[str, str] = field(default_factory=dict)  # snapshot id -> stand-in schema with its copy
    touched_tables: set[str] = field(default_factory=set)  # schema.table the procedures changed in the stand-in


STATE = _State()
_LOCK = threading.RLock()
_ORIGINAL_SNAPSHOT: Any = None  # moto's CreateClusterSnapshot, before the fill that copies the tables
_INSTALLED = False


def reset() -> None:
    """Forget what the previous scenario did (the account itself is reset by the sandbox)."""
    global STATE
    with _LOCK:
        STATE = _State()


def install() -> None:
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        _fill_redshift()
        _INSTALLED = True


# -- the stand-in --------------------------------------------------------------------------------------------

def standin() -> Any:
    """The active sandbox's Redshift stand-in, started on first use (sandbox.redshift_wiring)."""
    sandbox = active.active()
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
        seeded = f"{_ident(SEED_SCHEMA)}.{_ident(table.name)}"
        if not sandbox_rs.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND "
                                  "table_name = %s", (table.schema_name, table.name)):
            # A swap that a fault stopped half way (the table renamed away, its replacement not renamed in):
            # the table comes back from its seeded copy, as the next scenario expects to find it.
            from sandbox.redshift_wiring import grant_service_user

            sandbox_rs.execute(f"CREATE TABLE {target} (LIKE {seeded} INCLUDING ALL)")
            grant_service_user(sandbox_rs, catalog)  # the grants file's privileges on the new table too
        sandbox_rs.execute(f"DELETE FROM {target}")
        sandbox_rs.execute(f"INSERT INTO {target} SELECT * FROM {_ident(SEED_SCHEMA)}.{_ident(table.name)}")
        sandbox_rs.execute(f"ANALYZE {target}")
    for schema in set(STATE.snapshot_schemas.values()) - {SEED_SCHEMA}:
        sandbox_rs.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")


def _attached() -> Any:
    sandbox = active.active()
    rs = getattr(sandbox, "redshift", None) if sandbox is not None else None
    return rs if rs is not None and rs.port else None


def mark_touched(qualified: str) -> None:
    STATE.touched_tables.add(qualified)


def seed_automated_snapshot(catalog: Any, account: Any) -> None:
    """An automated snapshot from before any fault, standing for the seeded data (no copy of its own)."""
    from moto.redshift.models import redshift_backends

    backend = redshift_backends[account.account_id][account.region]
    at = datetime.now(UTC) - SEEDED_SNAPSHOT_AGE
    snapshot_id = f"rs:{catalog.redshift.cluster_id}-{at:%Y-%m-%d-%H-%M}"
    if snapshot_id not in backend.snapshots and catalog.redshift.cluster_id in backend.clusters:
        create = _ORIGINAL_SNAPSHOT or type(backend).create_cluster_snapshot  # no copy: it stands for the seed
        snapshot = create(backend, catalog.redshift.cluster_id, snapshot_id, account.region, [],
                          snapshot_type="automated")
        snapshot.create_time = at
        STATE.snapshot_schemas[snapshot_id] = SEED_SCHEMA


# -- the fill ------------------------------------------------------------------------------------------------

def _fill_redshift() -> None:
    from moto.redshift import models, responses
    from moto.redshift.exceptions import ClusterNotFoundError

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
            schema = "snapshot_" + re.sub(r"[^a-z0-9_]", "_", snapshot_identifier.lower())[:50]
            rs.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
            rs.execute(f"CREATE SCHEMA {_ident(schema)}")
            for table in active.active().catalog.redshift.tables:
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
