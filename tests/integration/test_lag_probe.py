"""The consumer-lag probe against the sandbox: Spark checkpoints as real files in the emulated S3, the brokers'
offsets from the stand-in behind the probe's own port, the probe's role enforced (S3 and kafka-cluster), the
metric read back from the emulated CloudWatch, and the synthesized lag alarm evaluated from it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remedy.gameday.drill import Drill
from sandbox import iam
from sandbox.core import Sandbox
from sandbox.kafka_standin import plan_batch, set_lag

pytestmark = pytest.mark.integration

PROBE = "remedy-dev-probe-consumer-lag"
LAG_ALARM = "remedy-dev/consumer-lag/glue:orders-stream"
UNMEASURED_ALARM = "remedy-dev/lag-unmeasured/glue:orders-stream"


def scheduled(at: datetime) -> dict[str, Any]:
    return {"version": "0", "id": "t", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "111111111111", "region": "eu-west-1", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [], "detail": {}}


def run_probe(sandbox: Sandbox, at: datetime) -> dict[str, Any]:
    result: dict[str, Any] = sandbox.invoke(sandbox.function(PROBE), scheduled(at))
    return result


def job_result(result: dict[str, Any], job: str) -> dict[str, Any]:
    return next(j for j in result["jobs"] if j["job"] == job)


def lag_points(sandbox: Sandbox, metric: str, job: str, around: datetime) -> list[float]:
    response = sandbox.client("cloudwatch").get_metric_data(MetricDataQueries=[{"Id": "m", "MetricStat": {
        "Metric": {"Namespace": "Remedy/DataLake", "MetricName": metric,
                   "Dimensions": [{"Name": "JobName", "Value": job}]}, "Period": 60, "Stat": "Maximum"}}],
        StartTime=around - timedelta(minutes=10), EndTime=around + timedelta(minutes=10))
    return list(response["MetricDataResults"][0]["Values"])


@contextmanager
def without_grant(sandbox: Sandbox, sid_prefix: str) -> Iterator[None]:
    """The probe's role without the statements whose Sid starts with `sid_prefix` (as if never granted)."""
    who = iam.principal(iam.function_key(sandbox.function(PROBE)))
    assert who is not None
    kept = who.statements
    who.statements = [s for s in kept if not str(s.get("Sid", "")).startswith(sid_prefix)]
    assert len(who.statements) < len(kept), f"no statement {sid_prefix}* to take away"
    try:
        yield
    finally:
        who.statements = kept


def test_the_probe_publishes_messages_behind_from_the_committed_batch(sandbox: Sandbox) -> None:
    job = sandbox.catalog.glue_job("orders-stream")
    set_lag(sandbox, job, 4_000)
    planned = plan_batch(sandbox, job)  # stuck in this batch: its offsets must not count
    set_lag(sandbox, job, 12_345)
    denials, unmapped = len(iam.DENIALS), len(iam.UNMAPPED)
    at = datetime.now(UTC).replace(second=1, microsecond=0)
    result = run_probe(sandbox, at)
    orders = job_result(result, "orders-stream")
    assert orders["measured"] and orders["messages"] == 12_345 and orders["batch"] == planned - 1
    # Exactly its grants suffice (the lists are the process's: only what this probe run added counts).
    assert len(iam.DENIALS) == denials and len(iam.UNMAPPED) == unmapped
    assert lag_points(sandbox, "ConsumerLagMessages", "orders-stream", at) == [12_345.0]
    assert lag_points(sandbox, "ConsumerLagUnmeasured", "orders-stream", at) == [0.0]
    # customers-stream (lag_source msk) is not measured here, but its group is checked to commit.
    assert job_result(result, "customers-stream")["measured"]
    assert lag_points(sandbox, "ConsumerLagMessages", "customers-stream", at) == []


def test_a_rising_lag_trips_the_synthesized_alarm(sandbox: Sandbox) -> None:
    drill = Drill(sandbox)
    drill.consumer_lag("orders-stream", [2_000, 11_000, 15_000, 19_000, 25_000])
    states = {e.alarm_name: e.state for e, _ in sandbox.evaluate_alarms(drill.now)}
    assert states.get(LAG_ALARM) == "ALARM"


def test_healthy_lag_trips_nothing(sandbox: Sandbox) -> None:
    drill = Drill(sandbox)
    drill.consumer_lag("orders-stream", [300, 450, 200, 800, 150])
    assert {e.alarm_name: e.state for e, _ in sandbox.evaluate_alarms(drill.now)} == {}


def test_without_read_access_to_the_checkpoint_the_job_is_reported_and_pages(sandbox: Sandbox) -> None:
    drill = Drill(sandbox)
    with without_grant(sandbox, "ReadCheckpointOffsets"):
        results = drill.lag_probe_minutes(5)
    reasons = [job_result(r, "orders-stream")["reason"] for r in results]
    assert all("AccessDenied" in r and "offsets/" in r for r in reasons), reasons[0]
    assert all(job_result(r, "customers-stream")["measured"] for r in results)  # the other job is unaffected
    states = {e.alarm_name: e.state for e, _ in sandbox.evaluate_alarms(drill.now)}
    assert states.get(UNMEASURED_ALARM) == "ALARM"
    assert LAG_ALARM not in states  # no datapoint is no evidence: the lag alarm keeps its state


def test_without_describe_topic_the_brokers_refuse_as_msk_iam_would(sandbox: Sandbox) -> None:
    with without_grant(sandbox, "DescribeTopics"):
        result = run_probe(sandbox, datetime.now(UTC))
    reason = job_result(result, "orders-stream")["reason"]
    assert "AuthorizationFailedError" in reason and "kafka-cluster:DescribeTopic" in reason
