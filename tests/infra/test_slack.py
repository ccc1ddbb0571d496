"""The Slack function in the templates (infra/constructs/slack.py): exactly its declared grants, a public function
URL (Slack cannot SigV4-sign) with the resource-based statements Lambda requires and checkov's skip saying why,
the on-call topic's lambda subscription, Bolt in a layer of its own, asynchronous delivery to the failure queue."""

from __future__ import annotations

from typing import Any

import pytest

from infra.constructs.slack import SLACK_LAYER, chat_table, slack_function_name, slack_statements
from tests.infra.helpers import Synth, resources

pytestmark = pytest.mark.infra


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def slack_function(synth: Synth) -> tuple[str, dict[str, Any]]:
    name = slack_function_name(synth.catalog)
    [(logical, function)] = [(k, v) for k, v in resources(synth.remediation, "AWS::Lambda::Function").items()
                             if v["Properties"].get("FunctionName") == name]
    return logical, function


def test_the_slack_role_holds_exactly_its_declared_statements(synth: Synth) -> None:
    _, function = slack_function(synth)
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = [s for p in resources(synth.remediation, "AWS::IAM::Policy").values()
               if {"Ref": role} in p["Properties"].get("Roles", [])
               for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actual = {(s["Sid"], frozenset(as_list(s["Action"])), frozenset(as_list(s["Resource"]))) for s in granted}
    planned = {(s.sid, frozenset(s.actions), frozenset(s.resources)) for s in slack_statements(synth.catalog)}
    assert actual == planned
    by_action = {a: set(as_list(s["Resource"])) for s in granted for a in as_list(s["Action"])}
    catalog = synth.catalog
    assert by_action["lambda:InvokeFunction"] == {
        f"arn:aws:lambda:{catalog.region}:{catalog.account_id}:function:{catalog.prefix}-answer",
        f"arn:aws:lambda:{catalog.region}:{catalog.account_id}:function:{slack_function_name(catalog)}"}
    assert not any(a.startswith(("states:", "glue:", "kafka:", "redshift:")) for a in by_action)  # answers only
    slack = catalog.notifications.slack
    assert slack is not None
    assert by_action["secretsmanager:GetSecretValue"] == {
        f"arn:aws:secretsmanager:{catalog.region}:{catalog.account_id}:secret:{name}-??????"
        for name in (slack.signing_secret, slack.bot_token)}


def test_its_url_is_public_with_lambdas_two_statements_and_checkovs_reason(synth: Synth) -> None:
    logical, _ = slack_function(synth)
    [url] = [u for u in resources(synth.remediation, "AWS::Lambda::Url").values()
             if u["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": [logical, "Arn"]}]
    assert url["Properties"]["AuthType"] == "NONE"
    skips = {s["id"]: s["comment"] for s in url["Metadata"]["checkov"]["skip"]}
    assert "Slack cannot sign requests with SigV4" in skips["CKV_AWS_258"]
    public = [p["Properties"] for p in resources(synth.remediation, "AWS::Lambda::Permission").values()
              if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [logical, "Arn"]} and p["Properties"]["Principal"] == "*"]
    assert {(p["Action"], p.get("FunctionUrlAuthType"), p.get("InvokedViaFunctionUrl")) for p in public} == {
        ("lambda:InvokeFunctionUrl", "NONE", None), ("lambda:InvokeFunction", None, True)}


def test_notifications_reach_it_and_failed_events_go_to_the_queue(synth: Synth) -> None:
    logical, function = slack_function(synth)
    [subscription] = [s["Properties"] for s in resources(synth.remediation, "AWS::SNS::Subscription").values()
                      if s["Properties"]["Protocol"] == "lambda"]
    assert subscription["Endpoint"] == {"Fn::GetAtt": [logical, "Arn"]}
    [config] = [c["Properties"] for c in resources(synth.remediation, "AWS::Lambda::EventInvokeConfig").values()
                if c["Properties"]["FunctionName"] == {"Ref": logical}]
    assert config["MaximumRetryAttempts"] == 2 and config["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        f":{synth.catalog.prefix}-unhandled-events")
    env = function["Properties"]["Environment"]["Variables"]
    assert env["CHAT_TABLE"] == chat_table(synth.catalog) and env["ANSWER_FUNCTION"] == f"{synth.catalog.prefix}-answer"
    assert "SLACK_API_URL" not in env  # Slack's own API in AWS; only the sandbox points it elsewhere
    layers = [layer for layer in resources(synth.remediation, "AWS::Lambda::LayerVersion").values()
              if "slack-bolt" in layer["Properties"].get("Description", "")]
    assert len(layers) == 1 and all(pin in layers[0]["Properties"]["Description"] for pin in SLACK_LAYER)
