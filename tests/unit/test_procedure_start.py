"""Procedures started by an alarm (functions/procedures/start.py) and the outage signal that starts one
(infra/signals.py): deterministic execution names, validated input, duplicates refused by Step Functions and
recorded, one run at a time. In-memory fakes; the fake Step Functions answers as AWS documents it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.catalog import Catalog, parse_catalog
from functions.core.naming import OUTAGE_SIGNAL, PIPELINE_SIGNAL
from functions.procedures import ALARM_STARTS, PROCEDURES, STARTER, execution_name, parse_execution_name
from functions.procedures.inputs import validate
from functions.procedures.outage import escalate
from functions.procedures.ports import AlreadyStarted
from functions.procedures.start import (
    DUPLICATE,
    HELD,
    STARTED,
    incident_id,
    parse_start_event,
    start_from_alarm,
)
from infra.signals import MAX_RULE_CHARACTERS, PIPELINE_SIGNALS, metric_alarm_specs, service_composite_specs
from tests.unit.fakes import FakeAudit

NOW = datetime(2026, 11, 25, 10, 6, tzinfo=UTC)
OUTAGE = "remedy-dev/composite-service-outage/pipelines"
STAMP = "2026-11-25T10:05:00.120+0000"


def outage_event(state: str = "ALARM", stamp: str = STAMP, alarm: str = OUTAGE, **extra: Any) -> dict[str, Any]:
    return {"version": "0", "id": "4f0c2b61-0d3e-4f55-9f0a-6ad1c1d4b001", "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch", "account": "111111111111", "time": "2026-11-25T10:05:00Z",
            "region": "eu-west-1", "resources": [f"arn:aws:cloudwatch:eu-west-1:111111111111:alarm:{alarm}"],
            "detail": {"alarmName": alarm, "state": {"value": state, "reason": "rule is true", "timestamp": stamp},
                       "previousState": {"value": "OK", "reason": "", "timestamp": stamp},
                       "configuration": {"alarmRule": "(ALARM(a) AND ALARM(b))"}}, **extra}


class FakeStepFunctions:
    """StartExecution as AWS documents it: same name and same input while running -> the same execution
    (success); same name otherwise (other input, or the run ended) -> ExecutionAlreadyExists."""

    def __init__(self) -> None:
        self.executions: dict[str, dict[str, Any]] = {}  # arn -> {name, machine, input, status, started}
        self.calls: list[str] = []

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(name)
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        existing = self.executions.get(arn)
        if existing is not None:
            if existing["input"] == payload and existing["status"] == "RUNNING":
                return {"arn": arn, "started": existing["started"]}
            raise AlreadyStarted(f"Execution Already Exists: '{arn}'")
        self.executions[arn] = {"name": name, "machine": state_machine_arn, "input": payload, "status": "RUNNING",
                                "started": NOW.isoformat()}
        return {"arn": arn, "started": NOW.isoformat()}

    def running(self, state_machine_arn: str) -> list[dict[str, Any]]:
        return [{"name": e["name"], "arn": arn, "started": e["started"]} for arn, e in self.executions.items()
                if e["machine"] == state_machine_arn and e["status"] == "RUNNING"]

    def describe(self, execution_arn: str) -> dict[str, Any] | None:
        found = self.executions.get(execution_arn)
        return None if found is None else {"status": found["status"], "started": found["started"],
                                           "input": found["input"]}


def start(sfn: FakeStepFunctions, audit: FakeAudit, catalog: Catalog, event: dict[str, Any] | None = None,
          delivery: str = "req-1") -> dict[str, Any]:
    return start_from_alarm(event or outage_event(), catalog, sfn, audit, NOW, delivery)


# -- the start -------------------------------------------------------------------------------------------

def test_the_outage_alarm_starts_service_outage_with_a_name_from_the_alarm_and_its_state_change(
        catalog: Catalog) -> None:
    sfn, audit = FakeStepFunctions(), FakeAudit()
    result = start(sfn, audit, catalog)
    assert result["status"] == "STARTED"
    incident = result["incident"]
    assert incident.startswith("service-outage-20261125T100500Z-")
    name = execution_name("service-outage", incident)
    assert parse_execution_name(name) == ("service-outage", incident)
    assert result["execution"] == f"arn:aws:states:eu-west-1:111111111111:execution:remedy-dev-service-outage:{name}"
    [run] = sfn.executions.values()
    # The input is what the first step validates again, with the catalog's defaults and who started it.
    payload = run["input"]
    assert validate("service-outage", {k: v for k, v in payload.items() if k != "procedure"}, catalog, NOW)
    assert payload["requested_by"] == f"alarm {OUTAGE}" and payload["alarm"] == OUTAGE
    assert payload["delivery"] == "req-1"
    assert payload["approval_timeout_seconds"] == catalog.procedures.approval_timeout_minutes * 60
    assert payload["window_hours"] == catalog.procedures.evidence_window_hours
    [record] = audit.of_kind(STARTED, incident)
    assert record["started_by"] == f"alarm {OUTAGE}" and record["state_changed_at"] == STAMP
    assert record["execution"] == result["execution"]


def test_the_same_state_change_names_the_same_incident_another_one_a_new_incident(catalog: Catalog) -> None:
    first = incident_id(parse_start_event(outage_event(), catalog))
    assert incident_id(parse_start_event(outage_event(), catalog)) == first
    later = incident_id(parse_start_event(outage_event(stamp="2026-11-25T11:40:00.000+0000"), catalog))
    assert later != first and later.startswith("service-outage-20261125T114000Z-")
    assert len(execution_name("service-outage", first)) <= 80  # Step Functions' limit on execution names


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED"])
def test_a_duplicate_delivery_is_refused_by_step_functions_and_recorded(catalog: Catalog, status: str) -> None:
    sfn, audit = FakeStepFunctions(), FakeAudit()
    first = start(sfn, audit, catalog, delivery="req-1")
    for run in sfn.executions.values():
        run["status"] = status
    second = start(sfn, audit, catalog, delivery="req-2")
    assert second["status"] == "DUPLICATE" and second["incident"] == first["incident"]
    assert len(sfn.executions) == 1 and len(sfn.calls) == 2  # asked twice, one run: Step Functions refused
    [duplicate] = audit.of_kind(DUPLICATE, first["incident"])
    assert "ExecutionAlreadyExists" in duplicate["reason"] and "delivery req-1" in duplicate["reason"]
    assert duplicate["delivery"] == "req-2"
    assert audit.kinds(first["incident"]) == [STARTED, DUPLICATE]


def test_without_the_delivery_in_the_input_step_functions_would_hide_the_duplicate(catalog: Catalog) -> None:
    """Why the delivery is part of the input: same name and same input while running is a success."""
    sfn = FakeStepFunctions()
    arn = "arn:aws:states:eu-west-1:111111111111:stateMachine:remedy-dev-service-outage"
    sfn.start(arn, "service-outage--x", {"a": 1})
    assert sfn.start(arn, "service-outage--x", {"a": 1})["arn"].endswith("--x")  # no error: a hidden duplicate
    with pytest.raises(AlreadyStarted):
        sfn.start(arn, "service-outage--x", {"a": 1, "delivery": "other"})


def test_a_new_outage_while_an_earlier_run_is_still_going_on_is_held(catalog: Catalog) -> None:
    sfn, audit = FakeStepFunctions(), FakeAudit()
    first = start(sfn, audit, catalog)
    later = start(sfn, audit, catalog, outage_event(stamp="2026-11-25T10:40:00.000+0000"), delivery="req-9")
    assert later["status"] == "HELD" and first["incident"] in later["reason"]
    assert len(sfn.executions) == 1
    assert audit.of_kind(HELD, later["incident"])[0]["running"] == list(sfn.executions)


@pytest.mark.parametrize(("event", "message"), [
    (outage_event(state="OK"), "went to OK: a procedure starts on ALARM"),
    (outage_event(alarm="remedy-dev/consumer-lag/glue:orders-stream"), "starts no procedure"),
    (outage_event(alarm="someone-else/composite-service-outage/pipelines"), "starts no procedure"),
    ({**outage_event(), "account": "999999999999"}, "from account 999999999999"),
    ({"detail-type": "Scheduled Event"}, "not a CloudWatch Alarm State Change event"),
])
def test_events_that_start_nothing_are_rejected_in_one_line(catalog: Catalog, event: dict[str, Any],
                                                            message: str) -> None:
    sfn, audit = FakeStepFunctions(), FakeAudit()
    result = start(sfn, audit, catalog, event)
    assert result["status"] == "REJECTED" and message in result["reason"], result
    assert sfn.calls == [] and audit.records == []


def test_the_page_says_what_started_the_run(catalog: Catalog) -> None:
    class NoSupport:
        def create_case(self, subject: str, body: str) -> str:
            from functions.procedures.ports import Unavailable

            raise Unavailable("SubscriptionRequiredException")

    page = escalate({"incident_id": "INC-9", "requested_by": f"alarm {OUTAGE}", "plan": {}}, catalog, NoSupport())
    assert f"STARTED BY      alarm {OUTAGE}" in page["message"]


def test_only_the_outage_starts_by_itself_and_the_starter_is_least_privilege() -> None:
    assert {(s, a.procedure) for s, a in ALARM_STARTS.items()} == {(OUTAGE_SIGNAL, "service-outage")}
    assert all(a.procedure in PROCEDURES for a in ALARM_STARTS.values())
    actions = {a for g in STARTER.grants for a in g.actions}
    assert actions == {"states:StartExecution", "states:ListExecutions", "states:DescribeExecution",
                       "dynamodb:PutItem", "sqs:SendMessage", "ssm:GetParameter"}  # ssm: the kill switch


# -- the outage signal (infra/signals.py) -----------------------------------------------------------------

def test_a_pipeline_composite_per_topic_reads_its_key_alarms(catalog: Catalog) -> None:
    specs = service_composite_specs(catalog)
    pipelines = {c.component: c for c in specs if c.signal == PIPELINE_SIGNAL}
    assert set(pipelines) == {t.name for t in catalog.msk.topics}
    orders = pipelines["orders"]
    assert orders.name == "remedy-dev/composite-pipeline/orders" and not orders.pages and orders.at_least == 1
    assert set(orders.alarms) == {"remedy-dev/consumer-lag/glue:orders-stream",
                                  "remedy-dev/glue-failures/glue:orders-stream",
                                  "remedy-dev/glue-failures/glue:sales-batch",
                                  "remedy-dev/landing-freshness/s3:landing/orders/"}
    # Its component is no catalog component: the lineage hold reads components in ALARM.
    assert orders.component not in catalog.components
    metric = {s.name: s.signal for s in metric_alarm_specs(catalog)}
    assert all(metric[a] in PIPELINE_SIGNALS for c in pipelines.values() for a in c.alarms)


def test_the_outage_composite_is_two_pipelines_at_once_and_pages(catalog: Catalog) -> None:
    [outage] = [c for c in service_composite_specs(catalog) if c.signal == OUTAGE_SIGNAL]
    assert outage.name == OUTAGE and outage.pages and outage.at_least == catalog.thresholds.outage_pipelines == 2
    assert set(outage.alarms) == {"remedy-dev/composite-pipeline/orders", "remedy-dev/composite-pipeline/customers"}


def _with_topics(raw: dict[str, Any], count: int, **thresholds: Any) -> Catalog:
    data = copy.deepcopy(raw)
    for i in range(count):
        data["msk"]["topics"].append({"name": f"t{i}", "partitions": 3})
        data["msk"]["consumer_groups"].append({"name": f"glue-t{i}", "topic": f"t{i}"})
        data["glue_jobs"].append({"name": f"t{i}-stream", "kind": "streaming", "topic": f"t{i}",
                                  "consumer_group": f"glue-t{i}", "worker_type": "G.1X", "min_workers": 2,
                                  "max_workers": 4, "role_name": f"t{i}-stream-role",
                                  "checkpoint_location": f"s3://checkpoints-b/t{i}/checkpoint/"})
    data["thresholds"].update(thresholds)
    return parse_catalog(json.loads(json.dumps(data)), "bent")


def test_the_threshold_comes_from_the_catalog_and_a_rule_too_long_for_one_composite_is_tiered(
        raw_catalog: dict[str, Any]) -> None:
    three = _with_topics(raw_catalog, 1, outage_pipelines=3)
    [outage] = [c for c in service_composite_specs(three) if c.signal == OUTAGE_SIGNAL]
    assert outage.at_least == 3 and len(outage.alarms) == 3
    assert [c for c in service_composite_specs(_with_topics(raw_catalog, 0, outage_pipelines=3))
            if c.signal == OUTAGE_SIGNAL] == []  # fewer pipelines than the threshold: no outage composite
    flat = service_composite_specs(_with_topics(raw_catalog, 6))  # 8 pipelines, 28 pairs: fits in one rule
    assert [c.terms for c in flat if c.signal == OUTAGE_SIGNAL] == [()]
    # 14 pipelines (91 pairs) do not fit one rule of MAX_RULE_CHARACTERS: the count is built in tiers
    # (infra/outage.py, tests/unit/test_scale.py), under the same name.
    tiered = service_composite_specs(_with_topics(raw_catalog, 12))
    [outage] = [c for c in tiered if c.signal == OUTAGE_SIGNAL]
    assert outage.name == OUTAGE and outage.pages and outage.terms and MAX_RULE_CHARACTERS == 10_240


def test_the_incident_time_is_utc_whatever_offset_cloudwatch_wrote(catalog: Catalog) -> None:
    change = parse_start_event(outage_event(stamp="2026-11-25T11:05:00.000+0100"), catalog)
    assert change.changed_at == NOW - timedelta(minutes=1)
