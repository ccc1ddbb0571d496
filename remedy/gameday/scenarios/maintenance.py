"""Runbook: Maintenance — the weekly review from a week of history, and the daily backup posture, run through
their EventBridge Scheduler schedules; broken backup promises trip their alarms through the real metric ->
alarm evaluation."""

from __future__ import annotations

from typing import Any

from functions.maintenance import reports_bucket, schedule_name, terraform_state_bucket
from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from sandbox.seed_maintenance import seed_week

WEEKLY = "Maintenance / Regular Tasks (weekly review)"
BACKUP = "Maintenance / Backup and Recovery"


def run_job(d: Drill, job: str) -> dict[str, Any]:
    """The job's schedule fires at `now` (Scheduler Input, scheduled time = now): its function's answer."""
    name = schedule_name(d.catalog, job)
    [delivery] = d.sandbox.run_schedules(d.now, names=[name])
    [invocation] = delivery.invocations
    if invocation.error:
        d.say("handler", f"schedule {name} -> {invocation.function} failed: {invocation.error}")
        return {}
    result: dict[str, Any] = invocation.result
    d.say("handler", f"schedule {name} -> {invocation.function}: {result.get('status')}: {result.get('summary')}")
    return result


def _week(result: dict[str, Any], pipeline: str) -> dict[str, Any]:
    return next((p for p in result.get("report", {}).get("pipelines", []) if p["name"] == pipeline), {})


def _tally(week: dict[str, Any], playbook: str) -> dict[str, Any]:
    return next((t for t in week.get("remediations", []) if t["playbook"] == playbook), {})


@scenario("weekly-review", "A week of seeded history: the weekly review counts alarms, outcomes and recovery times",
          WEEKLY)
def weekly_review(d: Drill) -> None:
    seed_week(d.catalog, d.sandbox.account, d.now)
    d.say("inject", "a week of operation seeded: 5 lag alarms (one 9 days ago), their playbook outcomes, a "
                    "freshness incident awaiting approval, a duplicate delivery")
    run_job(d, "posture")
    result = run_job(d, "weekly_review")
    orders, customers = _week(result, "orders"), _week(result, "customers")
    [orders_lag] = orders.get("alarms") or [{}]
    d.expect("orders: lag alarm fired 3 times for 77 min, longest 40 (the episode 9 days ago not counted)",
             (orders_lag.get("fired"), orders_lag.get("minutes_in_alarm"), orders_lag.get("longest_minutes")) ==
             (3, 77.0, 40.0), str(orders_lag))
    lag, quality = _tally(orders, "msk_consumer_lag"), _tally(orders, "data_quality")
    d.expect("orders: msk_consumer_lag 2 verified, 1 refused; data_quality 1 awaiting approval; 1 duplicate",
             (lag.get("verified"), lag.get("refused"), lag.get("failed"), quality.get("awaiting_approval"),
              orders.get("duplicates")) == (2, 1, 0, 1, 1), f"{lag} {quality}")
    recovery = orders.get("recovery", {})
    d.expect("orders: alarm to verified recovery median 25 min, worst 40 min over 3 recoveries",
             (recovery.get("median_minutes"), recovery.get("worst_minutes"), recovery.get("count")) == (25.0, 40.0, 3),
             str(recovery))
    [customers_lag] = customers.get("alarms") or [{}]
    d.expect("customers: fired once, 4 days in ALARM (57% of the week), its remediation failed",
             (customers_lag.get("fired"), customers_lag.get("percent_of_week"),
              _tally(customers, "msk_consumer_lag").get("failed")) == (1, 57.1, 1), str(customers_lag))
    candidates = {c["alarm_name"]: c["kind"] for c in result.get("report", {}).get("threshold_candidates", [])}
    d.expect("the customers lag alarm is a threshold candidate (fires constantly); the orders one is not",
             candidates.get(customers_lag.get("alarm_name")) == "fires_constantly"
             and orders_lag.get("alarm_name") not in candidates)
    d.expect("the backup posture line: all promises kept, checked today",
             "kept (last checked" in result.get("report", {}).get("posture_summary", ""),
             result.get("report", {}).get("posture_summary", ""))
    key = result.get("key", "")
    stored = d.sandbox.client("s3").list_objects_v2(Bucket=reports_bucket(d.catalog), Prefix=key).get("KeyCount")
    inbox = d.notifications()
    d.expect("kept in the reports bucket and sent to on call once",
             stored == 1 and [n["subject"] for n in inbox] == [result.get("subject")],
             f"{key}; {len(inbox)} notification(s)")
    again = run_job(d, "weekly_review")
    d.expect("the schedule retried for the same time: already reported, nobody notified twice",
             again.get("status") == "ALREADY_REPORTED" and d.notifications() == [])


