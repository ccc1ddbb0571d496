"""The maintenance jobs against the sandbox: the real functions with their template environment, the alarm
history gap fill, the posture metric evaluated by its synthesized alarm, the schedules as deployed, and the
Redshift analysis through redshift-connector on the stand-in.

The jobs only read what other tests change, so the module shares one sandbox without a reset per test
(a redeploy costs seconds); each test seeds what it reads, and the posture test starts from a reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.maintenance import JOBS, function_name, reports_bucket, schedule_name, terraform_state_bucket
from remedy.gameday.drill import Drill
from sandbox import redshift_history
from sandbox.core import Sandbox
from sandbox.redshift_wiring import detach_redshift, reset_redshift
from sandbox.seed_maintenance import seed_alarm_history, seed_week

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

LAG = "remedy-dev/consumer-lag/glue:orders-stream"


def invoke(sandbox: Sandbox, job: str, at: datetime | None = None, **extra: Any) -> dict[str, Any]:
    event = {"job": job, **({"scheduled_time": at.isoformat()} if at else {}), **extra}
    result: dict[str, Any] = sandbox.invoke(sandbox.function(function_name(sandbox.catalog, job)), event)
    return result


def test_describe_alarm_history_answers_like_cloudwatch(sandbox_env: Sandbox) -> None:
    sandbox = sandbox_env
    now = datetime.now(UTC).replace(microsecond=0)
    seed_alarm_history(sandbox.account, LAG, [(now - timedelta(hours=5), "ALARM", "lag"),
                                              (now - timedelta(hours=4), "OK", "drained"),
                                              (now - timedelta(hours=1), "ALARM", "lag again")])
    cloudwatch = sandbox.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=LAG, StateValue="OK", StateReason="recovered")  # a live change
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        AlarmName=LAG, HistoryItemType="StateUpdate", StartDate=now - timedelta(hours=6),
        ScanBy="TimestampAscending", PaginationConfig={"PageSize": 2})
    items = [i for page in pages for i in page["AlarmHistoryItems"]]
    assert [i["HistorySummary"] for i in items] == ["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK",
                                                   "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]
    assert items[0]["Timestamp"] == now - timedelta(hours=5) and items[0]["AlarmType"] == "MetricAlarm"
    newest_first = cloudwatch.describe_alarm_history(AlarmName=LAG, StartDate=now - timedelta(hours=2))
    assert [i["HistorySummary"].removeprefix("Alarm updated from ") for i in newest_first["AlarmHistoryItems"]] == \
        ["ALARM to OK", "OK to ALARM"]
    assert cloudwatch.describe_alarm_history(AlarmName=LAG, HistoryItemType="Action")["AlarmHistoryItems"] == []


def test_weekly_review_from_a_seeded_week(sandbox_env: Sandbox) -> None:
    sandbox = sandbox_env
    drill = Drill(sandbox)  # an SQS inbox on the on-call topic
    drill.notifications(), drill.pages()  # what earlier tests of this worker left in it is not ours
    # A week two months back: nothing another test of this worker recorded (at the wall-clock time) is in it.
    end = (datetime.now(UTC) - timedelta(days=60)).replace(hour=7, minute=0, second=0, microsecond=0)
    seed_week(sandbox.catalog, sandbox.account, end)
    invoke(sandbox, "posture", end)
    result = invoke(sandbox, "weekly_review", end)
    assert result["status"] == "REPORTED"
    pipelines = {p["name"]: p for p in result["report"]["pipelines"]}
    orders, customers = pipelines["orders"], pipelines["customers"]
    assert [(a["fired"], a["minutes_in_alarm"]) for a in orders["alarms"]] == [(3, 77.0)]
    outcomes = {t["playbook"]: t for t in orders["remediations"]}
    assert (outcomes["msk_consumer_lag"]["verified"], outcomes["msk_consumer_lag"]["refused"],
            outcomes["data_quality"]["awaiting_approval"]) == (2, 1, 1)
    assert (orders["recovery"]["median_minutes"], orders["recovery"]["worst_minutes"]) == (25.0, 40.0)
    assert customers["remediations"][0]["failed"] == 1 and customers["recovery"]["worst_minutes"] == 5760.0
    assert "all 3 backup promises kept" in result["report"]["posture_summary"]
    s3 = sandbox.client("s3")
    text = s3.get_object(Bucket=reports_bucket(sandbox.catalog), Key=f"weekly/{end:%Y-%m-%d}.txt")["Body"].read()
    assert text.decode() == result["text"]
    assert [n["subject"] for n in drill.notifications()] == [result["subject"]]
    assert invoke(sandbox, "weekly_review", end)["status"] == "ALREADY_REPORTED" and drill.notifications() == []


def posture_alarm_states(sandbox: Sandbox, at: datetime) -> dict[str, str]:
    changes = sandbox.evaluate_alarms(at)
    return {e.alarm_name: e.state for e, _ in changes if "/posture/" in e.alarm_name}


def test_posture_promises_are_metrics_and_alarms(sandbox_env: Sandbox) -> None:
    sandbox = sandbox_env
    sandbox.reset()  # no posture datapoint of another test in the alarms' 26-hour window
    t0 = datetime.now(UTC).replace(microsecond=0)
    assert invoke(sandbox, "posture", t0)["summary"] == "all 3 promises kept"
    assert posture_alarm_states(sandbox, t0 + timedelta(hours=1)) == {}  # healthy: no false alarm

    state_bucket, cluster = terraform_state_bucket(sandbox.catalog), sandbox.catalog.redshift.cluster_id
    sandbox.client("s3").put_bucket_versioning(Bucket=state_bucket,
                                               VersioningConfiguration={"Status": "Suspended"})
    sandbox.client("redshift").modify_cluster(ClusterIdentifier=cluster, AutomatedSnapshotRetentionPeriod=1)
    broken = invoke(sandbox, "posture", t0 + timedelta(hours=2))
    assert sorted(p["promise"] for p in broken["report"]["promises"] if not p["kept"]) == [
        "redshift-snapshots", "s3-versioning"]
    data = sandbox.client("cloudwatch").get_metric_statistics(
        Namespace="Remedy/Posture", MetricName="BrokenPromise", Statistics=["Maximum"], Period=3600,
        Dimensions=[{"Name": "Promise", "Value": "s3-versioning"}, {"Name": "Resource", "Value": state_bucket}],
        StartTime=t0, EndTime=t0 + timedelta(hours=3))
    assert sorted(d["Maximum"] for d in data["Datapoints"]) == [0.0, 1.0]
    prefix = sandbox.catalog.prefix
    assert posture_alarm_states(sandbox, t0 + timedelta(hours=3)) == {
        f"{prefix}/posture/s3-versioning:{state_bucket}": "ALARM",
        f"{prefix}/posture/redshift-snapshots:{cluster}": "ALARM"}

    # Fixed and checked again: the alarms clear once the broken datapoint has left their 26-hour window.
    sandbox.client("s3").put_bucket_versioning(Bucket=state_bucket, VersioningConfiguration={"Status": "Enabled"})
    sandbox.client("redshift").modify_cluster(ClusterIdentifier=cluster, AutomatedSnapshotRetentionPeriod=7)
    assert invoke(sandbox, "posture", t0 + timedelta(hours=4))["summary"] == "all 3 promises kept"
    assert posture_alarm_states(sandbox, t0 + timedelta(hours=29)) == {
        f"{prefix}/posture/s3-versioning:{state_bucket}": "OK", f"{prefix}/posture/redshift-snapshots:{cluster}": "OK"}


def test_lifecycle_review_of_the_seeded_lake(sandbox_env: Sandbox) -> None:
    sandbox = sandbox_env
    result = invoke(sandbox, "lifecycle_review")
    zones = {z["zone"]: z for z in result["report"]["zones"]}
    assert [r["id"] for r in zones["landing"]["rules"]] == ["landing-to-ia-then-expire"]
    assert zones["landing"]["flags"] == []
    assert zones["staging"]["flags"][0].startswith("no lifecycle rule")
    assert {c["storage_class"]: c["objects"] for c in zones["curated"]["current"]} == {"STANDARD": 1,
                                                                                       "STANDARD_IA": 1}
    assert result["report"]["versioning"] == "Disabled"  # dev: noncurrent versions cannot pile up


def test_schedules_come_from_the_catalog_and_fire_when_due(sandbox_env: Sandbox) -> None:
    sandbox = sandbox_env
    catalog = sandbox.catalog
    mine = {s.name: s for s in sandbox.deployment.schedules if s.input is not None}
    assert {name: s.pattern["schedule"] for name, s in mine.items()} == {
        schedule_name(catalog, job): getattr(catalog.schedules, job)
        for job in JOBS}
    listed = sandbox.client("scheduler").list_schedules()["Schedules"]
    assert set(mine) <= {s["Name"] for s in listed}
    monday = datetime(2026, 11, 23, 7, 0, 30, tzinfo=UTC)  # cron(0 7 ? * MON *)
    fired = [d.matched[0] for d in sandbox.run_schedules(monday) if d.matched[0] in mine]
    assert fired == [schedule_name(catalog, "weekly_review")]
    [delivery] = [d for d in sandbox.run_schedules(monday) if d.matched[0] in fired]
    assert delivery.event == {"job": "weekly_review", "scheduled_time": "2026-11-23T07:00:30Z"}
    assert delivery.invocations[0].result["period"] == "2026-11-23"
    tuesday_noon = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert [d for d in sandbox.run_schedules(tuesday_noon) if d.matched[0] in mine] == []


@pytest.fixture
def redshift(sandbox_env: Sandbox) -> Any:
    standin = reset_redshift(sandbox_env)
    yield standin
    detach_redshift(sandbox_env)


def test_redshift_analysis_through_redshift_connector(sandbox_env: Sandbox, redshift: Any) -> None:
    sandbox = sandbox_env
    now = datetime.now(UTC).replace(microsecond=0)
    redshift_history.seed_month(redshift, sandbox.catalog, now)
    redshift_history.seed_previous_analyses(sandbox, now)
    result = invoke(sandbox, "redshift_analysis", now)
    report = result["report"]
    assert report["slowest"][0]["runs"] == 3 and report["slowest"][0]["avg_seconds"] == 2400.0
    assert report["frequent"][0]["runs"] == 1200
    assert all("CROSS JOIN" not in q["sql"] for q in report["slowest"])  # the aborted query is not counted
    queues = {q["name"]: q for q in report["queues"]}
    assert (queues["etl"]["slots"], queues["etl"]["p90_wait_seconds"]) == (2, 180.0)
    kinds = {(r["kind"], r["target"]) for r in report["recommendations"]}
    assert {("ANALYZE", "analytics.dim_customer"), ("VACUUM", "analytics.fact_sales"),
            ("DISK", sandbox.catalog.redshift.cluster_id)} <= kinds
    assert [p["used_percent"] for p in report["disk"]["history"]] == [54.0, 59.0, 64.0]


def test_redshift_analysis_without_a_grant_reports_it_and_the_rest(sandbox_env: Sandbox, redshift: Any) -> None:
    # Finding 3: svv_table_info (and stv_partitions) are superuser-visible unless granted; the analysis failed.
    from remedy.redshift_grants import GRANTS_FILE
    from sandbox.redshift_wiring import grant_service_user

    sandbox = sandbox_env
    now = datetime.now(UTC).replace(microsecond=0)
    redshift_history.seed_month(redshift, sandbox.catalog, now)
    kept = [line for line in GRANTS_FILE.read_text(encoding="utf-8").splitlines()
            if not line.startswith(("GRANT SELECT ON svv_table_info", "GRANT SELECT ON stv_partitions"))]
    grant_service_user(redshift, sandbox.catalog, "\n".join(kept))
    try:
        result = invoke(sandbox, "redshift_analysis", now, force=True)
    finally:
        grant_service_user(redshift, sandbox.catalog)
    report = result["report"]
    grants = {r["target"]: r for r in report["recommendations"] if r["kind"] == "GRANT"}
    assert sorted(grants) == ["stv_partitions", "svv_table_info"]
    assert grants["svv_table_info"]["reason"].startswith(
        "the service user IAM:remedy lacks SELECT on svv_table_info: run sql/redshift-grants.sql")
    assert report["tables"] == [] and report["disk"] is None
    assert report["slowest"][0]["runs"] == 3  # the rest of the analysis is there
