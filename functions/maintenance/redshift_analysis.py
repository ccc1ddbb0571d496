"""Monthly Redshift query performance analysis (runbook "Monthly: Analyze Redshift query performance").

From the cluster's system tables: the slowest and the most frequent queries (stl_query + svl_qlog), the
wait per WLM queue (stl_wlm_query, stv_wlm_service_class_config), the catalog tables with stale statistics
or a high unsorted share (svv_table_info) and the disk in use (stv_partitions), whose trend comes from the
previous analyses kept in the reports bucket. Every finding ends in a recommendation a person carries out
(the job itself only reads): ANALYZE / VACUUM of catalog tables, WLM changes, a resize.

STL views keep about seven days of history: the report says from when the queries it saw date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from functions.core.catalog import Catalog
from functions.core.ports import GRANTS_FILE, PrivilegeMissing
from functions.maintenance.models import (
    DiskPoint,
    DiskUsage,
    QueryStat,
    QueueStat,
    Recommendation,
    RedshiftAnalysis,
    TableHealth,
)
from functions.maintenance.ports import QueueConfig, QueueRow, RedshiftHistoryPort

HISTORY_POINTS = 12  # months of disk usage carried from one analysis to the next


def _quoted(schema: str, table: str) -> str:
    return f'"{schema}"."{table}"'  # catalog SqlIdentifiers: [a-z_][a-z0-9_]*, nothing to escape


def _queues(rows: list[QueueRow], config: list[QueueConfig]) -> list[QueueStat]:
    named = {c.service_class: c for c in config}
    return [QueueStat(service_class=r.service_class,
                      name=named[r.service_class].name if r.service_class in named else f"service class "
                                                                                         f"{r.service_class}",
                      slots=named[r.service_class].slots if r.service_class in named else None,
                      queries=r.queries, avg_wait_seconds=round(r.avg_wait_seconds, 2),
                      p90_wait_seconds=round(r.p90_wait_seconds, 2), max_wait_seconds=round(r.max_wait_seconds, 2),
                      total_wait_seconds=round(r.total_wait_seconds, 1)) for r in rows]


def disk_usage(used: int, capacity: int, previous: dict[str, Any] | None, period: str,
               threshold: float) -> DiskUsage:
    percent = round(100 * used / capacity, 1) if capacity else 0.0
    history = []
    if previous:
        for point in (previous.get("disk") or {}).get("history") or []:
            if isinstance(point, dict) and point.get("period") != period:
                history.append(DiskPoint(period=str(point["period"]), used_percent=float(point["used_percent"])))
    history = [*history[-(HISTORY_POINTS - 1):], DiskPoint(period=period, used_percent=percent)]
    growth = None
    if len(history) >= 2:
        growth = round((history[-1].used_percent - history[0].used_percent) / (len(history) - 1), 2)
    months = None
    if growth and growth > 0 and percent < threshold:
        months = round((threshold - percent) / growth, 1)
    return DiskUsage(used_mb=used, capacity_mb=capacity, used_percent=percent, history=history,
                     growth_points_per_month=growth, months_to_threshold=months, threshold_percent=threshold)


def recommendations(catalog: Catalog, tables: list[TableHealth], queues: list[QueueStat], slowest: list[QueryStat],
                    frequent: list[QueryStat], disk: DiskUsage | None) -> list[Recommendation]:
    rails, found = catalog.maintenance, []
    known = catalog.tables_qualified()  # a command names catalog identifiers only (quoted below)
    for t in [t for t in tables if t.table in known]:
        schema, table = t.table.split(".", 1)
        if t.stats_off is not None and t.stats_off > catalog.thresholds.stats_off_percent:
            found.append(Recommendation(kind="ANALYZE", target=t.table, command=f"ANALYZE {_quoted(schema, table)};",
                                        reason=f"statistics {t.stats_off:.0f}% off (threshold "
                                               f"{catalog.thresholds.stats_off_percent:.0f}%): the planner "
                                               f"misjudges joins and scans"))
        if t.unsorted is not None and t.unsorted > rails.unsorted_percent:
            found.append(Recommendation(kind="VACUUM", target=t.table,
                                        command=f"VACUUM SORT ONLY {_quoted(schema, table)};",
                                        reason=f"{t.unsorted:.0f}% unsorted (threshold {rails.unsorted_percent:.0f}%):"
                                               f" range-restricted scans read blocks they could skip"))
    for queue in queues:
        if queue.p90_wait_seconds > rails.queue_wait_p90_seconds:
            slots = f"{queue.slots} slots" if queue.slots else "its slots"
            more = f"{queue.slots} -> {queue.slots + 2}" if queue.slots else "+2"
            found.append(Recommendation(
                kind="WLM", target=f"queue {queue.name} (service class {queue.service_class})",
                command=f"wlm_json_configuration: query_concurrency {more}, or concurrency_scaling auto, "
                        f"or automatic WLM (parameter group {catalog.redshift.parameter_group})",
                reason=f"90% of its {queue.queries} queries waited up to {queue.p90_wait_seconds:.0f} s for one of "
                       f"{slots} (threshold {rails.queue_wait_p90_seconds:.0f} s); "
                       f"worst wait {queue.max_wait_seconds:.0f} s"))
    long = catalog.thresholds.long_query_seconds
    for q in slowest:
        if q.avg_seconds > long:
            found.append(Recommendation(kind="QUERY", target=q.sql[:80],
                                        reason=f"runs {q.avg_seconds / 60:.0f} min on average ({q.runs} runs): "
                                               f"EXPLAIN it; check sort and distribution keys of the tables it "
                                               f"joins", command="EXPLAIN <the query>"))
    total = sum(q.total_seconds for q in frequent) or 0.0
    if frequent and total and frequent[0].total_seconds / total > 0.25 and frequent[0].runs >= 100:
        q = frequent[0]
        found.append(Recommendation(kind="QUERY", target=q.sql[:80],
                                    reason=f"{q.runs} runs take {q.total_seconds / 3600:.1f} h in all, "
                                           f"{100 * q.total_seconds / total:.0f}% of the frequent queries' time: "
                                           f"a materialized view or result caching would pay",
                                    command="CREATE MATERIALIZED VIEW ... AUTO REFRESH YES"))
    if disk is not None and (disk.used_percent >= disk.threshold_percent
                             or (disk.months_to_threshold is not None and disk.months_to_threshold <= 3)):
        when = (f"now at {disk.used_percent:.0f}%" if disk.used_percent >= disk.threshold_percent
                else f"{disk.used_percent:.0f}% growing {disk.growth_points_per_month:.1f} points a month: "
                     f"{disk.threshold_percent:.0f}% in about {disk.months_to_threshold:.0f} months")
        found.append(Recommendation(kind="DISK", target=catalog.redshift.cluster_id,
                                    reason=f"disk {when}: plan a resize (scaling procedure, with approval) or "
                                           f"unload cold partitions", command=""))
    return found


def analyse(catalog: Catalog, history: RedshiftHistoryPort, start: datetime, end: datetime, period: str,
            previous: dict[str, Any] | None) -> RedshiftAnalysis:
    limit = catalog.maintenance.top_queries
    refused: list[Recommendation] = []

    def read(view: str, call: Callable[[], Any], default: Any) -> Any:
        """A system view the database refuses the service user costs its section, not the analysis."""
        try:
            return call()
        except PrivilegeMissing as error:
            refused.append(Recommendation(kind="GRANT", target=view, reason=str(error),
                                          command=f"{GRANTS_FILE} (remedy redshift grants --env {catalog.env})"))
            return default

    slow_rows = history.query_stats(start, end, "max", limit)
    frequent_rows = history.query_stats(start, end, "runs", limit)
    queues = _queues(history.queue_waits(start, end), read("stv_wlm_service_class_config", history.queue_config, []))
    tables = [TableHealth(table=f"{r.schema}.{r.table}", stats_off=r.stats_off, unsorted=r.unsorted,
                          size_mb=r.size_mb, rows=r.rows)
              for r in read("svv_table_info",
                            lambda: history.table_health([(t.schema_name, t.name) for t in catalog.redshift.tables]),
                            [])]
    used, capacity = read("stv_partitions", history.disk, (0, 0))
    disk = disk_usage(used, capacity, previous, period, catalog.maintenance.disk_used_percent) if capacity else None
    slowest = [_stat(r) for r in slow_rows]
    frequent = [_stat(r) for r in frequent_rows]
    seen = [r.first_seen for r in slow_rows + frequent_rows if r.first_seen is not None]
    return RedshiftAnalysis(cluster_id=catalog.redshift.cluster_id, window_start=start, window_end=end,
                            history_from=min(seen) if seen else None, slowest=slowest, frequent=frequent,
                            queues=queues, tables=sorted(tables, key=lambda t: t.table), disk=disk,
                            recommendations=refused + recommendations(catalog, tables, queues, slowest, frequent,
                                                                      disk))


def _stat(row: Any) -> QueryStat:
    return QueryStat(sql=row.sql, runs=row.runs, avg_seconds=round(row.avg_seconds, 2),
                     max_seconds=round(row.max_seconds, 2), total_seconds=round(row.total_seconds, 1))


def render(catalog: Catalog, report: RedshiftAnalysis, period: str) -> tuple[str, str]:
    subject = f"[{catalog.prefix}] Redshift analysis {period}: {len(report.recommendations)} recommendation(s)"
    since = f" (system tables hold queries since {report.history_from:%Y-%m-%d})" if report.history_from else ""
    lines = [f"Redshift query performance of {report.cluster_id}, {period}{since}", "", "SLOWEST QUERIES"]
    lines += [f"  max {q.max_seconds:,.0f} s, avg {q.avg_seconds:,.1f} s, {q.runs} runs: {q.sql[:90]}"
              for q in report.slowest[:5]] or ["  none recorded"]
    lines += ["", "MOST FREQUENT QUERIES"]
    lines += [f"  {q.runs} runs, {q.total_seconds:,.0f} s in all: {q.sql[:90]}" for q in report.frequent[:5]] \
        or ["  none recorded"]
    lines += ["", "WLM QUEUES"]
    lines += [f"  {q.name} (class {q.service_class}, {q.slots or '?'} slots): {q.queries} queries, wait avg "
              f"{q.avg_wait_seconds:.1f} s, p90 {q.p90_wait_seconds:.1f} s, max {q.max_wait_seconds:.1f} s"
              for q in report.queues] or ["  no queued queries recorded"]
    lines += ["", "TABLES"]
    lines += [f"  {t.table}: stats off {_pct(t.stats_off)}, unsorted {_pct(t.unsorted)}, {t.size_mb} MB, "
              f"{t.rows:,} rows" for t in report.tables]
    if report.disk:
        d = report.disk
        trend = " -> ".join(f"{p.period} {p.used_percent:.0f}%" for p in d.history)
        lines += ["", f"DISK {d.used_percent:.1f}% used ({d.used_mb:,} of {d.capacity_mb:,} MB): {trend}"]
    lines += ["", "RECOMMENDATIONS"]
    lines += [f"  {r.kind} {r.target}: {r.reason}" + (f"\n      {r.command}" if r.command else "")
              for r in report.recommendations] or ["  none: the cluster is in good shape"]
    return subject, "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"