def _posture_alarm(d: Drill, promise: str, resource: str) -> str:
    return f"{d.catalog.prefix}/posture/{promise}:{resource}"


def _trips(d: Drill, alarm: str) -> None:
    d.advance(60)  # the hour holding the check's datapoint has closed: CloudWatch evaluates it now
    deliveries = d.fire()
    changed = {dl.event["detail"]["alarmName"]: dl.event["detail"]["state"]["value"] for dl in deliveries}
    d.expect(f"{alarm} trips from the published metric", changed.get(alarm) == "ALARM", str(changed))
    others = {name: state for name, state in changed.items() if "/posture/" in name and name != alarm}
    d.expect("no other backup promise alarm changed", others == {}, str(others))
    d.expect("routed to no playbook: a broken backup promise pages a person, nothing acts on it",
             all(not dl.matched for dl in deliveries if dl.event["detail"]["alarmName"] == alarm))
    pages = d.pages()
    d.expect("on call is paged by the alarm", any(alarm in p["subject"] for p in pages),
             "; ".join(p["subject"] for p in pages))


@scenario("posture-bucket-unversioned", "Terraform state bucket versioning suspended: the posture alarm trips",
          BACKUP)
def posture_bucket_unversioned(d: Drill) -> None:
    bucket = d.catalog.s3.name if d.catalog.s3.versioning else terraform_state_bucket(d.catalog)
    d.sandbox.client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    d.say("inject", f"versioning of {bucket} suspended")
    result = run_job(d, "posture")
    broken = [p for p in result.get("report", {}).get("promises", []) if not p["kept"]]
    d.expect(f"the daily check finds the s3-versioning promise on {bucket} broken, and only that",
             [(p["promise"], p["resource"]) for p in broken] == [("s3-versioning", bucket)],
             "; ".join(c["detail"] for p in broken for c in p["checks"]))
    _trips(d, _posture_alarm(d, "s3-versioning", bucket))


@scenario("posture-snapshot-retention", "Redshift automated snapshots kept 1 day: the posture alarm trips and the "
          "weekly review says so", BACKUP)
def posture_snapshot_retention(d: Drill) -> None:
    cluster = d.catalog.redshift.cluster_id
    d.sandbox.client("redshift").modify_cluster(ClusterIdentifier=cluster, AutomatedSnapshotRetentionPeriod=1)
    d.say("inject", f"automated snapshot retention of {cluster} set to 1 day (catalog promises "
                    f"{d.catalog.redshift.snapshot_retention_days})")
    result = run_job(d, "posture")
    broken = [p for p in result.get("report", {}).get("promises", []) if not p["kept"]]
    details = [c["detail"] for p in broken for c in p["checks"] if not c["ok"]]
    d.expect("the daily check finds the redshift-snapshots promise broken: retention 1 day",
             [p["promise"] for p in broken] == ["redshift-snapshots"] and any("1 days" in x for x in details),
             "; ".join(details))
    _trips(d, _posture_alarm(d, "redshift-snapshots", cluster))
    weekly = run_job(d, "weekly_review")
    summary = weekly.get("report", {}).get("posture_summary", "")
    d.expect("the weekly review carries the broken promise", "broken now: redshift-snapshots" in summary, summary)


@scenario("posture-healthy", "Backup promises kept: the daily check trips nothing (no false alarm)", BACKUP)
def posture_healthy(d: Drill) -> None:
    result = run_job(d, "posture")
    promises = result.get("report", {}).get("promises", [])
    d.expect("every promise of the catalog is checked and kept", bool(promises) and all(p["kept"] for p in promises),
             ", ".join(f"{p['promise']} {p['resource']}" for p in promises))
    d.advance(60)
    deliveries = d.fire()
    d.expect("no posture alarm changed state", not any("/posture/" in dl.event["detail"]["alarmName"]
                                                         for dl in deliveries))
    d.expect("nobody was paged", d.pages() == [])
