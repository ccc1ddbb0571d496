"""The probes against the sandbox: S3 objects of known ages and Glue state changes of known outcomes go in,
the metric values come out of the emulated CloudWatch (from the functions' EMF log lines), and the
synthesized alarms, evaluated from those values, trip or stay quiet as the runbook says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.naming import alarm_name
from functions.playbooks import PLAYBOOKS
from functions.probes.freshness import NO_OBJECT_AGE_MINUTES
from remedy.gameday.drill import Drill
from sandbox import clock
from sandbox.core import Sandbox
from sandbox.glue_events import job_state_change_event

pytestmark = pytest.mark.integration

FRESHNESS = "remedy-dev-probe-freshness"
OUTCOMES = "remedy-dev-probe-glue-outcomes"
ORDERS, CUSTOMERS = "landing/orders/", "landing/customers/"


def name(sandbox: Sandbox, signal: str, component: str) -> str:
    return alarm_name(sandbox.catalog.prefix, signal, component)


# --- S3 objects of known ages --------------------------------------------------------------------------

def age_objects(sandbox: Sandbox, prefix: str, minutes: float) -> None:
    """Make every object under `prefix` `minutes` old, in moto's backend (S3 has no API to backdate)."""
    from moto.s3.models import s3_backends

    bucket = s3_backends[sandbox.catalog.account_id]["aws"].get_bucket(sandbox.catalog.s3.name)
    when = (datetime.now(UTC) - timedelta(minutes=minutes)).replace(tzinfo=None)  # moto keeps naive UTC
    for key, versions in bucket.keys.iterlists():
        if key.startswith(prefix):
            for version in versions:
                version.last_modified = when


def empty_prefix(sandbox: Sandbox, prefix: str) -> None:
    s3 = sandbox.client("s3")
    for item in s3.list_objects_v2(Bucket=sandbox.catalog.s3.name, Prefix=prefix).get("Contents", []):
        s3.delete_object(Bucket=sandbox.catalog.s3.name, Key=item["Key"])


def landing_age(sandbox: Sandbox, prefix: str, around: datetime) -> list[float]:
    cloudwatch = sandbox.client("cloudwatch")
    response = cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "age", "MetricStat": {"Metric": {
        "Namespace": "Remedy/DataLake", "MetricName": "LandingAgeMinutes",
        "Dimensions": [{"Name": "Bucket", "Value": sandbox.catalog.s3.name}, {"Name": "Prefix", "Value": prefix}]},
        "Period": 300, "Stat": "Maximum"}}], StartTime=around - timedelta(minutes=10),
        EndTime=around + timedelta(minutes=10))
    return list(response["MetricDataResults"][0]["Values"])


