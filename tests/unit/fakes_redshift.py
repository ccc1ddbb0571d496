"""In-memory Redshift cluster behind the RedshiftPort: state you can read back (what was analyzed, what
still runs), with the adapter's rules (catalog tables only; a reused pid is not cancelled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.core.adapters.redshift import RedshiftError
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
from tests.unit.fakes import FakeAlarms

AUTO_WLM = WlmSettings(parameter_group="default.redshift-1.0", auto_wlm=True, queues=1,
                       concurrency_scaling_queues=0, max_concurrency_scaling_clusters=1)


class FakeRedshift:
    def __init__(self, now: datetime, catalog_tables: set[tuple[str, str]] | None = None):
        self.now = now
        self.catalog_tables = catalog_tables or {("analytics", "fact_sales"), ("analytics", "dim_customer")}
        self.status = "available"
        self.nodes = 2
        self.node_type = "ra3.xlplus"
        self.wlm_settings: WlmSettings | Exception = AUTO_WLM
        self.user = "IAM:remedy"
        self.stats: dict[tuple[str, str], float] = {t: 0.0 for t in self.catalog_tables}
        self.running: list[RunningQuery] = []
        self.queued: list[QueuedQuery] = []
        self.analyzed: list[tuple[str, str]] = []
        self.cancelled: list[int] = []
        self.analyze_has_no_effect = False  # e.g. no MAINTAIN privilege: the database only warns
        self.error: Exception | None = None  # raised by every database call (unreachable, refused ...)
        self.ignore_table_filter = False  # a careless database that answers more than was asked
        self.sql_calls = 0
        # Calls the database refuses the service user: method name -> the grant it lacks (grants file not run).
        self.refused: dict[str, str] = {}
        self.time_left: float | None = None  # seconds the invocation has left (None: no deadline known)
        self.analyze_seconds: dict[tuple[str, str], float] = {}  # how long ANALYZE takes (default 0.1 s)

    # -- fault injection ---------------------------------------------------------------------------------

    def run_query(self, pid: int, user: str, seconds: float, sql: str = "SELECT * FROM analytics.fact_sales") -> None:
        self.running.append(RunningQuery(pid=pid, user=user, started_at=self.now - timedelta(seconds=seconds),
                                         seconds=seconds, sql=sql))

    def queue_query(self, query_id: int, seconds: float, service_class: int = 100) -> None:
        self.queued.append(QueuedQuery(query_id=query_id, service_class=service_class, state="Queued",
                                       queue_seconds=seconds))

    # -- RedshiftPort ------------------------------------------------------------------------------------

    def cluster(self) -> RedshiftCluster:
        return RedshiftCluster(cluster_id="retail-redshift-dev", status=self.status, node_type=self.node_type,
                               nodes=self.nodes, host="retail-redshift-dev.example.internal", port=5439,
                               parameter_group="default.redshift-1.0")

    def wlm(self, parameter_group: str) -> WlmSettings:
        if isinstance(self.wlm_settings, Exception):
            raise self.wlm_settings
        return self.wlm_settings

    def credentials(self) -> DbCredentials:
        return DbCredentials(user=self.user, password="fake-temporary-password",
                             expires_at=self.now + timedelta(minutes=15))

    def _sql(self, call: str = "") -> None:
        self.sql_calls += 1
        if self.error is not None:
            raise self.error
        if call in self.refused:
            needs = self.refused[call]
            raise PrivilegeMissing(f"the service user {self.user} lacks {needs}: run {GRANTS_FILE} as a superuser",
                                   needs)

    def _spend(self, seconds: float) -> None:
        if self.time_left is not None:
            self.time_left -= seconds

    def seconds_left(self) -> float | None:
        return self.time_left

    def running_queries(self) -> list[RunningQuery]:
        self._sql("running_queries")
        return list(self.running)

    def queued_queries(self) -> list[QueuedQuery]:
        self._sql("queued_queries")
        return list(self.queued)

    def table_stats(self, tables: list[tuple[str, str]]) -> list[TableStats]:
        self._sql("table_stats")
        for table in tables:
            self._catalog_table(*table)
        return [TableStats(schema=s, table=t, stats_off=off) for (s, t), off in self.stats.items()
                if self.ignore_table_filter or (s, t) in tables]

    def stale_tables(self, tables: list[tuple[str, str]], above_percent: float) -> list[TableStats]:
        return sorted((s for s in self.table_stats(tables) if s.stats_off > above_percent),
                      key=lambda s: -s.stats_off)

    def analyze(self, schema: str, table: str, timeout_seconds: float | None = None) -> None:
        self._sql("analyze")
        self._catalog_table(schema, table)
        takes = self.analyze_seconds.get((schema, table), 0.1)
        if timeout_seconds is not None and takes > timeout_seconds:  # stopped by its statement timeout
            self._spend(timeout_seconds)
            raise OutOfTime(f"ANALYZE {schema}.{table}: canceling statement due to statement timeout")
        self._spend(takes)
        self.analyzed.append((schema, table))
        if not self.analyze_has_no_effect:
            self.stats[(schema, table)] = 0.0

    def cancel(self, pid: int, started_at: datetime) -> bool:
        self._sql("cancel")
        match = [q for q in self.running if q.pid == pid and q.started_at == started_at.astimezone(UTC)]
        if not match:
            return False
        self.cancelled.append(pid)
        self.running = [q for q in self.running if q not in match]
        return True

    def _catalog_table(self, schema: str, table: str) -> None:
        if (schema, table) not in self.catalog_tables:
            raise ValueError(f"{schema}.{table} is not a table of the catalog: not touched")


@dataclass
class RedshiftPorts:
    redshift: FakeRedshift
    alarms: FakeAlarms = field(default_factory=FakeAlarms)


def driver_error(message: str) -> Exception:
    """What the adapter raises for a connector failure (one line, no secret)."""
    return RedshiftError(message)


def as_params(query: RunningQuery) -> dict[str, Any]:
    return {"pid": query.pid, "started_at": query.started_at.isoformat(), "user": query.user}
