"""ProceduresStack: one Standard state machine per procedure, approval before every destructive state, Retry
and Catch on every task into one failure path, logging ALL and X-Ray, direct integrations for AWS calls,
and roles holding exactly what the states and the step declarations use."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.procedures import PROCEDURES, STEP_FUNCTIONS, state_machine_name, step_function_name
from functions.procedures.runtime import ProcedureSettings
from infra.constructs.procedure_permissions import NO_RESOURCE_LEVEL, step_statements
from tests.infra.helpers import Synth, resources

pytestmark = pytest.mark.infra

# aws-sdk service name in a Resource -> IAM prefix
IAM_PREFIX = {"glue": "glue", "redshift": "redshift", "kafka": "kafka", "iam": "iam", "ec2": "ec2",
              "secretsmanager": "secretsmanager", "dynamodb": "dynamodb", "sns": "sns"}
DELIVERY = {a for a in NO_RESOURCE_LEVEL if a.startswith("logs:")}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def template(synth: Synth) -> dict[str, Any]:
    return synth.templates[f"{synth.catalog.prefix}-procedures"]


def machines(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    """procedure -> (logical id, properties) of its state machine."""
    found = {}
    for logical, resource in resources(template(synth), "AWS::StepFunctions::StateMachine").items():
        name = resource["Properties"]["StateMachineName"]
        procedure = name.removeprefix(f"{synth.catalog.prefix}-")
        found[procedure] = (logical, resource["Properties"])
    return found


def definition(props: dict[str, Any]) -> dict[str, Any]:
    """The ASL, tokens (function ARNs, partition) written as <Logical.Attr> placeholders."""
    parts = props["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else f"<{_token(p)}>" for p in parts)
    return dict(json.loads(text))


def _token(value: dict[str, Any]) -> str:
    if "Fn::GetAtt" in value:
        return ".".join(value["Fn::GetAtt"])
    return str(value.get("Ref", value))


def states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, Map item processors included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in asl["States"].items():
        found[name] = state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found |= states(processor)
    return found


def successors(state: dict[str, Any]) -> list[str]:
    nxt = [state["Next"]] if "Next" in state else []
    nxt += [c["Next"] for c in state.get("Choices", [])]
    nxt += [state["Default"]] if "Default" in state else []
    nxt += [c["Next"] for c in state.get("Catch", [])]
    return nxt


def test_one_standard_state_machine_per_procedure_with_logging_all_and_tracing(synth: Synth) -> None:
    found = machines(synth)
    assert set(found) == set(PROCEDURES)
    for procedure, (_, props) in found.items():
        assert props["StateMachineName"] == state_machine_name(synth.catalog.prefix, procedure)
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}
        logging = props["LoggingConfiguration"]
        assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is True
        assert definition(props)["TimeoutSeconds"] > 86_400  # longer than the approval's hard cap


@pytest.mark.parametrize("procedure", sorted(PROCEDURES))
def test_nothing_destructive_is_reachable_without_passing_the_approval(synth: Synth, procedure: str) -> None:
    asl = definition(machines(synth)[procedure][1])
    top = asl["States"]
    declared = PROCEDURES[procedure].destructive
    assert set(declared) <= set(top), set(declared) - set(top)
    reachable, frontier = set(), [asl["StartAt"]]
    while frontier:  # every state reachable from the start without going through the approval
        name = frontier.pop()
        if name in reachable or name == "Approval":
            continue
        reachable.add(name)
        frontier += successors(top[name])
    assert not reachable & set(declared), f"{procedure}: {reachable & set(declared)} reachable without approval"
    approval = top["Approval"]
    assert approval["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert approval["HeartbeatSecondsPath"] == "$.approval_timeout_seconds"
    assert approval["TimeoutSeconds"] == 86_400
    assert approval["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert top[approval["Next"]]["Type"] == "Choice"  # and only an answer that approves goes on


# Security incident: a rotation that fails must not keep the keys active (the report says to rotate by hand).
CONTAINMENT_GOES_ON = {"RotateSecret": ("RotationFailed", "$.results.RotateSecret")}


@pytest.mark.parametrize("procedure", sorted(PROCEDURES))
def test_every_task_retries_service_errors_and_catches_into_the_one_failure_path(synth: Synth,
                                                                                 procedure: str) -> None:
    asl = definition(machines(synth)[procedure][1])
    top = asl["States"]
    inner = {n for s in top.values() for n in states(s.get("ItemProcessor") or {"States": {}})}
    for name, state in states(asl).items():
        if state["Type"] not in ("Task", "Map"):
            continue
        assert "TimeoutSeconds" in state or state["Type"] == "Map", name
        if state["Type"] == "Task" and name != "NotifyFailure":
            assert state.get("Retry"), f"{name} has no Retry"
            assert all(not e.startswith("States.ALL") for r in state["Retry"] for e in r["ErrorEquals"]), name
        if name in inner:
            continue  # inside a Map: the Map's own Catch covers it
        if name == "NotifyFailure":
            assert [c["Next"] for c in state["Catch"]] == ["FailedUnreported"]
            continue
        catches = state.get("Catch", [])
        assert [c["ErrorEquals"] for c in catches] == [["States.ALL"]], name
        if name in CONTAINMENT_GOES_ON:  # its failure is recorded and the next step runs all the same
            assert (catches[0]["Next"], catches[0]["ResultPath"]) == CONTAINMENT_GOES_ON[name]
            assert top[catches[0]["Next"]]["Next"] == "DeactivateKeys"
            continue
        marker = top[catches[0]["Next"]]
        assert marker["Type"] == "Pass" and marker["Result"] == {"step": name} and marker["Next"] == "NotifyFailure"
    failed = top["Failed"]
    assert (failed["ErrorPath"], failed["CausePath"]) == ("$.outcome.error", "$.outcome.cause")
    assert top["NotifyFailure"]["Next"] == "Failed"


@pytest.mark.parametrize("procedure", sorted(PROCEDURES))
def test_aws_calls_are_direct_integrations_and_lambdas_are_the_declared_steps(synth: Synth, procedure: str) -> None:
    asl = definition(machines(synth)[procedure][1])
    step_functions = {step_function_name(synth.catalog.prefix, s) for s in PROCEDURES[procedure].step_functions}
    functions = {logical: r["Properties"]["FunctionName"]
                 for logical, r in resources(template(synth), "AWS::Lambda::Function").items()}
    invoked = set()
    for name, state in states(asl).items():
        if state["Type"] != "Task":
            continue
        resource = state["Resource"]
        if ":states:::aws-sdk:" in resource:
            continue
        token = re.search(r"<([A-Za-z0-9]+)\.Arn>", resource + json.dumps(state.get("Parameters", {})))
        assert token, f"{name}: {resource} is neither aws-sdk nor a step function"
        invoked.add(functions[token.group(1)])
    assert invoked == step_functions


def role_policy(synth: Synth, role_logical: str) -> list[dict[str, Any]]:
    granted = []
    for policy in resources(template(synth), "AWS::IAM::Policy").values():
        if {"Ref": role_logical} in policy["Properties"].get("Roles", []):
            granted += policy["Properties"]["PolicyDocument"]["Statement"]
    return granted


@pytest.mark.parametrize("procedure", sorted(PROCEDURES))
def test_the_state_machine_role_holds_exactly_what_its_states_call(synth: Synth, procedure: str) -> None:
    _, props = machines(synth)[procedure]
    role = props["RoleArn"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in template(synth)["Resources"][role]["Properties"]
    granted = role_policy(synth, role)
    actions = {a for s in granted for a in as_list(s["Action"])}
    called = set()
    for state in states(definition(props)).values():
        match = re.search(r":states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)", state.get("Resource", ""))
        if match:
            called.add(f"{IAM_PREFIX[match.group(1)]}:{match.group(2)[0].upper()}{match.group(2)[1:]}")
    passes = {"iam:PassRole"} if "glue:UpdateJob" in called else set()
    assert actions == {"lambda:InvokeFunction"} | called | passes | DELIVERY | XRAY
    for statement in granted:
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= NO_RESOURCE_LEVEL.keys(), statement
        if "iam:PassRole" in as_list(statement["Action"]):
            assert all(":role/" in r and "*" not in r for r in as_list(statement["Resource"]))


def test_each_step_function_role_is_exactly_its_declaration(synth: Synth) -> None:
    functions = {r["Properties"]["FunctionName"]: r["Properties"]
                 for r in resources(template(synth), "AWS::Lambda::Function").values()}
    roles = set()
    for name, declaration in STEP_FUNCTIONS.items():
        props = functions[step_function_name(synth.catalog.prefix, name)]
        assert props["Handler"] == declaration.handler
        role = props["Role"]["Fn::GetAtt"][0]
        roles.add(role)
        actual = {(s["Sid"], frozenset(as_list(s["Action"])), frozenset(as_list(s["Resource"])))
                  for s in role_policy(synth, role)}
        planned = {(s.sid, frozenset(s.actions), frozenset(s.resources))
                   for s in step_statements(synth.catalog, declaration)}
        assert actual == planned, name
        variables = set(props["Environment"]["Variables"])
        # The escalation topic is the report's alone (its role alone may publish there).
        own = {"ESCALATION_TOPIC_ARN"} if name == "report" else set()
        assert variables == {f.alias for f in ProcedureSettings.model_fields.values()
                             if f.alias != "ESCALATION_TOPIC_ARN"} | own | {
            "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}
        assert props["TracingConfig"] == {"Mode": "Active"}
    assert len(roles) == len(STEP_FUNCTIONS), "a role per step function, none shared"


def test_the_approvals_table_and_its_tokens_table(synth: Synth) -> None:
    tables = {r["Properties"]["TableName"]: r["Properties"]
              for r in resources(template(synth), "AWS::DynamoDB::Table").values()}
    prefix = synth.catalog.prefix
    # People read the approvals (remedy incident status|list); the task tokens that answer them sit apart, read
    # only by the answer function (issue 13: nobody can SendTaskSuccess with a token they read).
    assert set(tables) == {f"{prefix}-approvals", f"{prefix}-approvals-tokens"}
    for table in tables.values():
        assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"incident_id": "HASH",
                                                                               "approval": "RANGE"}
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_only_iam5_is_acknowledged_in_the_procedures_stack_and_each_with_a_reason(synth: Synth) -> None:
    for policy in resources(template(synth), "AWS::IAM::Policy").values():
        for rule in policy.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            assert rule["id"].startswith("AwsSolutions::AwsSolutions-IAM5[") and len(rule["reason"]) > 20, rule


def test_procedure_approvals_are_swept_every_five_minutes_by_the_approval_step(synth: Synth) -> None:
    """Reminders at half the window (issue 13): a schedule on the approval step, which may read the pending
    approvals and mark each reminded, and nothing more; the lapse notice is the report's, on the escalation topic."""
    prefix = synth.catalog.prefix
    rules = {r["Properties"]["Name"]: r["Properties"] for r in resources(template(synth), "AWS::Events::Rule").values()}
    sweep = rules[f"{prefix}-approval-sweep"]
    assert sweep["ScheduleExpression"] == "rate(5 minutes)"
    [target] = sweep["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    functions = {k: r["Properties"] for k, r in resources(template(synth), "AWS::Lambda::Function").items()}
    [approval] = [k for k, p in functions.items() if p["FunctionName"] == step_function_name(prefix, "approval")]
    assert target["Arn"] == {"Fn::GetAtt": [approval, "Arn"]}
    permissions = [p["Properties"] for p in resources(template(synth), "AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [approval, "Arn"]}]
    assert [p["Principal"] for p in permissions] == ["events.amazonaws.com"]
    grants = {a for g in STEP_FUNCTIONS["approval"].grants if g.scope == "approvals_table" for a in g.actions}
    assert grants == {"dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"}
    assert [g.scope for g in STEP_FUNCTIONS["report"].grants if g.scope == "escalation_topic"] == ["escalation_topic"]
