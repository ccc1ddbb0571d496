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
    "dynamodb:GetItem", "dynamodb:Scan",  # circuit breaker, leases, approvals, verification windows (+ UpdateItem)
    "dynamodb:UpdateItem", "dynamodb:DeleteItem",  # Powertools idempotency (with Get/PutItem)
    "ssm:GetParameter",  # kill switch
    "sns:Publish",  # on-call notification
    "sqs:SendMessage",  # on-failure destination
}


# Actions IAM authorises only on Resource "*" (no resource-level permissions), written out: a grant on "*" of
# anything else is a wildcard that a narrower ARN could replace.
ONLY_ON_EVERY_RESOURCE = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    # Step Functions' log delivery to CloudWatch Logs (the state machines' logging configuration).
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:ListLogDeliveries",
    "logs:UpdateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    # List and describe calls that take no resource ARN.
    "cloudformation:ListStacks", "cloudtrail:LookupEvents", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
    "kafka:ListClustersV2", "kafka:GetBootstrapBrokers",
    "health:DescribeEvents", "support:CreateCase",
    # Redshift reads the IAM service reference lists without a resource type (issue 11, findings 1 and 2).
    "redshift:DescribeClusterSnapshots", "redshift:DescribeTableRestoreStatus",
    # Lambda manages a VPC function's network interfaces with its role (ids unknown until created).
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    # The Data API's statement calls are authorised on the statement id, which has no ARN.
    "redshift-data:DescribeStatement", "redshift-data:GetStatementResult",
    # The doctor's read-only checks: listing calls the IAM service reference gives no resource type.
    "cloudwatch:ListMetrics", "events:ListRules", "events:TestEventPattern",
    # Answering a task token: the IAM service reference lists SendTask* without a resource type (the token is
    # the authority); only the answer function holds them (tests/infra/test_answers.py).
    "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
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


# A function in a VPC: what Lambda needs to manage its network interfaces (AWSLambdaVPCAccessExecutionRole's actions).
VPC_NEEDS = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
             "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "ec2:DescribeSubnets"}


def expected_actions(declaration: PlaybookDeclaration) -> set[str]:
    return (CORE_NEEDS | set(CORE_READS) | set(declaration.reads)
            | {a for name in declaration.actions for a in REGISTRY[name].iam_actions}
            | (VPC_NEEDS if declaration.in_vpc else set()))


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


def expected_arns(catalog: Any, kind: str) -> set[str]:
    """Written out per kind: a second opinion on infra.permissions.resource_arns."""
    region, account = catalog.region, catalog.account_id
    if kind == "glue_job":
        return {f"arn:aws:glue:{region}:{account}:job/{j.name}" for j in catalog.glue_jobs}
    if kind == "redshift_cluster":
        return {f"arn:aws:redshift:{region}:{account}:cluster:{catalog.redshift.cluster_id}"}
    if kind == "redshift_db_user":
        rs = catalog.redshift
        return {f"arn:aws:redshift:{region}:{account}:dbuser:{rs.cluster_id}/{rs.db_user}",
                f"arn:aws:redshift:{region}:{account}:dbname:{rs.cluster_id}/{rs.database}"}
    if kind == "msk_cluster":
        return {f"arn:aws:kafka:{region}:{account}:cluster/{catalog.msk.cluster_name}/*"}
    if kind == "s3_bucket":
        return {f"arn:aws:s3:::{catalog.s3.name}", f"arn:aws:s3:::{catalog.s3.name}/*"}
    raise AssertionError(f"extend this test with the expected ARNs of kind {kind!r}")


READ_KINDS = {"glue": "glue_job", "redshift": "redshift_cluster", "kafka": "msk_cluster", "s3": "s3_bucket"}


def special_read_arns(catalog: Any, read: str) -> set[str] | None:
    """Reads not scoped by a resource kind, written out: a second opinion on infra.permissions._read_scope."""
    region, account = catalog.region, catalog.account_id
    return {
        "logs:FilterLogEvents": {f"arn:aws:logs:{region}:{account}:log-group:{g}:*"
                                 for g in {j.error_log_group for j in catalog.glue_jobs}},
        "iam:SimulatePrincipalPolicy": {f"arn:aws:iam::{account}:role/*"},
        "glue:GetConnection": {f"arn:aws:glue:{region}:{account}:catalog",
                               f"arn:aws:glue:{region}:{account}:connection/*"},
        "ec2:DescribeSecurityGroups": {"*"}, "ec2:DescribeSubnets": {"*"}, "kafka:ListClustersV2": {"*"},
        "redshift:GetClusterCredentials": expected_arns(catalog, "redshift_db_user"),
        "redshift:DescribeClusterParameters": {
            f"arn:aws:redshift:{region}:{account}:parametergroup:{catalog.redshift.parameter_group}"},
    }.get(read)


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
def test_declared_actions_are_scoped_to_the_catalog_resources_of_their_kind(synth: Synth, playbook: str) -> None:
    catalog = synth.catalog
    granted = role_statements(synth.remediation, function_name(synth, playbook))
    by_sid: dict[str, tuple[set[str], set[str]]] = {
        s["Sid"]: (set(as_list(s["Action"])), set(as_list(s["Resource"]))) for s, _ in granted}
    declaration = PLAYBOOKS[playbook]
    for name in declaration.actions:
        spec = REGISTRY[name]
        statements = [r for a, r in by_sid.values() if set(spec.iam_actions) <= a]
        assert expected_arns(catalog, spec.resource_kind) in statements, name
    for read in declaration.reads:
        statements = [r for a, r in by_sid.values() if read in a]
        expected = special_read_arns(catalog, read) or expected_arns(catalog, READ_KINDS[read.split(":", 1)[0]])
        assert expected in statements, read


