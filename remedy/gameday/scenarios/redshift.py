"""Runbook: Redshift Performance Issues — CPU > 80 % with stale statistics, a runaway query, a long queue.

The cluster is the sandbox's Redshift stand-in (a real PostgreSQL reached through redshift-connector);
the faults are real: rows appended without ANALYZE raise svv_table_info.stats_off, an injected session
really runs until it is cancelled. The dev catalog keeps redshift_performance in recommend mode; the
scenarios that act use a catalog variant in auto mode (sandbox.catalog_variant).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from sandbox.catalog_variant import catalog_variant
from sandbox.redshift import RedshiftStandIn
from sandbox.redshift_wiring import reset_redshift, running_pids, stats_off

SECTION = "Common Issues / Redshift Performance Issues"
PLAYBOOK = "redshift_performance"
RUNAWAY_SQL = ("SELECT c.segment, s.sale_date, sum(s.amount) FROM analytics.fact_sales s "
               "CROSS JOIN analytics.dim_customer c GROUP BY 1, 2")


def alarm_name(d: Drill, signal: str) -> str:
    return f"{d.catalog.prefix}/{signal}/redshift:{d.catalog.redshift.cluster_id}"


def cluster(d: Drill) -> RedshiftStandIn:
    """The stand-in, healthy (no injected query, fresh statistics) whatever the scenario before did."""
    standin = reset_redshift(d.sandbox)
    d.say("note", f"Redshift stand-in {d.catalog.redshift.cluster_id} on {standin.host}:{standin.port} "
                  f"(PostgreSQL behind redshift-connector), catalog tables freshly seeded")
    return standin


def stale(d: Drill, standin: RedshiftStandIn, schema: str, table: str) -> float:
    added = standin.make_stats_stale(schema, table)
    off = stats_off(standin, schema, table) or 0.0
    d.say("inject", f"{added:,} rows appended to {schema}.{table} without ANALYZE: stats_off {off:.2f}%")
    return off


def cpu_high(d: Drill) -> dict[str, Any]:
    """AWS/Redshift CPUUtilization above the threshold for the alarm's whole window; returns the handler's
    outcome for the redshift-cpu alarm."""
    return trip(d, "redshift-cpu", "CPUUtilization", d.catalog.thresholds.redshift_cpu_percent)


def trip(d: Drill, signal: str, metric: str, threshold: float) -> dict[str, Any]:
    """Publish `metric` for the cluster above the synthesized alarm's threshold in every period of its
    evaluation window; the alarm decides, its event is routed to the handler. Returns the outcome."""
    name = alarm_name(d, signal)
    props = d.sandbox.deployment.alarms.get(name)
    period = int(props["Period"]) if props else 300
    periods = int(props["EvaluationPeriods"]) if props else 3
    threshold = float(props["Threshold"]) if props else threshold
    values = [round(threshold * 1.1 + 1 + i, 1) for i in range(periods)]
    cluster_id = d.catalog.redshift.cluster_id
    d.sandbox.put_metric("AWS/Redshift", metric, {"ClusterIdentifier": cluster_id}, values, period=period,
                         end=d.now)
    d.say("inject", f"{metric} of {cluster_id}: {values} (one per {period // 60} min, threshold {threshold:g})")
    if props is not None:
        deliveries = [x for x in d.fire() if x.event["detail"]["alarmName"] == name]
    else:
        d.say("note", f"{name} is not in the synthesized templates: the event CloudWatch would send is built "
                      f"by hand and routed by the synthesized rules")
        deliveries = [d.deliver(_hand_built_event(d, name, metric, threshold, values, period))]
    results = [i.result for x in deliveries for i in x.invocations if isinstance(i.result, dict)]
    return results[-1] if results else {}


def _hand_built_event(d: Drill, name: str, metric: str, threshold: float, values: list[float],
                      period: int) -> dict[str, Any]:
    from sandbox.alarms import Evaluation, state_change_event

    props = {"Namespace": "AWS/Redshift", "MetricName": metric, "Statistic": "Average", "Period": period,
             "Dimensions": [{"Name": "ClusterIdentifier", "Value": d.catalog.redshift.cluster_id}],
             "Threshold": threshold, "ComparisonOperator": "GreaterThanThreshold",
             "EvaluationPeriods": len(values), "DatapointsToAlarm": len(values)}
    evaluation = Evaluation(name, "OK", "ALARM",
                            f"Threshold Crossed: {len(values)} datapoints {values} were greater than the threshold "
                            f"({threshold}).", {"version": "1.0", "recentDatapoints": values, "threshold": threshold},
                            [float(v) for v in values])
    return state_change_event(evaluation, props, d.catalog.account_id, d.catalog.region, at=d.now.astimezone(UTC))


def _decisions(d: Drill) -> list[dict[str, Any]]:
    return [r["payload"] for r in d.audit("decision")]


@scenario("redshift-stale-stats-recommend",
          "CPU high, stale statistics, dev catalog (recommend): the exact ANALYZE is recommended, nothing run",
          SECTION)
def stale_stats_recommend(d: Drill) -> None:
    standin = cluster(d)
    before = stale(d, standin, "analytics", "fact_sales")
    outcome = cpu_high(d)
    d.expect("the playbook recommends rather than acts (catalog: redshift_performance mode recommend)",
             outcome.get("status") == "RECOMMENDED", outcome.get("summary", ""))
    commands = [x["command"] for x in _decisions(d)]
    d.expect('the recommendation is the exact SQL: ANALYZE "analytics"."fact_sales"',
             commands == ['ANALYZE "analytics"."fact_sales";'], f"{commands}")
    after = stats_off(standin, "analytics", "fact_sales") or 0.0
    d.expect("nothing ran: stats_off unchanged", abs(after - before) < 0.01, f"stats_off {after:.2f}%")
    inbox = d.notifications()
    d.expect("on call got the finding and the command to run",
             len(inbox) == 1 and 'ANALYZE "analytics"."fact_sales";' in inbox[0]["message"]
             and "stats_off above" in inbox[0]["message"], inbox[0]["subject"] if inbox else "no notification")


@scenario("redshift-stale-stats-auto",
          "CPU high, stale statistics, auto mode: ANALYZE of exactly the stale catalog tables, stats_off drops",
          SECTION)
def stale_stats_auto(d: Drill) -> None:
    standin = cluster(d)
    standin.seed([("analytics", "scratch_sales")])  # not a catalog table: the service user has no grant on it
    stale(d, standin, "analytics", "fact_sales")
    stale(d, standin, "analytics", "scratch_sales")  # not a catalog table: never touched
    fresh = _analyze_count(standin, "analytics", "dim_customer")
    with catalog_variant(d.sandbox, PLAYBOOK, mode="auto"):
        d.say("note", "catalog variant: guardrails.playbooks.redshift_performance.mode = auto")
        outcome = cpu_high(d)
    d.expect("remediated and verified against svv_table_info",
             outcome.get("status") == "REMEDIATED" and outcome["verification"]["status"] == "VERIFIED",
             outcome.get("verification", {}).get("detail", outcome.get("summary", "")))
    analyzed = [r["payload"]["changed"].get("tables") for r in d.audit("action")]
    d.expect("exactly the stale catalog table was analyzed", analyzed == [["analytics.fact_sales"]], f"{analyzed}")
    after = stats_off(standin, "analytics", "fact_sales") or 0.0
    d.expect(f"stats_off of analytics.fact_sales dropped below {d.catalog.thresholds.stats_off_percent:g}%",
             after < d.catalog.thresholds.stats_off_percent, f"now {after:.2f}%")
    scratch = stats_off(standin, "analytics", "scratch_sales") or 0.0
    d.expect("a stale table outside the catalog was left alone", scratch > d.catalog.thresholds.stats_off_percent,
             f"analytics.scratch_sales stats_off {scratch:.2f}%")
    d.expect("a fresh catalog table was not analyzed again",
             _analyze_count(standin, "analytics", "dim_customer") == fresh)
    inbox = d.notifications()
    d.expect("on call is told what was done and that it worked",
             len(inbox) == 1 and "WHAT WE DID" in inbox[0]["message"] and "VERIFIED" in inbox[0]["message"],
             inbox[0]["subject"] if inbox else "no notification")


@scenario("redshift-runaway-query",
          "CPU high from a query running for hours, auto mode: the cancel (destructive) waits for a person",
          SECTION)
def runaway_query(d: Drill) -> None:
    standin = cluster(d)
    pid = standin.add_running_query("etl_user", RUNAWAY_SQL, seconds_running=3 * 3600)
    d.say("inject", f"etl_user's query (pid {pid}) has been running for 3 h: {RUNAWAY_SQL[:60]}…")
    with catalog_variant(d.sandbox, PLAYBOOK, mode="auto"):
        d.say("note", "catalog variant: guardrails.playbooks.redshift_performance.mode = auto")
        outcome = cpu_high(d)
    d.expect("the cancel awaits approval (destructive actions wait for a person even in auto)",
             outcome.get("status") == "AWAITING_APPROVAL", outcome.get("summary", ""))
    decisions = _decisions(d)
    d.expect(f"the decision names the exact SQL: SELECT pg_cancel_backend({pid})",
             [(x["verdict"], x["rule"]) for x in decisions] == [("AWAITING_APPROVAL", "destructive")]
             and decisions[0]["command"].startswith(f"SELECT pg_cancel_backend({pid});"),
             decisions[0]["command"] if decisions else "no decision")
    d.expect("the query still runs: nothing was cancelled without a person", pid in running_pids(standin))
    inbox = d.notifications()
    d.expect("on call is asked to approve, with the command and how to approve",
             len(inbox) == 1 and "WAITING FOR YOU" in inbox[0]["message"]
             and "remedy incident approve ap-" in inbox[0]["message"],
             inbox[0]["subject"] if inbox else "no notification")


@scenario("redshift-queue-resize",
          "WLM queue alarm, queries waiting and nothing else to fix: a resize recommendation, no action", SECTION)
def queue_resize(d: Drill) -> None:
    standin = cluster(d)
    for seconds in (900, 720, 400, 30):
        standin.add_queued_query(service_class=100, queue_seconds=seconds)
    d.say("inject", "4 queries queued in WLM, the longest for 15 min")
    outcome = trip(d, "redshift-queue", "WLMQueueLength", 5)
    advice = " ".join(outcome.get("plan", {}).get("recommendations", []))
    d.expect("no action, a recommendation for the scaling procedure",
             outcome.get("status") == "NO_ACTION" and "scaling procedure" in advice and "resizing" in advice,
             advice[:160])
    d.expect("nothing was decided or done", d.audit("decision") == [] and d.audit("action") == [])


def _analyze_count(standin: RedshiftStandIn, schema: str, table: str) -> int:
    rows = standin.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE schemaname = %s AND relname = %s",
                           (schema, table))
    return int(rows[0][0]) if rows else 0
