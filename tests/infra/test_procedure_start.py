"""Procedures started by an alarm, in the templates: the pipeline composites and the outage composite (two
pipelines at once, an OR of pairs), the rule on the outage composite's change to ALARM, the starter function
(asynchronous delivery, on-failure queue) and its role, exactly the starter's declaration."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest

from functions.core.naming import OUTAGE_COMPONENT, OUTAGE_SIGNAL, PIPELINE_SIGNAL, alarm_name
from functions.maintenance.weekly import PLATFORM, pipelines
from functions.procedures import ALARM_STARTS, STARTER, step_function_name
from infra.constructs.procedure_permissions import step_statements
from infra.signals import PIPELINE_SIGNALS
from tests.infra.helpers import Synth, composite_alarms, metric_alarms, resources, rule_alarms, text

pytestmark = pytest.mark.infra


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def procedures(synth: Synth) -> dict[str, Any]:
    return synth.templates[f"{synth.catalog.prefix}-procedures"]


def starter(synth: Synth) -> tuple[str, dict[str, Any]]:
    [(logical, props)] = [(k, r["Properties"]) for k, r in resources(procedures(synth), "AWS::Lambda::Function").items()
                          if r["Properties"]["FunctionName"] == step_function_name(synth.catalog.prefix, STARTER.name)]
    return logical, props


def test_a_pipeline_composite_per_topic_reads_its_key_alarms_and_pages_nobody(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    composites, alarms = composite_alarms(template), metric_alarms(template)
    groups = {name: members for name, members in pipelines(catalog).items() if name != PLATFORM}
    assert groups
    for pipeline, members in groups.items():
        composite = composites[alarm_name(catalog.prefix, PIPELINE_SIGNAL, pipeline)]
        read = rule_alarms(template, composite["AlarmRule"])
        expected = {a for a in alarms if a.split("/")[1] in PIPELINE_SIGNALS and a.split("/", 2)[2] in members}
        assert {f for f, _ in read} == {"ALARM"} and {a for _, a in read} == expected, pipeline
        assert text(composite["AlarmRule"]).replace('(ALARM("', "").replace('") OR ALARM("', "").replace('"))', "") \
            == ""  # any of them
        assert "AlarmActions" not in composite and "OKActions" not in composite


def test_the_outage_composite_is_any_two_pipelines_at_once_and_pages(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    composites = composite_alarms(template)
    outage = composites[alarm_name(catalog.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT)]
    faulty = sorted(c for c in composites if c.split("/")[1] == PIPELINE_SIGNAL)
    k = catalog.thresholds.outage_pipelines
    read = rule_alarms(template, outage["AlarmRule"])
    # (ALARM(a) AND ALARM(b)) OR (ALARM(a) AND ALARM(c)) OR …: every pair, each once.
    pairs = [tuple(sorted(a for _, a in read[i:i + k])) for i in range(0, len(read), k)]
    assert sorted(pairs) == sorted(combinations(faulty, k)) and {f for f, _ in read} == {"ALARM"}
    rule = text(outage["AlarmRule"])
    assert rule.count(" AND ") == len(pairs) * (k - 1) and rule.count(" OR ") == len(pairs) - 1
    topic = f"arn:aws:sns:{catalog.region}:{catalog.account_id}:{catalog.notifications.on_call_topic}"
    assert outage["AlarmActions"] == [topic] and outage["OKActions"] == [topic]


def test_the_outage_change_to_alarm_goes_to_the_starter_and_nothing_else_does(synth: Synth) -> None:
    catalog, template = synth.catalog, procedures(synth)
    logical, _ = starter(synth)
    rules = {r["Properties"]["Name"]: r["Properties"] for r in resources(template, "AWS::Events::Rule").values()
             if "EventPattern" in r["Properties"]}  # the other is the approval step's sweep schedule
    assert set(rules) == {f"{catalog.prefix}-start-{a.procedure}" for a in ALARM_STARTS.values()}
    rule = rules[f"{catalog.prefix}-start-service-outage"]
    assert rule["EventPattern"] == {
        "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [alarm_name(catalog.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT)],
                   "state": {"value": ["ALARM"]}}}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical, "Arn"]}  # the starter function, not the state machine
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 10
    [permission] = [p["Properties"] for p in resources(template, "AWS::Lambda::Permission").values()
                    if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [logical, "Arn"]}]
    assert permission["Principal"] == "events.amazonaws.com" and permission["SourceArn"] == {
        "Fn::GetAtt": [next(k for k, r in resources(template, "AWS::Events::Rule").items()
                            if r["Properties"]["Name"] == f"{catalog.prefix}-start-service-outage"), "Arn"]}


def test_the_starter_is_delivered_asynchronously_with_its_failures_queued(synth: Synth) -> None:
    catalog, template = synth.catalog, procedures(synth)
    logical, props = starter(synth)
    assert props["Handler"] == STARTER.handler and props["TracingConfig"] == {"Mode": "Active"}
    [config] = [r["Properties"] for r in resources(template, "AWS::Lambda::EventInvokeConfig").values()
                if r["Properties"]["FunctionName"] == {"Ref": logical}]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == (
        f"arn:aws:sqs:{catalog.region}:{catalog.account_id}:{catalog.prefix}-unhandled-events")


def test_the_starter_role_is_exactly_its_declaration(synth: Synth) -> None:
    template = procedures(synth)
    _, props = starter(synth)
    role = props["Role"]["Fn::GetAtt"][0]
    granted = [s for p in resources(template, "AWS::IAM::Policy").values()
               if {"Ref": role} in p["Properties"].get("Roles", [])
               for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actual = {(s["Sid"], frozenset(as_list(s["Action"])), frozenset(as_list(s["Resource"]))) for s in granted}
    planned = {(s.sid, frozenset(s.actions), frozenset(s.resources))
               for s in step_statements(synth.catalog, STARTER)}
    assert actual == planned
    catalog = synth.catalog
    by_action = {a: set(as_list(s["Resource"])) for s in granted for a in as_list(s["Action"])}
    machine = f"arn:aws:states:{catalog.region}:{catalog.account_id}:stateMachine:{catalog.prefix}-service-outage"
    assert by_action["states:StartExecution"] == by_action["states:ListExecutions"] == {machine}
    assert by_action["states:DescribeExecution"] == {machine.replace(":stateMachine:", ":execution:") + ":*"}
    assert "lambda:InvokeFunction" not in by_action and not any(a.startswith("states:Send") for a in by_action)
