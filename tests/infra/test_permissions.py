"""Least privilege: each function's role holds exactly its core needs, its playbook's declared reads and
the IAM actions of the actions it may plan, on the catalog's resources; '*' only where acknowledged."""

from __future__ import annotations

from typing import Any

import pytest

import functions.actions  # noqa: F401 - registers every action
from functions.core.actions import REGISTRY
from functions.playbooks import CORE_READS, PLAYBOOKS, PlaybookDeclaration
from infra.permissions import declared_statements, function_statements, resource_arns
from tests.infra.helpers import Synth, resources

pytestmark = pytest.mark.infra

# What functions.core.runtime and its adapters call, whatever the playbook: written out here on purpose,
# a second opinion on infra/permissions.py rather than a copy of it.
CORE_NEEDS = {
    "logs:CreateLogStream", "logs:PutLogEvents",  # its own log group
    "xray:PutTraceSegments", "xray:PutTelemetryRecords",  # active tracing
    "dynamodb:PutItem",  # audit trail
    "dynamodb:GetItem",  # circuit breaker (with PutItem)
    "dynamodb:UpdateItem", "dynamodb:DeleteItem",  # Powertools idempotency (with Get/PutItem)
    "ssm:GetParameter",  # kill switch
    "sns:Publish",  # on-call notification
    "sqs:SendMessage",  # on-failure destination
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any], function_name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every statement granted to the function's role, with the policy resource that grants it."""
    [function] = [f for f in resources(template, "AWS::Lambda::Function").values()
                  if f["Properties"]["FunctionName"] == function_name]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, "no managed policies: every permission is written out"
    assert "Policies" not in role
    granted = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            granted += [(s, policy) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert all(s["Effect"] == "Allow" for s, _ in granted)
    return granted


def expected_actions(declaration: PlaybookDeclaration) -> set[str]:
    return (CORE_NEEDS | set(CORE_READS) | set(declaration.reads)
            | {a for name in declaration.actions for a in REGISTRY[name].iam_actions})


def function_name(synth: Synth, playbook: str) -> str:
    return f"{synth.catalog.prefix}-{playbook.replace('_', '-')}"


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
def test_role_grants_exactly_what_the_playbook_declares(synth: Synth, playbook: str) -> None:
    granted = role_statements(synth.remediation, function_name(synth, playbook))
    actions = {a for s, _ in granted for a in as_list(s["Action"])}
    assert actions == expected_actions(PLAYBOOKS[playbook])


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
def test_template_policy_is_infra_permissions(synth: Synth, playbook: str) -> None:
    granted = role_statements(synth.remediation, function_name(synth, playbook))
    actual = {(s["Sid"], frozenset(as_list(s["Action"])), frozenset(as_list(s["Resource"]))) for s, _ in granted}
    planned = {(s.sid, frozenset(s.actions), frozenset(s.resources))
               for s in function_statements(synth.catalog, PLAYBOOKS[playbook])}
    assert actual == planned


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
def test_declared_actions_are_scoped_to_the_catalog_resources_of_their_kind(synth: Synth, playbook: str) -> None:
    catalog = synth.catalog
    glue_jobs = {f"arn:aws:glue:{catalog.region}:{catalog.account_id}:job/{j.name}" for j in catalog.glue_jobs}
    granted = role_statements(synth.remediation, function_name(synth, playbook))
    by_action: dict[str, set[str]] = {}
    for statement, _ in granted:
        for action in as_list(statement["Action"]):
            by_action.setdefault(action, set()).update(as_list(statement["Resource"]))
    declaration = PLAYBOOKS[playbook]
    for name in declaration.actions:
        spec = REGISTRY[name]
        assert spec.resource_kind == "glue_job", "extend this test with the new kind's expected ARNs"
        for action in spec.iam_actions:
            assert by_action[action] == glue_jobs, action
    for read in declaration.reads:
        assert by_action[read] == glue_jobs, read


def test_core_grants_point_at_this_services_own_resources(synth: Synth) -> None:
    catalog = synth.catalog
    arn = f"arn:aws:{{}}:{catalog.region}:{catalog.account_id}:{{}}"
    expected = {
        "dynamodb:PutItem": {arn.format("dynamodb", f"table/{catalog.prefix}-{t}")
                             for t in ("audit", "breaker", "idempotency")},
        "dynamodb:GetItem": {arn.format("dynamodb", f"table/{catalog.prefix}-{t}") for t in ("breaker", "idempotency")},
        "dynamodb:UpdateItem": {arn.format("dynamodb", f"table/{catalog.prefix}-idempotency")},
        "dynamodb:DeleteItem": {arn.format("dynamodb", f"table/{catalog.prefix}-idempotency")},
        "ssm:GetParameter": {arn.format("ssm", f"parameter{catalog.guardrails.kill_switch_parameter}")},
        "sns:Publish": {arn.format("sns", catalog.notifications.on_call_topic)},
        "sqs:SendMessage": {arn.format("sqs", f"{catalog.prefix}-unhandled-events")},
        "cloudwatch:DescribeAlarms": {arn.format("cloudwatch", f"alarm:{catalog.prefix}/*")},
    }
    for playbook in PLAYBOOKS:
        by_action: dict[str, set[str]] = {}
        for statement, _ in role_statements(synth.remediation, function_name(synth, playbook)):
            for action in as_list(statement["Action"]):
                by_action.setdefault(action, set()).update(as_list(statement["Resource"]))
        for action, arns in expected.items():
            assert by_action[action] == arns, action
        assert by_action["logs:PutLogEvents"] == {
            arn.format("logs", f"log-group:/aws/lambda/{function_name(synth, playbook)}:*")}


def test_wildcards_only_where_an_acknowledgment_explains_them(synth: Synth) -> None:
    for template in synth.templates.values():
        for policy in resources(template, "AWS::IAM::Policy").values():
            acknowledged = {r["id"]: r["reason"]
                            for r in policy.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert not any("*" in a for a in as_list(statement["Action"])), statement
                for resource in as_list(statement["Resource"]):
                    if "*" not in str(resource):
                        continue
                    reason = acknowledged.get(f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", "")
                    assert len(reason) > 20, f"{resource} is not acknowledged with a reason"
                    if resource == "*":
                        assert set(as_list(statement["Action"])) <= {"xray:PutTraceSegments",
                                                                    "xray:PutTelemetryRecords"}


def test_every_resource_kind_has_an_arn_mapping(synth: Synth) -> None:
    catalog = synth.catalog
    kinds = {spec.resource_kind for spec in REGISTRY.values()} | {"glue_job", "redshift_cluster", "msk_cluster",
                                                                    "s3_bucket"}
    for kind in kinds:
        arns = resource_arns(catalog, kind)  # type: ignore[arg-type]
        assert arns and all(a.startswith("arn:aws:") for a in arns)


def test_a_read_of_an_unmapped_service_is_refused(synth: Synth) -> None:
    undeclared = PlaybookDeclaration(name="x", runbook_section="", handler="", signals=(),
                                     reads=("athena:GetQueryResults",), actions=())
    with pytest.raises(ValueError, match="no resource scope"):
        declared_statements(synth.catalog, undeclared)
