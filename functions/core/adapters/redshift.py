"""Redshift adapter: the cluster through boto3 (DescribeClusters, DescribeClusterParameters,
GetClusterCredentials) and its database through redshift-connector with IAM temporary credentials.

Only the redshift_performance function imports this module, and redshift_connector is imported on first
connect (it costs ~136 ms and pulls lxml): nothing else pays for it at cold start.

Where the database is: the cluster's Endpoint from DescribeClusters unless the function's configuration
names a host and port (REDSHIFT_HOST / REDSHIFT_PORT: a VPC endpoint, or the sandbox's stand-in). TLS is
on unless REDSHIFT_SSL says otherwise. Nothing here knows whether it talks to AWS or to the sandbox.

SQL rules: one statement per execute, values as %s parameters, identifiers only from the catalog,
checked against a strict pattern and double-quoted. Every session is autocommit (ANALYZE and
pg_cancel_backend then run on their own, no transaction is left open) and has a statement timeout shorter
than the function's. Errors leave as RedshiftError with one line that never carries the password.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.core.catalog import Redshift
from functions.core.ports import (
    GRANTS_FILE,
    DbCredentials,
    OutOfTime,
    PrivilegeMissing,
    QueuedQuery,
    RedshiftCluster,
    RunningQuery,
    TableStats,
    WlmSettings,
)

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")  # the catalog's SqlIdentifier: nothing to escape
CREDENTIAL_SECONDS = 900  # GetClusterCredentials' minimum: a remediation takes seconds
CREDENTIAL_MARGIN = timedelta(seconds=60)  # fetch new credentials this long before they expire
APPLICATION_NAME = "remedy-redshift-performance"  # shows in stv_sessions; spares the driver inspect.stack()
CANCEL_WAIT_SECONDS = 5.0

# -- SQL (every statement the function runs; identifiers are added only by `qualified`) -------------------
SQL_RUNNING = "SELECT pid, user_name, starttime, query FROM stv_recents WHERE status = 'Running' ORDER BY starttime"
SQL_QUEUED = ("SELECT query, service_class, state, queue_time FROM stv_wlm_query_state "
              "WHERE trim(state) IN ('Queued', 'QueuedWaiting') ORDER BY queue_time DESC")
SQL_TABLE_STATS = 'SELECT "schema", "table", stats_off FROM svv_table_info WHERE '
SQL_RUNNING_PID = "SELECT starttime FROM stv_recents WHERE status = 'Running' AND pid = %s"
SQL_CANCEL = "SELECT pg_cancel_backend(%s)"


INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE: permission denied (Redshift and PostgreSQL alike)
QUERY_CANCELED = "57014"  # SQLSTATE: statement timeout (or a cancel)
# What the grants file gives for each statement that can be refused (sql/redshift-grants.sql).
NEEDS_TABLE_INFO = "SELECT on svv_table_info"
NEEDS_OPERATOR_CANCEL = "the role sys:operator (to cancel another user's query)"
NEEDS_OPERATOR_ANALYZE = "the role sys:operator (ANALYZE) and USAGE on the table's schema"

# The running invocation's deadline, set by the handler from the Lambda context (`invocation`).
_remaining: Callable[[], float] | None = None


@contextlib.contextmanager
def invocation(context: Any) -> Any:
    """While a handler runs: seconds_left() reads the Lambda context's get_remaining_time_in_millis."""
    global _remaining
    getter = getattr(context, "get_remaining_time_in_millis", None)
    _remaining = (lambda: getter() / 1000.0) if callable(getter) else None
    try:
        yield
    finally:
        _remaining = None


class RedshiftError(Exception):
    """The database could not be reached or refused a statement; the message is one line, no secrets."""


class RedshiftPrivilegeError(RedshiftError, PrivilegeMissing):
    """The service user lacks a privilege of the grants file (message: which, and the file to run)."""


class RedshiftTimeout(RedshiftError, OutOfTime):
    """A statement ran into its statement timeout."""


