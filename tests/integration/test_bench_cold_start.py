"""`make bench`'s cold start (remedy/bench.py, issue 16), against the sandbox: a fresh interpreter runs a real
event of the function's kind up to the answer to its first AWS call and stops there; the sandbox's own record of
the calls it answered (sandbox.aws.CALLS_BY) shows that one call, signed with the function's role, and nothing
after it. The baseline makes its one call with the same event."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from remedy import bench
from sandbox import aws, iam
from sandbox.core import Sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ALARM = json.loads((ROOT / "tests" / "events" / "alarm_state_change.json").read_text(encoding="utf-8"))
FUNCTION = "remedy-dev-msk-consumer-lag"


def test_the_measurement_runs_the_alarm_event_to_the_functions_first_aws_call_and_no_further(
        sandbox: Sandbox) -> None:
    spec = sandbox.function(FUNCTION)
    sandbox.invoke(spec, ALARM)  # in process, to completion: what its first call is
    first = sandbox.last_api_calls[0]
    assert len(sandbox.last_api_calls) > 1  # the whole invocation makes more than the one call measured
    sandbox.reset()

    before = len(aws.CALLS_BY)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **sandbox.function_environment(spec)}
    measured = bench.fresh_start(spec.handler, str(ROOT), env, ALARM, spec.name)

    answered = [call for call in aws.CALLS_BY[before:] if call[2] == iam.function_key(spec)]  # not the sandbox's
    assert [(f"{service}:{operation}", key) for service, operation, key, _ in answered] == [
        (first, iam.function_key(spec))]  # that one call, as the function's role, then the process ended
    assert measured["outcome"] == f"{first} HTTP {answered[0][3]}"
    assert 0 < measured["init"] < measured["first_call"]


def test_the_baseline_parses_the_same_event_and_makes_one_call_as_the_sandbox(
        sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "baseline_handler.py").write_text(bench.BASELINE, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **sandbox.function_environment(sandbox.function(FUNCTION)),
           **sandbox.account.environ(), "POWERTOOLS_TRACE_DISABLED": "true"}
    before = len(aws.CALLS_BY)
    measured = bench.fresh_start("baseline_handler.handler", str(tmp_path), env, ALARM, FUNCTION)
    assert measured["outcome"] == "cloudwatch:DescribeAlarms HTTP 200"
    admin = sandbox.account.environ()["AWS_ACCESS_KEY_ID"]  # signed as the sandbox: no role to judge it
    assert [(s, o) for s, o, k, _ in aws.CALLS_BY[before:] if k == admin] == [("cloudwatch", "DescribeAlarms")]
    step = bench.fresh_start("baseline_handler.handler", str(tmp_path), env, {"incident_id": "x"}, FUNCTION)
    assert step["outcome"] == "cloudwatch:DescribeAlarms HTTP 200"  # a step's input: the any-object model


def test_the_events_measured_are_those_the_game_day_routing_delivered(sandbox: Sandbox) -> None:
    events = bench.first_events(sandbox)
    try:
        sandbox.invoke(sandbox.function(FUNCTION), {"not": "an alarm"})  # refused before any call: not recorded
        assert events == {}
        sandbox.invoke(sandbox.function(FUNCTION), ALARM)
        assert events[FUNCTION]["event"] == ALARM and events[FUNCTION]["first_call"] == "dynamodb:PutItem"
        (row,) = bench.cold_starts(sandbox, events, runs=1, only={FUNCTION})
        assert row["first_call"] == "dynamodb:PutItem HTTP 200" and row["baseline_first_call"].startswith(
            "cloudwatch:DescribeAlarms")
        assert row["first_call_ms"] > row["init_ms"] > 0 and isinstance(row["meets_target"], bool)
    finally:
        del sandbox._invoke  # type: ignore[attr-defined]  # the class's method again
