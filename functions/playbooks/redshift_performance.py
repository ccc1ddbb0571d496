"""Runbook: "Redshift Performance Issues" (CPU > 80 %, queries waiting in WLM).

1. Check query queue          -> stv_recents (running, run time from starttime) and stv_wlm_query_state
                                 (queued, queue_time); a query running beyond thresholds.long_query_seconds
                                 is cancelled (destructive: a person approves unless the catalog says not)
2. Review WLM settings        -> wlm_json_configuration of the cluster's parameter group: automatic or
                                 manual, queues, concurrency scaling. Said, never changed here
3. Analyze tables             -> catalog tables whose svv_table_info.stats_off is above
                                 thresholds.stats_off_percent: ANALYZE exactly those, nothing else
4. Consider resizing cluster  -> when the queue is long and nothing above explains it: a recommendation
                                 for the scaling procedure (with its approval), never an action here
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import functions.actions.redshift  # noqa: F401 - registers the actions this playbook plans
from functions.core.alarms import AlarmSpec, metric
from functions.core.catalog import Catalog
from functions.core.errors import error_code
from functions.core.models import (
    Action,
    ActionResult,
    Finding,
    Incident,
    Plan,
    Verification,
    VerificationStatus,
)
from functions.core.naming import alarm_name
from functions.core.ports import (
    PlaybookPorts,
    PrivilegeMissing,
    QueuedQuery,
    RedshiftCluster,
    RedshiftPort,
    RunningQuery,
    TableStats,
    WlmSettings,
)
from functions.playbooks import PlaybookDeclaration

MAX_CANCELS = 3  # per incident, longest first: the rest is said, not planned
SQL_SHOWN = 80  # characters of a query's text shown to people


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def _shown(sql: str) -> str:
    return sql if len(sql) <= SQL_SHOWN else sql[:SQL_SHOWN - 1] + "…"


class RedshiftPerformance:
    name = "redshift_performance"

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: PlaybookPorts) -> Plan:
        component = f"redshift:{catalog.redshift.cluster_id}"
        if incident.resource != component:
            return Plan(playbook=self.name, recommendations=[
                f"{incident.resource} is not the catalog's Redshift cluster ({component}): check the alarm "
                f"{incident.alarm_name}; nothing was changed."])
        port = ports.redshift
        cluster = port.cluster()
        findings = [Finding(check="cluster available", ok=cluster.available,
                            detail=f"cluster {cluster.cluster_id} is {cluster.status} "
                                   f"({cluster.nodes} x {cluster.node_type})")]
        if not cluster.available:
            return Plan(playbook=self.name, findings=findings, recommendations=[
                f"{cluster.cluster_id} is {cluster.status}: no query is analyzed or cancelled until it is "
                f"available again; nothing was changed."])
        wlm, wlm_finding = self._wlm(port, cluster)
        findings.append(wlm_finding)

        me = port.credentials().user  # our own session shows in stv_recents too: never judged, never cancelled
        tables = [(t.schema_name, t.name) for t in catalog.redshift.tables]
        threshold = catalog.thresholds.stats_off_percent
        # A privilege the database refuses (the grants file not run, or only in part) costs that check, not the
        # diagnosis: the other checks still run and the refusal is said, with the grant that is missing.
        refused: dict[str, str] = {}
        running = [q for q in self._read("running queries", port.running_queries, refused) if q.user != me]
        queued = self._read("WLM queue", port.queued_queries, refused)
        # Restricted to the catalog twice over: the query names only catalog tables, and so does this filter.
        stale = [s for s in self._read("table statistics", lambda: port.stale_tables(tables, threshold), refused)
                 if (s.schema, s.table) in tables and s.stats_off > threshold]

        limit = catalog.thresholds.long_query_seconds
        long_running = sorted((q for q in running if q.seconds > limit), key=lambda q: -q.seconds)
        waiting = [q for q in queued if q.queue_seconds > catalog.thresholds.wlm_queue_wait_seconds]
        checks = {"running queries": lambda: self._running_finding(running, long_running, limit),
                  "WLM queue": lambda: self._queue_finding(queued, waiting, catalog.thresholds.wlm_queue_wait_seconds),
                  "table statistics": lambda: self._stats_finding(stale, len(tables), threshold)}
        findings += [Finding(check=check, ok=False, detail=refused[check]) if check in refused else finding()
                     for check, finding in checks.items()]

        actions: list[Action] = []
        recommendations: list[str] = []
        if stale:
            actions.append(Action(
                name="redshift.analyze_tables", target=component,
                params={"tables": [s.qualified for s in stale]},
                reason="stale statistics mislead the query planner: " +
                       ", ".join(f"{s.qualified} stats_off {s.stats_off:.2f}%" for s in stale) +
                       f" (above {threshold:g}%)"))
        for query in long_running[:MAX_CANCELS]:
            actions.append(Action(
                name="redshift.cancel_query", target=f"{component}/queries",
                params={"pid": query.pid, "started_at": query.started_at.isoformat(), "user": query.user},
                reason=f"pid {query.pid} of {query.user} has run {duration(query.seconds)} "
                       f"(limit {duration(limit)}): {_shown(query.sql)}"))
        if len(long_running) > MAX_CANCELS:
            rest = ", ".join(str(q.pid) for q in long_running[MAX_CANCELS:])
            recommendations.append(f"{len(long_running) - MAX_CANCELS} more queries run beyond the limit "
                                   f"(pids {rest}): review them after the first {MAX_CANCELS}.")
        recommendations += [f"{check} not checked: {reason}" for check, reason in refused.items()]
        if not actions and not refused:
            recommendations += self._without_a_cause(catalog, cluster, wlm, queued, waiting)
        return Plan(playbook=self.name, findings=findings, actions=actions, recommendations=recommendations)

    # -- diagnosis --------------------------------------------------------------------------------------

    @staticmethod
    def _read(check: str, read: Callable[[], list[Any]], refused: dict[str, str]) -> list[Any]:
        """`read()`, or nothing when the database refuses the service user (the reason kept in `refused`)."""
        try:
            return read()
        except PrivilegeMissing as error:
            refused[check] = str(error)
            return []

    @staticmethod
    def _wlm(port: RedshiftPort, cluster: RedshiftCluster) -> tuple[WlmSettings | None, Finding]:
        try:
            wlm = port.wlm(cluster.parameter_group)
        except Exception as error:  # WLM explains, it does not decide: an unreadable group is said, not fatal
            code = error_code(error) or type(error).__name__
            return None, Finding(check="WLM settings", ok=False,
                                 detail=f"WLM settings of parameter group {cluster.parameter_group} unreadable "
                                        f"({code})")
        kind = "automatic WLM" if wlm.auto_wlm else "manual WLM"
        scaling = (f"concurrency scaling on {wlm.concurrency_scaling_queues} of {wlm.queues} queue(s)"
                   if wlm.concurrency_scaling_queues else "concurrency scaling off")
        clusters = (f", max_concurrency_scaling_clusters {wlm.max_concurrency_scaling_clusters}"
                    if wlm.max_concurrency_scaling_clusters is not None else "")
        sqa = ", short query acceleration on" if wlm.short_query_acceleration else ""
        return wlm, Finding(check="WLM settings", ok=True,
                            detail=f"{kind} ({wlm.parameter_group}): {wlm.queues} queue(s), {scaling}{clusters}{sqa}")

    @staticmethod
    def _running_finding(running: list[RunningQuery], long_running: list[RunningQuery], limit: int) -> Finding:
        if not running:
            return Finding(check="running queries", ok=True, detail="stv_recents: no other query running")
        top = max(running, key=lambda q: q.seconds)
        over = f", {len(long_running)} beyond the {duration(limit)} limit" if long_running else ""
        return Finding(check="running queries", ok=not long_running,
                       detail=f"stv_recents: {len(running)} running{over}; longest pid {top.pid} of {top.user} "
                              f"for {duration(top.seconds)}: {_shown(top.sql)}")

    @staticmethod
    def _queue_finding(queued: list[QueuedQuery], waiting: list[QueuedQuery], limit: int) -> Finding:
        if not queued:
            return Finding(check="WLM queue", ok=True, detail="stv_wlm_query_state: no query queued")
        top = max(queued, key=lambda q: q.queue_seconds)
        return Finding(check="WLM queue", ok=not waiting,
                       detail=f"stv_wlm_query_state: {len(queued)} queued, {len(waiting)} waiting longer than "
                              f"{duration(limit)}; longest wait {duration(top.queue_seconds)} "
                              f"(query {top.query_id}, service class {top.service_class})")

    @staticmethod
    def _stats_finding(stale: list[TableStats], count: int, threshold: float) -> Finding:
        if not stale:
            return Finding(check="table statistics", ok=True,
                           detail=f"svv_table_info: stats_off at most {threshold:g}% on the {count} catalog tables")
        return Finding(check="table statistics", ok=False,
                       detail=f"svv_table_info: stats_off above {threshold:g}% on " +
                              ", ".join(f"{s.qualified} ({s.stats_off:.2f}%)" for s in stale))

    @staticmethod
    def _without_a_cause(catalog: Catalog, cluster: RedshiftCluster, wlm: WlmSettings | None,
                         queued: list[QueuedQuery],
                         waiting: list[QueuedQuery]) -> list[str]:
        """Runbook step 4, said to a person: only when neither statistics nor a runaway query explain it."""
        if not waiting:
            return [f"no stale statistics, no query beyond the limit and no queue on {cluster.cluster_id}: the "
                    f"load is the workload itself. Look at the heaviest queries (svl_query_metrics_summary); if "
                    f"CPU stays high, resize through the scaling procedure. Nothing was changed."]
        advice = []
        if wlm is not None and not wlm.auto_wlm and wlm.concurrency_scaling_queues == 0:
            advice.append(f"{len(waiting)} queries wait in manual WLM queues without concurrency scaling: set "
                          f"\"concurrency_scaling\": \"auto\" on the busy queue in parameter group "
                          f"{cluster.parameter_group} before resizing.")
        cap = catalog.guardrails.max_redshift_nodes
        if cluster.nodes < cap:
            advice.append(f"queue pressure ({len(waiting)} of {len(queued)} queued queries waiting) that neither "
                          f"stale statistics nor a runaway query explain: consider resizing {cluster.cluster_id} "
                          f"from {cluster.nodes} to {min(cluster.nodes * 2, cap)} x {cluster.node_type} — use the "
                          f"scaling procedure (runbook: Scaling / Scale Redshift, with approval). Nothing was "
                          f"changed.")
        else:
            advice.append(f"queue pressure ({len(waiting)} queries waiting) with {cluster.cluster_id} already at "
                          f"the cap of {cap} nodes (guardrails.max_redshift_nodes): a bigger node type or a "
                          f"higher cap is a decision for a person — use the scaling procedure. Nothing was "
                          f"changed.")
        return advice

    # -- verification -----------------------------------------------------------------------------------

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: PlaybookPorts) -> Verification:
        """Against the database, not the driver's return: stats_off read again from svv_table_info,
        the cancelled query gone from stv_recents."""
        checks = []
        for result in results:
            if result.action.name == "redshift.analyze_tables":
                checks.append(self._analyzed(result, catalog, ports.redshift))
            elif result.action.name == "redshift.cancel_query":
                checks.append(self._cancelled(result, ports.redshift))
        statuses = {status for status, _ in checks}
        status = (VerificationStatus.FAILED if VerificationStatus.FAILED in statuses else
                  VerificationStatus.INCONCLUSIVE if VerificationStatus.INCONCLUSIVE in statuses or not checks else
                  VerificationStatus.VERIFIED)
        return Verification(status=status, detail="; ".join(detail for _, detail in checks) or "nothing to check")

    @staticmethod
    def _analyzed(result: ActionResult, catalog: Catalog, port: RedshiftPort) -> tuple[VerificationStatus, str]:
        names = list(result.changed.get("tables", []))
        left = list(result.changed.get("left", []))  # not analyzed: the invocation's time ran out
        later = f"; not analyzed in this run (time ran out): {', '.join(left)}" if left else ""
        if not names:
            return VerificationStatus.INCONCLUSIVE, f"no table was analyzed{later}"
        pairs = [(n.split(".", 1)[0], n.split(".", 1)[1]) for n in names]
        threshold = catalog.thresholds.stats_off_percent
        now = {s.qualified: s.stats_off for s in port.table_stats(pairs)}
        missing = [n for n in names if n not in now]
        still = [n for n in names if n in now and now[n] > threshold]
        shown = ", ".join(f"{n} {now[n]:.2f}%" for n in names if n in now)
        if still:
            return VerificationStatus.FAILED, (f"stats_off still above {threshold:g}% after ANALYZE: "
                                               + ", ".join(f"{n} {now[n]:.2f}%" for n in still) + later)
        if missing:
            return VerificationStatus.INCONCLUSIVE, (f"svv_table_info lists no row for {', '.join(missing)}"
                                                     + (f"; {shown}" if shown else "") + later)
        return VerificationStatus.VERIFIED, f"stats_off now {shown} (threshold {threshold:g}%){later}"

    @staticmethod
    def _cancelled(result: ActionResult, port: RedshiftPort) -> tuple[VerificationStatus, str]:
        pid = int(result.changed.get("pid", 0))
        if not result.changed.get("cancelled"):
            return VerificationStatus.VERIFIED, f"pid {pid} had already ended"
        started = datetime.fromisoformat(str(result.changed.get("started_at")))
        alive = [q for q in port.running_queries()
                 if q.pid == pid and abs((q.started_at - started).total_seconds()) < 1]
        if alive:
            return VerificationStatus.FAILED, f"pid {pid} is still running in stv_recents after the cancel"
        return VerificationStatus.VERIFIED, f"pid {pid} no longer runs (stv_recents)"


# --- The declaration: what CDK, the catalog and the docs derive from (functions/playbooks/__init__.py) ------

RUNBOOK = "Common Issues and Resolutions / Redshift Performance Issues"
REDSHIFT_QUEUE_LENGTH = 5.0  # more queries waiting for a WLM slot than one default queue runs at once (5)


def redshift_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Runbook 'Alarms: Redshift CPU > 80 %' and queries waiting in WLM: the two signals of this playbook (disk
    and health page on call: infra/signals.py)."""
    cluster = catalog.redshift.cluster_id
    component = f"redshift:{cluster}"
    dims = {"ClusterIdentifier": cluster}  # the cluster-level series (every node, leader included)

    def spec(signal: str, runbook: str, what: str, **kwargs: Any) -> AlarmSpec:
        return AlarmSpec(name=alarm_name(catalog.prefix, signal, component), signal=signal, component=component,
                         description=f"{what} of Redshift cluster {cluster}. Runbook: {runbook}", **kwargs)

    cpu = catalog.thresholds.redshift_cpu_percent
    return [
        spec("redshift-cpu", f"Monitoring / Alarms: Redshift CPU > {cpu:g} %; remediated by playbook "
                             f"redshift_performance ({RUNBOOK})", "CPU utilisation",
             # The 5-minute average: hourly batch loads spike CPU for a minute or two; that is not "high CPU".
             metric=metric("AWS/Redshift", "CPUUtilization", dims, "Average", 300),
             threshold=cpu,
             # "Should be < 80 %": 80 % itself is still healthy.
             comparison="GreaterThanThreshold",
             # 15 minutes over, every period: sustained load the runbook's "Check query queue" is about.
             evaluation_periods=3, datapoints_to_alarm=3,
             # Redshift publishes every minute while the cluster is available: silence is a paused or
             # resizing cluster, i.e. no load. (As INSUFFICIENT_DATA, every resume would notify on call
             # with an OK; availability is redshift-health's job.)
             treat_missing_data="notBreaching",
             title="CPU utilisation %"),
        spec("redshift-queue", f"{RUNBOOK} / Check query queue, review WLM; remediated by playbook "
                               "redshift_performance", "Queries waiting in WLM queues (WLMQueueLength)",
             # WLMQueueLength has a cluster-level series (ClusterIdentifier only) that sums every queue:
             # it needs no service class or queue name, which depend on the WLM configuration the catalog
             # does not describe (manual or auto WLM). The wait time (WLMQueueWaitTime) exists only per
             # queue: it is on the dashboard, and the playbook reads the waits from stv_wlm_query_state.
             metric=metric("AWS/Redshift", "WLMQueueLength", dims, "Average", 300),
             threshold=REDSHIFT_QUEUE_LENGTH,
             comparison="GreaterThanThreshold",
             # 15 minutes with a queue: the hourly loads queue briefly, a saturated WLM stays queued.
             evaluation_periods=3, datapoints_to_alarm=3,
             # Published every minute with the cluster up: silence (paused cluster) is no queue.
             treat_missing_data="notBreaching",
             title="Queries waiting in WLM queues"),
    ]


DECLARATION = PlaybookDeclaration(
    name="redshift_performance",
    runbook_section=RUNBOOK,
    signals=("redshift-cpu", "redshift-queue"),
    alarms=redshift_alarms,
    # DescribeClusters: status, endpoint, parameter group; DescribeClusterParameters: wlm_json_configuration;
    # GetClusterCredentials: temporary database credentials for the diagnosis's SQL (stv_recents,
    # stv_wlm_query_state, svv_table_info), which itself needs no IAM.
    reads=("redshift:DescribeClusters", "redshift:DescribeClusterParameters", "redshift:GetClusterCredentials"),
    actions=("redshift.analyze_tables", "redshift.cancel_query"),
    requirements=("redshift-connector==2.2.0",),
    in_vpc=True,
    scenario="redshift-stale-stats-recommend",
)