class RedshiftSettings(BaseModel):
    """The function's optional Redshift configuration (only this function reads it)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    host: str | None = Field(default=None, alias="REDSHIFT_HOST")
    port: int | None = Field(default=None, alias="REDSHIFT_PORT", ge=1, le=65535)
    ssl: bool = Field(default=True, alias="REDSHIFT_SSL")
    # Below the function's own timeout, so a long ANALYZE fails as an outcome rather than a killed function.
    statement_timeout_seconds: int = Field(default=40, alias="REDSHIFT_STATEMENT_TIMEOUT_SECONDS", ge=1, le=3600)

    @field_validator("host", "port", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RedshiftSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


def quote_identifier(name: str) -> str:
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name[:60]!r} is not a catalog SQL identifier")
    return f'"{name}"'


def qualified(schema: str, table: str) -> str:
    """"schema"."table" for a catalog table."""
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def parse_wlm(parameter_group: str, parameters: Mapping[str, str]) -> WlmSettings:
    """WlmSettings from a parameter group's values (wlm_json_configuration, max_concurrency_scaling_clusters)."""
    raw = parameters.get("wlm_json_configuration") or "[]"
    try:
        config = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(f"wlm_json_configuration of {parameter_group} is not JSON") from None
    entries = [q for q in (config if isinstance(config, list) else [config]) if isinstance(q, dict)]
    queues = [q for q in entries if not q.get("short_query_queue")]
    scaling = [q for q in queues if str(q.get("concurrency_scaling", "off")).lower() == "auto"]
    clusters = str(parameters.get("max_concurrency_scaling_clusters", "")).strip()
    return WlmSettings(
        parameter_group=parameter_group,
        auto_wlm=any(q.get("auto_wlm") is True for q in entries),
        queues=len(queues),
        concurrency_scaling_queues=len(scaling),
        max_concurrency_scaling_clusters=int(clusters) if clusters.isdigit() else None,
        short_query_acceleration=any(q.get("short_query_queue") is True for q in entries),
    )


def _sqlstate(error: BaseException) -> str:
    first = error.args[0] if error.args else None
    return str(first.get("C", "")) if isinstance(first, dict) else ""


