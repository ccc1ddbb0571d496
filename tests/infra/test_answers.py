"""The answer function in the templates (infra/constructs/answers.py): its role is exactly its declared statements
and the only one that answers task tokens; its URL is AWS_IAM; the responder policy lets people call that URL and
nothing that answers by itself; nobody but the Slack function may invoke it directly."""

from __future__ import annotations

from typing import Any

import pytest

from functions.answers import answer_function_name
from infra.constructs.answers import answer_statements, responder_statements
from tests.infra.helpers import Synth, resources

pytestmark = pytest.mark.infra


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def procedures(synth: Synth) -> dict[str, Any]:
    return synth.templates[f"{synth.catalog.prefix}-procedures"]


def test_the_answer_role_holds_exactly_its_declared_statements_and_its_url_is_aws_iam(synth: Synth) -> None:
    template = procedures(synth)
    [(logical, function)] = [(k, v) for k, v in resources(template, "AWS::Lambda::Function").items()
                             if v["Properties"].get("FunctionName") == answer_function_name(synth.catalog.prefix)]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = [s for p in resources(template, "AWS::IAM::Policy").values()
               if {"Ref": role} in p["Properties"].get("Roles", []) for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actual = {(s["Sid"], frozenset(as_list(s["Action"])), frozenset(as_list(s["Resource"]))) for s in granted}
    assert actual == {(s.sid, frozenset(s.actions), frozenset(s.resources)) for s in answer_statements(synth.catalog)}
    [url] = [u["Properties"] for u in resources(template, "AWS::Lambda::Url").values()
             if u["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": [logical, "Arn"]}]
    assert url["AuthType"] == "AWS_IAM"


def every_statement(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for stack, template in synth.templates.items():
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for logical, policy in resources(template, kind).items():
                found += [(f"{stack}/{logical}", s) for s in as_list(policy["Properties"]["PolicyDocument"]["Statement"])]
    return found


def test_only_the_answer_role_answers_task_tokens_and_reads_them(synth: Synth) -> None:
    tokens = f"{synth.catalog.prefix}-approvals-tokens"
    senders = {where for where, s in every_statement(synth)
               if any(a.startswith("states:SendTask") or a == "states:*" for a in as_list(s["Action"]))}
    readers = {where for where, s in every_statement(synth) if any(tokens in str(r) for r in as_list(s["Resource"]))
               and any(a in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan") for a in as_list(s["Action"]))}
    assert len(senders) == 1 and all("Answers" in w for w in senders), senders
    assert len(readers) == 1 and all("Answers" in w for w in readers), readers


def test_only_the_slack_role_invokes_the_answer_function_directly(synth: Synth) -> None:
    arn = (f"arn:aws:lambda:{synth.catalog.region}:{synth.catalog.account_id}:function:"
           f"{answer_function_name(synth.catalog.prefix)}")
    direct = {where for where, s in every_statement(synth)
              if "lambda:InvokeFunction" in as_list(s["Action"]) and arn in as_list(s["Resource"])
              and "lambda:InvokedViaFunctionUrl" not in str(s.get("Condition", {}))}
    assert len(direct) == 1 and all("Slack" in w for w in direct), direct


def test_the_responder_policy_calls_the_signed_url_and_nothing_that_answers_by_itself(synth: Synth) -> None:
    statements = {s.sid: s for s in responder_statements(synth.catalog)}
    actions = {a for s in statements.values() for a in s.actions}
    assert not any(a.startswith("states:SendTask") for a in actions)
    assert statements["AnswerThroughTheSignedUrl"].conditions == {
        "StringEquals": {"lambda:FunctionUrlAuthType": ("AWS_IAM",)}}
    assert statements["InvokeOnlyThroughTheUrl"].conditions == {"Bool": {"lambda:InvokedViaFunctionUrl": ("true",)}}
    assert not any("tokens" in r for s in statements.values() for r in s.resources)
    [policy] = [p["Properties"] for p in resources(procedures(synth), "AWS::IAM::ManagedPolicy").values()]
    assert policy["ManagedPolicyName"] == f"{synth.catalog.prefix}-responder"
