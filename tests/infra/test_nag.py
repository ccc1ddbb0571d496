"""cdk-nag (AwsSolutions) runs at synthesis: the app passes, a finding nobody acknowledged fails it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns

from infra.nag import acknowledge, add_checks
from tests.infra.helpers import Synth

pytestmark = pytest.mark.infra


def test_app_passes_aws_solutions_with_every_acknowledgment_reasoned(synth: Synth) -> None:
    [report] = [r for r in synth.report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    acknowledged = report.get("suppressedViolations", [])
    assert acknowledged, "the report lists what was acknowledged"
    for finding in acknowledged:
        assert len(finding["reason"]) > 20, finding["ruleName"]
        # Narrow: on the resource itself (or its L2), never on a stack or the app.
        assert finding["acknowledgedAt"].count("/") >= 2, finding["acknowledgedAt"]
    assert {f["ruleName"].split("[")[0] for f in acknowledged} <= {"AwsSolutions-IAM5", "AwsSolutions-SQS3"}


def synth_fails(app: App, outdir: Path) -> list[str]:
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    return [v["ruleName"] for r in report["pluginReports"] for v in r["violations"]]


def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    add_checks(app)
    stack = Stack(app, "Broken")
    sns.Topic(stack, "PlainTopic")  # no enforce_ssl: AwsSolutions-SNS3
    assert "AwsSolutions-SNS3" in synth_fails(app, tmp_path)


def test_an_acknowledgment_covers_only_the_finding_it_names(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    add_checks(app)
    stack = Stack(app, "Wildcards")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    policy = iam.Policy(stack, "Policy", roles=[role], statements=[
        iam.PolicyStatement(actions=["xray:PutTraceSegments"], resources=["*"]),
        iam.PolicyStatement(actions=["glue:StartJobRun"], resources=["arn:aws:glue:eu-west-1:111111111111:job/*"]),
    ])
    acknowledge(policy, "AwsSolutions-IAM5[Resource::*]", "X-Ray has no resource-level permissions at all")
    assert synth_fails(app, tmp_path) == [
        "AwsSolutions-IAM5[Resource::arn:aws:glue:eu-west-1:111111111111:job/*]"]