def _one_line(error: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """A driver error as one readable line: PostgreSQL's message field when there is one, secrets masked."""
    first = error.args[0] if error.args else None
    text = str(first.get("M", first)) if isinstance(first, dict) else str(error)
    line = next((part.strip() for part in text.splitlines() if part.strip()), type(error).__name__)
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line[:300]


_OPEN: weakref.WeakSet[RedshiftAdapter] = weakref.WeakSet()


def close_connections() -> None:
    """End every open database session (a handler calls this when its invocation ends)."""
    for adapter in list(_OPEN):
        adapter.close()


class RedshiftAdapter:
    """RedshiftPort for the catalog's cluster. `clients` is functions.core.adapters.clients.Clients (boto3,
    injectable); `connect` is redshift_connector.connect unless a test passes another."""

    def __init__(self, clients: Any, redshift: Redshift, settings: RedshiftSettings | None = None,
                 connect: Callable[..., Any] | None = None, now: Callable[[], datetime] | None = None):
        self._clients = clients
        self._catalog = redshift
        self._settings = settings or RedshiftSettings()
        self._connect = connect
        self._now = now or (lambda: datetime.now(UTC))
        self._tables = {(t.schema_name, t.name) for t in redshift.tables}
        self._cluster: RedshiftCluster | None = None
        self._credentials: DbCredentials | None = None
        self._conn: Any = None
        _OPEN.add(self)

    @property
    def _redshift(self) -> Any:
        return self._clients("redshift")

    # -- AWS API ----------------------------------------------------------------------------------------

    def cluster(self) -> RedshiftCluster:
        """DescribeClusters, once per session (the endpoint and the parameter group come from it)."""
        if self._cluster is None:
            found = self._redshift.describe_clusters(ClusterIdentifier=self._catalog.cluster_id)["Clusters"][0]
            endpoint = found.get("Endpoint") or {}
            groups = found.get("ClusterParameterGroups") or [{}]
            self._cluster = RedshiftCluster(
                cluster_id=found["ClusterIdentifier"],
                status=found.get("ClusterStatus", "unknown"),
                node_type=found.get("NodeType", "?"),
                nodes=int(found.get("NumberOfNodes", 1)),
                host=endpoint.get("Address", ""),
                port=int(endpoint.get("Port") or self._catalog.port),
                parameter_group=groups[0].get("ParameterGroupName", self._catalog.parameter_group),
            )
        return self._cluster

    def wlm(self, parameter_group: str) -> WlmSettings:
        wanted = {"wlm_json_configuration", "max_concurrency_scaling_clusters"}
        values: dict[str, str] = {}
        pages = self._redshift.get_paginator("describe_cluster_parameters").paginate(
            ParameterGroupName=parameter_group)
        for page in pages:
            for parameter in page.get("Parameters", []):
                if parameter.get("ParameterName") in wanted:
                    values[parameter["ParameterName"]] = str(parameter.get("ParameterValue", ""))
        return parse_wlm(parameter_group, values)

    def credentials(self) -> DbCredentials:
        """GetClusterCredentials for the catalog's db_user (never auto-created), reused until near expiry."""
        cached = self._credentials
        if cached and cached.expires_at and cached.expires_at - CREDENTIAL_MARGIN > self._now():
            return cached
        answer = self._redshift.get_cluster_credentials(
            DbUser=self._catalog.db_user, DbName=self._catalog.database,
            ClusterIdentifier=self._catalog.cluster_id, DurationSeconds=CREDENTIAL_SECONDS, AutoCreate=False)
        expires = answer.get("Expiration")
        self._credentials = DbCredentials(user=answer["DbUser"], password=answer["DbPassword"],
                                          expires_at=expires.astimezone(UTC) if expires else None)
        return self._credentials

    # -- the database -----------------------------------------------------------------------------------

    def _where(self) -> tuple[str, int]:
        if self._settings.host:
            return self._settings.host, self._settings.port or self._catalog.port
        cluster = self.cluster()
        if not cluster.host:
            raise RedshiftError(f"cluster {cluster.cluster_id} has no endpoint yet (status {cluster.status})")
        return cluster.host, self._settings.port or cluster.port

    def _connection(self) -> Any:
        if self._conn is not None:
            return self._conn
        host, port = self._where()
        credentials = self.credentials()
        connect = self._connect
        if connect is None:
            import redshift_connector  # lazily: only this function, only when it reaches the database

            connect = redshift_connector.connect
        timeout = self._settings.statement_timeout_seconds
        try:
            conn = connect(host=host, port=port, database=self._catalog.database, user=credentials.user,
                           password=credentials.password, ssl=self._settings.ssl, timeout=timeout + 15,
                           application_name=APPLICATION_NAME)
        except Exception as error:
            raise RedshiftError(f"cannot connect to {self._catalog.cluster_id} at {host}:{port} as "
                                f"{credentials.user}: {_one_line(error, (credentials.password,))}") from None
        try:
            conn.autocommit = True
            cursor = conn.cursor()
            cursor.execute(f"SET statement_timeout TO {int(timeout) * 1000}")
            cursor.close()
        except Exception as error:
            _close_quietly(conn)
            raise RedshiftError(f"session setup on {self._catalog.cluster_id} failed: "
                                f"{_one_line(error, (credentials.password,))}") from None
        self._conn = conn
        return conn

    def _query(self, what: str, sql: str, params: tuple[Any, ...] = (), needs: str = "") -> list[tuple[Any, ...]]:
        """Run one statement; `needs` names the grant it takes (for the message when it is refused)."""
        conn = self._connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params or None)
                return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            finally:
                cursor.close()
        except Exception as error:
            secret = self._credentials.password if self._credentials else ""
            line = f"{what} failed on {self._catalog.cluster_id}: {_one_line(error, (secret,))}"
            state = _sqlstate(error)
            if state == INSUFFICIENT_PRIVILEGE:
                raise self._missing(line, needs or "a privilege") from None
            if state == QUERY_CANCELED:
                raise RedshiftTimeout(line) from None
            raise RedshiftError(line) from None

    def _missing(self, line: str, needs: str) -> RedshiftPrivilegeError:
        user = self._credentials.user if self._credentials else self._catalog.db_user
        return RedshiftPrivilegeError(f"the service user {user} lacks {needs}: run {GRANTS_FILE} as a superuser "
                                      f"(remedy redshift grants prints it for the catalog) — {line}", needs)

    def seconds_left(self) -> float | None:
        return _remaining() if _remaining is not None else None

    def close(self) -> None:
        """End the session; the next call reconnects (DescribeClusters again, credentials if expiring)."""
        conn, self._conn = self._conn, None
        self._cluster = None
        if conn is not None:
            _close_quietly(conn)

    # -- RedshiftPort -----------------------------------------------------------------------------------

    def running_queries(self) -> list[RunningQuery]:
        now = self._now()
        queries = []
        for pid, user, started, sql in self._query("reading stv_recents", SQL_RUNNING):
            started_at = _utc(started)
            queries.append(RunningQuery(pid=int(pid), user=str(user).rstrip(), started_at=started_at,
                                        seconds=max(0.0, (now - started_at).total_seconds()),
                                        sql=" ".join(str(sql).split())))
        return queries

    def queued_queries(self) -> list[QueuedQuery]:
        return [QueuedQuery(query_id=int(query), service_class=int(service_class), state=str(state).rstrip(),
                            queue_seconds=int(queue_time or 0) / 1_000_000)
                for query, service_class, state, queue_time in
                self._query("reading stv_wlm_query_state", SQL_QUEUED)]

    def table_stats(self, tables: list[tuple[str, str]]) -> list[TableStats]:
        return self._stats(tables, None)

    def stale_tables(self, tables: list[tuple[str, str]], above_percent: float) -> list[TableStats]:
        return self._stats(tables, above_percent)

    def _stats(self, tables: list[tuple[str, str]], above: float | None) -> list[TableStats]:
        pairs = [self._catalog_table(schema, table) for schema, table in tables]
        if not pairs:
            return []
        # One (schema, table) pair of placeholders per catalog table: the values are bound, never spliced.
        match = " OR ".join(['("schema" = %s AND "table" = %s)'] * len(pairs))
        sql = SQL_TABLE_STATS + f"({match})"
        params: tuple[Any, ...] = tuple(v for pair in pairs for v in pair)
        if above is not None:
            sql, params = sql + " AND stats_off > %s", (*params, float(above))
        rows = self._query("reading svv_table_info", sql + " ORDER BY stats_off DESC", params, NEEDS_TABLE_INFO)
        wanted = set(pairs)
        return [TableStats(schema=str(s).rstrip(), table=str(t).rstrip(), stats_off=float(off))
                for s, t, off in rows
                if off is not None and (str(s).rstrip(), str(t).rstrip()) in wanted]

    def analyze(self, schema: str, table: str, timeout_seconds: float | None = None) -> None:
        """ANALYZE one catalog table. A user without the privilege gets only a warning and the table is skipped
        (Redshift and PostgreSQL alike): that warning is raised as the missing privilege, not taken as done."""
        schema, table = self._catalog_table(schema, table)
        what = f"ANALYZE {schema}.{table}"
        notices = getattr(self._connection(), "notices", None)  # the driver's NoticeResponses (a deque)
        if notices is not None:
            notices.clear()
        session = self._settings.statement_timeout_seconds
        shorter = timeout_seconds is not None and timeout_seconds < session
        if shorter:  # this statement only: the session's timeout is set back after it
            self._query("setting the statement timeout",
                        f"SET statement_timeout TO {max(1, int(float(timeout_seconds or 0) * 1000))}")
        try:
            self._query(what, f"ANALYZE {qualified(schema, table)}", needs=NEEDS_OPERATOR_ANALYZE)
        finally:
            if shorter:
                self._query("setting the statement timeout",
                            f"SET statement_timeout TO {int(self._settings.statement_timeout_seconds) * 1000}")
        skipped = [n for n in notices or () if b"skipping" in (n.get(b"M") or b"")]
        if skipped:
            message = (skipped[0].get(b"M") or b"").decode(errors="replace")
            raise self._missing(f"{what} on {self._catalog.cluster_id}: {message}", NEEDS_OPERATOR_ANALYZE)

    def cancel(self, pid: int, started_at: datetime) -> bool:
        """pg_cancel_backend (Redshift's CANCEL) if `pid` still runs the query started at `started_at`: a pid
        can be reused by a new session between the diagnosis and an approval."""
        if not self._still_running(pid, started_at):
            return False
        self._query(f"cancelling pid {pid}", SQL_CANCEL, (int(pid),), NEEDS_OPERATOR_CANCEL)
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while self._still_running(pid, started_at) and time.monotonic() < deadline:
            time.sleep(0.1)  # the backend stops at its next interrupt check
        return True

    def _still_running(self, pid: int, started_at: datetime) -> bool:
        rows = self._query(f"reading stv_recents for pid {pid}", SQL_RUNNING_PID, (int(pid),))
        return any(abs((_utc(started) - started_at).total_seconds()) < 1 for (started,) in rows)

    def _catalog_table(self, schema: str, table: str) -> tuple[str, str]:
        if (schema, table) not in self._tables:
            raise ValueError(f"{schema[:60]}.{table[:60]} is not a table of the catalog: not touched")
        quote_identifier(schema)
        quote_identifier(table)
        return schema, table


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):  # the session is being dropped either way
        conn.close()
