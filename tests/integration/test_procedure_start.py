"""The service-outage procedure started by its alarm, through the sandbox: two pipelines down at once, the
synthesized composites evaluated, the outage's change routed by the synthesized rule to the real starter,
the state machine run by moto; duplicates refused by Step Functions, a second outage held while a run goes
on. Outcomes read back from the emulated account (executions, their input, the audit trail)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.procedures import execution_name
from functions.procedures.inputs import validate
from functions.procedures.start import incident_id, parse_start_event
from remedy.commands import incident
from remedy.gameday.drill import Drill
from remedy.gameday.scenarios.procedures import outage_alarm, pipelines_down, results, settle
from sandbox import stepfunctions
from sandbox.alarms import _stamp
from sandbox.core import Sandbox

pytestmark = pytest.mark.integration


def executions(sandbox: Sandbox) -> list[dict[str, Any]]:
    return list(sandbox.client("stepfunctions").list_executions(
        stateMachineArn=incident.state_machine_arn(sandbox.catalog, "service-outage"))["executions"])


def test_two_pipelines_down_start_service_outage_once_with_a_deterministic_name(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    alarm = outage_alarm(sandbox.catalog)
    deliveries = pipelines_down(d)
    outage = deliveries[alarm]
    assert outage.event["detail"]["state"]["value"] == "ALARM"
    assert outage.matched == [f"{sandbox.catalog.prefix}-start-service-outage"]
    [started] = results(outage)
    expected = incident_id(parse_start_event(outage.event, sandbox.catalog))
    assert (started["status"], started["incident"]) == ("STARTED", expected)
    name = execution_name("service-outage", expected)

    # The same state change delivered again: Step Functions refuses it; after the run, again.
    [again] = results(sandbox.deliver(outage.event))
    assert again["status"] == "DUPLICATE" and "ExecutionAlreadyExists" in again["reason"]
    assert settle(sandbox, "service-outage", expected, timeout=60, until_end=True)["status"] == "SUCCEEDED"
    [late] = results(sandbox.deliver(copy.deepcopy(outage.event)))
    assert late["status"] == "DUPLICATE"
    assert [e["name"] for e in executions(sandbox)] == [name]

    # The input is what `remedy incident start` would have validated, and says what started it.
    described = sandbox.client("stepfunctions").describe_execution(executionArn=started["execution"])
    payload = json.loads(described["input"])
    validate("service-outage", {k: v for k, v in payload.items() if k != "procedure"}, sandbox.catalog)
    assert (payload["requested_by"], payload["alarm"]) == (f"alarm {alarm}", alarm)
    assert payload["approval_timeout_seconds"] == sandbox.catalog.procedures.approval_timeout_minutes * 60

    trail = sandbox.audit(expected)
    assert [r["kind"] for r in trail].count("duplicate") == 2
    [record] = [r["payload"] for r in trail if r["kind"] == "procedure_started"]
    assert record["started_by"] == f"alarm {alarm}" and record["execution"] == started["execution"]
    duplicates = [r["payload"] for r in trail if r["kind"] == "duplicate"]
    assert {p["delivery"] for p in duplicates}.isdisjoint({payload["delivery"]})  # other deliveries, refused
    assert all(f"delivery {payload['delivery']}" in p["reason"] for p in duplicates)  # …naming the one that ran
    outcome = [r["payload"] for r in trail if r["kind"] == "procedure_outcome"]
    assert outcome, "the run reported how it ended under the same incident"


def test_one_pipeline_down_is_no_outage(sandbox: Sandbox) -> None:
    deliveries = pipelines_down(Drill(sandbox), ("orders-stream",))
    assert f"{sandbox.catalog.prefix}/composite-pipeline/orders" in deliveries
    assert outage_alarm(sandbox.catalog) not in deliveries
    assert executions(sandbox) == []


def test_a_second_outage_while_a_run_goes_on_is_held_not_started(sandbox: Sandbox) -> None:
    alarm = outage_alarm(sandbox.catalog)
    with stepfunctions.FUNCTION_LOCK:  # the first run waits at its first step: still going on below
        outage = pipelines_down(Drill(sandbox))[alarm]
        [first] = results(outage)
        later = copy.deepcopy(outage.event)
        later["detail"]["state"]["timestamp"] = _stamp(datetime.now(UTC) + timedelta(minutes=20))
        [held] = results(sandbox.deliver(later))
    assert first["status"] == "STARTED"
    assert held["status"] == "HELD" and first["incident"] in held["reason"] and held["incident"] != first["incident"]
    assert len(executions(sandbox)) == 1
    assert [r["kind"] for r in sandbox.audit(held["incident"])] == ["procedure_start_held"]
    settle(sandbox, "service-outage", first["incident"], timeout=60, until_end=True)