def run_freshness_probe(sandbox: Sandbox, at: datetime | None = None) -> dict[str, Any]:
    result: dict[str, Any] = sandbox.invoke(sandbox.function(FRESHNESS), {
        "version": "0", "id": "schedule-1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": sandbox.catalog.account_id, "time": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": sandbox.catalog.region, "resources": [], "detail": {}})
    return result


def changed(sandbox: Sandbox, at: datetime) -> dict[str, str]:
    """Alarm -> its new state, for every alarm (metric or composite) whose state changed at `at`."""
    return {e.alarm_name: e.state for e, _ in sandbox.evaluate_alarms(at)}


def alarm_pages(d: Drill) -> list[str]:
    """Subjects of the ALARM pages on call received (a new alarm's first OK notification is not a page)."""
    return [p["subject"] for p in d.pages() if p["subject"].startswith("ALARM:")]


def test_freshness_probe_publishes_each_landing_prefixs_age(sandbox: Sandbox) -> None:
    age_objects(sandbox, ORDERS, 90)
    now = datetime.now(UTC)
    result = run_freshness_probe(sandbox)
    assert [p["prefix"] for p in result["prefixes"]] == sandbox.catalog.s3.landing_prefixes
    [orders] = landing_age(sandbox, ORDERS, now)
    [customers] = landing_age(sandbox, CUSTOMERS, now)
    # Customers' objects are as old as the sandbox's seeding (restored from its checkpoint): minutes on a busy
    # machine, far from the 60-minute threshold either way.
    assert 89.5 <= orders <= 91 and customers < 10
    # Exactly the alarm's dimensions: Powertools' `service` dimension would make a metric no alarm reads.
    metrics = sandbox.client("cloudwatch").list_metrics(Namespace="Remedy/DataLake")["Metrics"]
    assert {tuple(sorted(d["Name"] for d in m["Dimensions"])) for m in metrics} == {("Bucket", "Prefix")}


def test_a_stale_prefix_trips_its_freshness_alarm_and_pages_once(sandbox: Sandbox) -> None:
    d = Drill(sandbox)  # the on-call inbox
    age_objects(sandbox, ORDERS, sandbox.catalog.thresholds.landing_freshness_minutes + 1)
    now = datetime.now(UTC)
    run_freshness_probe(sandbox)
    events = {e.alarm_name: (e, event) for e, event in sandbox.evaluate_alarms(now + timedelta(minutes=5))}
    transitions = {alarm: e.state for alarm, (e, _) in events.items()}
    stale, fresh = (name(sandbox, "landing-freshness", f"s3:{p}") for p in (ORDERS, CUSTOMERS))
    page = name(sandbox, "composite-landing-freshness", f"s3:{ORDERS}")
    assert transitions[stale] == "ALARM"
    assert transitions[page] == "ALARM"
    assert transitions.get(fresh) != "ALARM"
    # ...and so is the upstream cause of every batch job reading the prefix (it holds their failure pages).
    readers = {name(sandbox, "composite-upstream", f"glue:{j.name}") for j in sandbox.catalog.glue_jobs
               if j.reads_prefix == ORDERS}
    # ...and the orders pipeline is faulty (one pipeline: no outage, the composite pages nobody).
    pipeline = name(sandbox, "composite-pipeline", "orders")
    assert {a for a, state in transitions.items() if state == "ALARM"} == {stale, page, *readers, pipeline}
    # One page, from the composite: the metric alarm itself has no action.
    assert alarm_pages(d) == [f'ALARM: "{page}" in {sandbox.catalog.region}']
    # The metric alarm's state change still reaches EventBridge, routed to the playbook declaring its signal.
    routed = [r.name for r in sandbox.route(events[stale][1])]
    assert routed == [f"{sandbox.catalog.prefix}-{p}" for p, declaration in PLAYBOOKS.items()
                      if "landing-freshness" in declaration.signals]


def test_an_empty_landing_prefix_is_published_as_very_old_and_trips(sandbox: Sandbox) -> None:
    empty_prefix(sandbox, CUSTOMERS)
    now = datetime.now(UTC)
    result = run_freshness_probe(sandbox)
    [customers] = [p for p in result["prefixes"] if p["prefix"] == CUSTOMERS]
    assert (customers["newest_key"], customers["age_minutes"]) == (None, NO_OBJECT_AGE_MINUTES)
    assert landing_age(sandbox, CUSTOMERS, now) == [NO_OBJECT_AGE_MINUTES]
    alarm = name(sandbox, "landing-freshness", f"s3:{CUSTOMERS}")
    assert changed(sandbox, now + timedelta(minutes=5))[alarm] == "ALARM"


def test_a_skipped_probe_run_leaves_the_freshness_alarm_as_it_was(sandbox: Sandbox) -> None:
    age_objects(sandbox, ORDERS, 120)
    now = datetime.now(UTC)
    run_freshness_probe(sandbox)
    stale = name(sandbox, "landing-freshness", f"s3:{ORDERS}")
    assert changed(sandbox, now + timedelta(minutes=5))[stale] == "ALARM"
    assert stale not in changed(sandbox, now + timedelta(minutes=10)), "no datapoint: state kept (ignore)"


# --- staging quality flags (the same probe run) ------------------------------------------------------------

def quality_failures(sandbox: Sandbox, prefix: str, around: datetime) -> list[float]:
    response = sandbox.client("cloudwatch").get_metric_data(MetricDataQueries=[{"Id": "q", "MetricStat": {
        "Metric": {"Namespace": "Remedy/DataLake", "MetricName": "QualityCheckFailures", "Dimensions": [
            {"Name": "Bucket", "Value": sandbox.catalog.s3.name}, {"Name": "Prefix", "Value": prefix}]},
        "Period": 300, "Stat": "Maximum"}}], StartTime=around - timedelta(minutes=10),
        EndTime=around + timedelta(minutes=10))
    return list(response["MetricDataResults"][0]["Values"])


def test_failed_quality_flags_trip_the_quality_alarm_routed_to_data_quality_and_a_passing_rerun_clears_it(
        sandbox: Sandbox) -> None:
    d = Drill(sandbox)  # the on-call inbox
    partition = (datetime.now(UTC) - timedelta(hours=1)).strftime(sandbox.catalog.s3.landing_partition_format)
    d.write_quality_flags("sales-batch", partition, passed=False, failed_rules=["malformed_records = 0 (got 9)"])
    now = datetime.now(UTC)
    result = run_freshness_probe(sandbox)  # under the probe's role, as IAM would allow it
    by_prefix = {q["prefix"]: q for q in result["quality"]}
    assert (by_prefix[ORDERS]["failures"], by_prefix[CUSTOMERS]["failures"]) == (1, 0)
    assert by_prefix[ORDERS]["failed"] == [f"sales-batch {partition}: malformed_records = 0 (got 9)"]
    assert quality_failures(sandbox, ORDERS, now) == [1.0]
    events = {e.alarm_name: (e, event) for e, event in sandbox.evaluate_alarms(now + timedelta(minutes=5))}
    alarm = name(sandbox, "quality-check-failures", f"s3:{ORDERS}")
    assert events[alarm][0].state == "ALARM"
    assert name(sandbox, "quality-check-failures", f"s3:{CUSTOMERS}") not in events or \
        events[name(sandbox, "quality-check-failures", f"s3:{CUSTOMERS}")][0].state != "ALARM"
    assert f'ALARM: "{alarm}" in {sandbox.catalog.region}' in alarm_pages(d)  # it pages on its own
    assert [r.name for r in sandbox.route(events[alarm][1])] == [f"{sandbox.catalog.prefix}-data_quality"]

    d.write_quality_flags("sales-batch", partition, passed=True)  # the re-run's flags
    later = now + timedelta(minutes=5)
    clock.advance_to(later)
    run_freshness_probe(sandbox, later)  # the next scheduled run, five minutes on
    assert changed(sandbox, later + timedelta(minutes=5)).get(alarm) == "OK"


# --- Glue state changes of known outcomes ----------------------------------------------------------------

def glue_event(sandbox: Sandbox, job: str, state: str, at: datetime, run_id: str = "jr_1") -> dict[str, Any]:
    return job_state_change_event(sandbox.catalog.account_id, sandbox.catalog.region, job, run_id, state,
                                  "" if state == "SUCCEEDED" else f"run {state.lower()}", at)


def count(sandbox: Sandbox, job: str, at: datetime, period: int = 3600) -> dict[str, list[float]]:
    queries = [{"Id": metric.lower(), "MetricStat": {"Metric": {
        "Namespace": "Remedy/DataLake", "MetricName": metric, "Dimensions": [{"Name": "JobName", "Value": job}]},
        "Period": period, "Stat": "Sum"}} for metric in ("GlueJobRunSucceeded", "GlueJobRunFailed")]
    start = datetime.fromtimestamp((int(at.timestamp()) // period) * period, UTC) - timedelta(seconds=period * 6)
    response = sandbox.client("cloudwatch").get_metric_data(MetricDataQueries=queries, StartTime=start,
                                                            EndTime=start + timedelta(seconds=period * 7),
                                                            ScanBy="TimestampAscending")
    return {r["Id"]: list(r["Values"]) for r in response["MetricDataResults"]}


def test_glue_state_changes_are_routed_to_the_probe_and_counted(sandbox: Sandbox) -> None:
    now = datetime.now(UTC)
    probe = sandbox.function(OUTCOMES)
    outcomes = {}
    for i, state in enumerate(("SUCCEEDED", "SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED")):
        event = glue_event(sandbox, "sales-batch", state, now, run_id=f"jr_{i}")
        assert f"{sandbox.catalog.prefix}-probe-glue-outcomes" in [r.name for r in sandbox.route(event)]
        outcomes[f"jr_{i}"] = sandbox.invoke(probe, event)["status"]
    assert list(outcomes.values()) == ["COUNTED"] * 4 + ["NOT_COUNTED"]  # a cancelled batch run counts as neither
    assert count(sandbox, "sales-batch", now) == {"gluejobrunsucceeded": [2.0], "gluejobrunfailed": [2.0]}
    # A job outside the catalog is not even routed.
    assert not [r for r in sandbox.route(glue_event(sandbox, "someone-elses-job", "FAILED", now))
                if r.name.endswith("probe-glue-outcomes")]


def test_a_stopped_streaming_job_is_a_failure_unless_a_new_run_replaced_it(sandbox: Sandbox) -> None:
    now = datetime.now(UTC)
    glue = sandbox.client("glue")
    probe = sandbox.function(OUTCOMES)
    [running] = [r["Id"] for r in glue.get_job_runs(JobName="orders-stream")["JobRuns"]
                 if r["JobRunState"] == "RUNNING"]
    glue.batch_stop_job_run(JobName="orders-stream", JobRunIds=[running])
    down = sandbox.invoke(probe, glue_event(sandbox, "orders-stream", "STOPPED", now, running))
    assert (down["status"], down["counted"]) == ("COUNTED", "failed")

    clock.advance(clock.DURATIONS["glue.stop"])  # Glue finishes the stop: the run no longer counts as running
    restarted = glue.start_job_run(JobName="orders-stream")["JobRunId"]
    again = sandbox.invoke(probe, glue_event(sandbox, "orders-stream", "STOPPED", now, running))
    assert (again["status"], again["counted"]) == ("NOT_COUNTED", None) and restarted in again["reason"]
    assert count(sandbox, "orders-stream", now) == {"gluejobrunsucceeded": [0.0], "gluejobrunfailed": [1.0]}


def test_the_services_own_stop_with_its_start_pending_is_not_counted(sandbox: Sandbox) -> None:
    """A scale-up whose stop outlasted its invocation leaves a pending start (functions.core.pending) on the job's
    breaker item; Glue's STOPPED event for that run reaches the probe before the start is made: not a failure."""
    import json

    now = datetime.now(UTC)
    glue = sandbox.client("glue")
    [running] = [r["Id"] for r in glue.get_job_runs(JobName="orders-stream")["JobRuns"]
                 if r["JobRunState"] == "RUNNING"]
    glue.batch_stop_job_run(JobName="orders-stream", JobRunIds=[running])
    clock.advance(clock.DURATIONS["glue.stop"])
    sandbox.client("dynamodb").update_item(
        TableName=f"{sandbox.catalog.prefix}-breaker", Key={"target": {"S": "glue:orders-stream"}},
        UpdateExpression="SET pending_start = :p",
        ExpressionAttributeValues={":p": {"S": json.dumps({"job_name": "orders-stream", "after": [running]})}})

    stopped = sandbox.invoke(sandbox.function(OUTCOMES), glue_event(sandbox, "orders-stream", "STOPPED", now, running))

    assert (stopped["status"], stopped["counted"]) == ("NOT_COUNTED", None), stopped
    assert "start is pending" in stopped["reason"]
    assert count(sandbox, "orders-stream", now) == {"gluejobrunsucceeded": [], "gluejobrunfailed": []}


def test_a_failed_run_trips_the_failure_alarm_and_pages_through_its_composite(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    now = datetime.now(UTC)
    sandbox.invoke(sandbox.function(OUTCOMES), glue_event(sandbox, "sales-batch", "FAILED", now))
    transitions = changed(sandbox, now + timedelta(minutes=5))
    failures = name(sandbox, "glue-failures", "glue:sales-batch")
    page = name(sandbox, "composite-glue-failures", "glue:sales-batch")
    assert transitions[failures] == "ALARM" and transitions[page] == "ALARM"
    assert alarm_pages(d) == [f'ALARM: "{page}" in {sandbox.catalog.region}']


def success_rate_series(sandbox: Sandbox, job: str, at: datetime) -> list[dict[str, Any]]:
    """What CloudWatch computes for the success-rate alarm: its own Metrics queries through GetMetricData."""
    props = sandbox.deployment.alarms[name(sandbox, "glue-success-rate", f"glue:{job}")]
    queries = [{k: v for k, v in m.items() if k in ("Id", "MetricStat", "Expression", "Label", "ReturnData")}
               for m in props["Metrics"]]
    end = datetime.fromtimestamp((int(at.timestamp()) // 3600) * 3600, UTC)
    response = sandbox.client("cloudwatch").get_metric_data(MetricDataQueries=queries,
                                                            StartTime=end - timedelta(hours=6), EndTime=end)
    return list(response["MetricDataResults"])


def run_of_failures(sandbox: Sandbox, job: str, now: datetime) -> None:
    """Hourly runs: one success four hours ago, then three failures in a row (each in its own hour)."""
    probe = sandbox.function(OUTCOMES)
    for hours, state in ((4, "SUCCEEDED"), (3, "FAILED"), (2, "FAILED"), (1, "FAILED")):
        sandbox.invoke(probe, glue_event(sandbox, job, state, now - timedelta(hours=hours), f"jr_{hours}"))


def test_a_run_of_failures_is_published_hour_by_hour(sandbox: Sandbox) -> None:
    now = datetime.now(UTC)
    run_of_failures(sandbox, "customer-scd-batch", now)
    counts = count(sandbox, "customer-scd-batch", now)
    assert counts == {"gluejobrunsucceeded": [1.0, 0.0, 0.0, 0.0], "gluejobrunfailed": [0.0, 1.0, 1.0, 1.0]}


def test_a_run_of_failures_trips_the_success_rate_alarm(sandbox: Sandbox) -> None:
    # The success-rate expression is computed by the sandbox's alarm evaluator (sandbox.alarms.metric_math):
    # moto's GetMetricData does not evaluate metric math.
    from sandbox.alarms import _alarm_series

    now = datetime.now(UTC)
    run_of_failures(sandbox, "customer-scd-batch", now)
    alarm = name(sandbox, "glue-success-rate", "glue:customer-scd-batch")
    props = sandbox.deployment.alarms[alarm]
    end = datetime.fromtimestamp((int(now.timestamp()) // 3600 + 1) * 3600, UTC)
    rate = _alarm_series(sandbox.client("cloudwatch"), props, end - timedelta(hours=6), end)
    assert sorted(rate.values(), reverse=True) == [100.0, 0.0, 0.0, 0.0]
    assert changed(sandbox, now)[name(sandbox, "glue-success-rate", "glue:customer-scd-batch")] == "ALARM"


# --- the healthy pipeline, and the broker fault upstream ---------------------------------------------------

def test_a_healthy_pipeline_trips_nothing(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    now = datetime.now(UTC)
    run_freshness_probe(sandbox)  # the seed's landing data is minutes old
    probe = sandbox.function(OUTCOMES)
    for job in sandbox.catalog.glue_jobs:
        if not job.streaming:
            for hours in (3, 2, 1, 0):
                sandbox.invoke(probe, glue_event(sandbox, job.name, "SUCCEEDED", now - timedelta(hours=hours),
                                                 f"jr_{hours}"))
    for at in (now + timedelta(minutes=5), now + timedelta(hours=1)):
        assert not [a for a, state in changed(sandbox, at).items() if state == "ALARM"]
    assert alarm_pages(d) == []


def test_a_broker_fault_upstream_suppresses_the_landing_page(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    catalog = sandbox.catalog
    age_objects(sandbox, ORDERS, 90)
    now = datetime.now(UTC)
    run_freshness_probe(sandbox)
    at = now + timedelta(minutes=5)
    sandbox.put_metric("AWS/Kafka", "OfflinePartitionsCount", {"Cluster Name": catalog.msk.cluster_name},
                       [3, 3, 3], end=at)
    transitions = changed(sandbox, at)
    broker = name(sandbox, "msk-offline-partitions", f"msk:{catalog.msk.cluster_name}")
    upstream = name(sandbox, "composite-upstream", f"s3:{ORDERS}")
    page = name(sandbox, "composite-landing-freshness", f"s3:{ORDERS}")
    assert transitions[broker] == "ALARM"
    assert transitions[name(sandbox, "landing-freshness", f"s3:{ORDERS}")] == "ALARM"
    assert transitions[upstream] == "ALARM" and transitions[page] == "ALARM"
    # One root cause, one page: the broker's. The landing symptom is in ALARM, its actions held back.
    assert (page, upstream) in sandbox.suppressed
    assert alarm_pages(d) == [f'ALARM: "{broker}" in {catalog.region}']