def test_core_grants_point_at_this_services_own_resources(synth: Synth) -> None:
    catalog = synth.catalog
    arn = f"arn:aws:{{}}:{catalog.region}:{catalog.account_id}:{{}}"
    expected = {
        "dynamodb:PutItem": {arn.format("dynamodb", f"table/{catalog.prefix}-{t}") for t in ("audit", "idempotency")},
        "dynamodb:GetItem": {arn.format("dynamodb", f"table/{catalog.prefix}-{t}") for t in ("breaker", "idempotency")},
        "dynamodb:UpdateItem": {arn.format("dynamodb", f"table/{catalog.prefix}-{t}")
                                for t in ("breaker", "idempotency")},
        "dynamodb:Scan": {arn.format("dynamodb", f"table/{catalog.prefix}-breaker")},
        "dynamodb:DeleteItem": {arn.format("dynamodb", f"table/{catalog.prefix}-idempotency")},
        "ssm:GetParameter": {arn.format("ssm", f"parameter{catalog.guardrails.kill_switch_parameter}")},
        "sns:Publish": {arn.format("sns", catalog.notifications.on_call_topic),
                        arn.format("sns", catalog.notifications.escalation_topic)},
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
                        assert set(as_list(statement["Action"])) <= ONLY_ON_EVERY_RESOURCE, statement


def test_every_resource_kind_has_an_arn_mapping(synth: Synth) -> None:
    catalog = synth.catalog
    kinds = {spec.resource_kind for spec in REGISTRY.values()} | {"glue_job", "redshift_cluster", "redshift_db_user",
                                                                    "msk_cluster",
                                                                    "s3_bucket"}
    for kind in kinds:
        arns = resource_arns(catalog, kind)  # type: ignore[arg-type]
        assert arns and all(a.startswith("arn:aws:") for a in arns)


def test_a_read_of_an_unmapped_service_is_refused(synth: Synth) -> None:
    undeclared = PlaybookDeclaration(name="x", runbook_section="", handler="", signals=(),
                                     reads=("athena:GetQueryResults",), actions=())
    with pytest.raises(ValueError, match="no resource scope"):
        declared_statements(synth.catalog, undeclared)


# Where each kind of function's exact-grants test is: every function of the templates is one of these kinds.
EXACT_GRANTS_TESTED_IN = {
    "playbook": "test_role_grants_exactly_what_the_playbook_declares (above)",
    "probe": "tests/infra/test_monitoring.py::test_probe_roles_hold_exactly_what_the_probes_call",
    "maintenance job": "tests/infra/test_maintenance_stack.py::test_each_job_role_holds_exactly_its_declared_grants",
    "procedure step": "tests/infra/test_procedures.py::test_each_step_function_role_is_exactly_its_declaration",
    "procedure starter": "tests/infra/test_procedure_start.py::test_the_starter_role_is_exactly_its_declaration",
    "custom resource provider": "tests/infra/test_monitoring.py::test_bucket_request_metrics_are_configured_by_a_"
                                "least_privilege_custom_resource",
    "slack": "tests/infra/test_slack.py::test_the_slack_role_holds_exactly_its_declared_statements",
    "answer": "tests/infra/test_answers.py::test_the_answer_role_holds_exactly_its_declared_statements_and_its_url_"
              "is_aws_iam",
}


def test_every_function_of_the_templates_has_its_exact_grants_tested(synth: Synth) -> None:
    from functions.maintenance import JOBS
    from functions.maintenance import function_name as job_function
    from functions.probes import PROBES
    from functions.procedures import STARTER, STEP_FUNCTIONS, step_function_name

    prefix = synth.catalog.prefix
    kinds = {function_name(synth, p): "playbook" for p in PLAYBOOKS}
    kinds |= {f"{prefix}-probe-{p.replace('_', '-')}": "probe" for p in PROBES}
    kinds |= {job_function(synth.catalog, j): "maintenance job" for j in JOBS}
    kinds |= {step_function_name(prefix, s): "procedure step" for s in STEP_FUNCTIONS}
    kinds[step_function_name(prefix, STARTER.name)] = "procedure starter"
    kinds[f"{prefix}-slack"] = "slack"
    kinds[f"{prefix}-answer"] = "answer"
    unknown = []
    for stack, template in synth.templates.items():
        for logical, function in resources(template, "AWS::Lambda::Function").items():
            name = function["Properties"].get("FunctionName")
            kind = kinds.get(name) if name else ("custom resource provider" if logical.startswith("AWS679f53fac")
                                                 else None)
            if kind not in EXACT_GRANTS_TESTED_IN:
                unknown.append(f"{stack}/{name or logical}")
    assert unknown == [], "functions whose granted IAM actions no test compares with a declaration"
