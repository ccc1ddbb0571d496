"""IAM is enforced in the sandbox (sandbox.iam): a grant taken out of the synthesized templates makes the game
day fail with AccessDenied as AWS words it, and the grants of findings 1 and 2 (actions the IAM service
reference lists without a resource type, granted on ARNs) are denied again if they come back."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from functions.core.catalog import catalog_path_for
from remedy.gameday import registry
from remedy.gameday.drill import Drill
from sandbox import iam
from sandbox.core import Sandbox
from sandbox.templates import templates_for

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION, CLUSTER = "111111111111", "eu-west-1", "retail-redshift-dev"
SNAPSHOTS = f"arn:aws:redshift:{REGION}:{ACCOUNT}:snapshot:{CLUSTER}/*"
CLUSTER_ARN = f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:{CLUSTER}"


def _statements(templates: dict[str, Any], policy: str) -> list[dict[str, Any]]:
    """The statements of the AWS::IAM::Policy whose logical id starts with `policy`."""
    for template in templates.values():
        for logical, resource in template["Resources"].items():
            if resource["Type"] == "AWS::IAM::Policy" and logical.startswith(policy):
                return list(resource["Properties"]["PolicyDocument"]["Statement"])
    raise KeyError(policy)


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return list(action) if isinstance(action, list) else [action]


def _take_out(templates: dict[str, Any], policy: str, action: str) -> None:
    """Remove one action from a role's policy (the statement goes if it had only that action)."""
    for template in templates.values():
        for logical, resource in template["Resources"].items():
            if resource["Type"] == "AWS::IAM::Policy" and logical.startswith(policy):
                document = resource["Properties"]["PolicyDocument"]
                kept = []
                for statement in document["Statement"]:
                    actions = [a for a in _actions(statement) if a != action]
                    if actions:
                        kept.append({**statement, "Action": actions})
                assert kept != document["Statement"], f"{policy} does not grant {action}"
                document["Statement"] = kept
                return
    raise KeyError(policy)


def _grant_on(templates: dict[str, Any], policy: str, action: str, resource: str) -> None:
    """Put an action back on an ARN, as it was granted before findings 1 and 2 were fixed."""
    _take_out(templates, policy, action)
    for template in templates.values():
        for logical, res in template["Resources"].items():
            if res["Type"] == "AWS::IAM::Policy" and logical.startswith(policy):
                res["Properties"]["PolicyDocument"]["Statement"].append(
                    {"Sid": "AsBefore", "Effect": "Allow", "Action": action, "Resource": resource})


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    templates = copy.deepcopy(templates_for("dev", catalog_path_for("dev", ROOT)))
    # One needed action taken out of the weekly review's role.
    _take_out(templates, "WeeklyReviewPolicy", "cloudwatch:DescribeAlarmHistory")
    # Findings 1 and 2 as they were: '*'-only actions granted on ARNs.
    _grant_on(templates, "PosturePolicy", "redshift:DescribeClusterSnapshots", SNAPSHOTS)
    _grant_on(templates, "StepCorruptionAssessPolicy", "redshift:DescribeClusterSnapshots", SNAPSHOTS)
    _grant_on(templates, "DataCorruptionMachinePolicy", "redshift:DescribeTableRestoreStatus", CLUSTER_ARN)
    sandbox = Sandbox("dev", workdir=tmp_path_factory.mktemp("strict")).start(templates)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(strict: Sandbox) -> Sandbox:
    strict.reset()
    return strict


def _client(sandbox: Sandbox, service: str, key: str) -> Any:
    creds = iam.credentials(key)
    return boto3.client(service, endpoint_url=sandbox.account.endpoint, region_name=REGION,
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds["AWS_SESSION_TOKEN"],
                        config=Config(retries={"total_max_attempts": 1}))


def _role(sandbox: Sandbox, logical_prefix: str) -> str:
    return next(arn for arn, role in sandbox.deployment.roles.items() if f"-{logical_prefix}" in role.name)


def test_taking_one_needed_action_out_fails_the_scenario_with_access_denied(sandbox: Sandbox) -> None:
    spec = sandbox.function("remedy-dev-weekly-review")
    role = spec.role_arn.rsplit("/", 1)[1]
    denied = len(iam.DENIALS)
    drill = Drill(sandbox)
    stopped = None
    try:
        registry.select(["weekly-review"])[0].run(drill)
    except Exception as error:  # a scenario may also stop on what it could not read
        stopped = error
    assert stopped is not None or not drill.passed
    mine = [d for d in iam.DENIALS[denied:] if d.principal.endswith(f"/{role}/remedy-dev-weekly-review")]
    assert mine, iam.DENIALS[denied:]
    assert mine[0].action == "cloudwatch:DescribeAlarmHistory"
    assert mine[0].message.startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/remedy-dev-weekly-review is not authorized to perform: "
        f"cloudwatch:DescribeAlarmHistory on resource: arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:")
    assert mine[0].message.endswith("because no identity-based policy allows the cloudwatch:DescribeAlarmHistory "
                                    "action")


def test_finding_2_describe_cluster_snapshots_granted_on_snapshot_arns_is_denied(sandbox: Sandbox) -> None:
    for function in ("remedy-dev-procedure-corruption-assess", "remedy-dev-posture"):
        spec = sandbox.function(function)
        redshift = _client(sandbox, "redshift", iam.function_key(spec))
        with pytest.raises(ClientError) as denied:
            redshift.describe_cluster_snapshots(ClusterIdentifier=CLUSTER)
        error = denied.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
        assert error["Error"]["Message"] == (
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{spec.role_arn.rsplit('/', 1)[1]}/{function} is not "
            "authorized to perform: redshift:DescribeClusterSnapshots on resource: * because no identity-based "
            "policy allows the redshift:DescribeClusterSnapshots action")
    # and the daily posture job turns it into a promise it could not check
    invocation = sandbox.run_schedules(names=["remedy-dev-posture"])[0].invocations[0]
    assert "AccessDenied" in str(invocation.result) + "".join(invocation.logs) + str(invocation.error)


def test_finding_1_describe_table_restore_status_granted_on_the_cluster_is_denied_to_the_state_machine(
        sandbox: Sandbox) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
    from moto.stepfunctions.parser.asl.utils import boto_client

    role = _role(sandbox, "DataCorruptionMachineRole")
    # The client moto's interpreter builds for the CheckRestore aws-sdk task: signed with the machine's role.
    redshift = boto_client.boto_client_for(REGION, "redshift", StateCredentials(role_arn=role))
    with pytest.raises(ClientError) as denied:
        redshift.describe_table_restore_status(ClusterIdentifier=CLUSTER, TableRestoreRequestId="r-1")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert (f"assumed-role/{role.rsplit('/', 1)[1]}/StepFunctions is not authorized to perform: "
            "redshift:DescribeTableRestoreStatus on resource: *") in denied.value.response["Error"]["Message"]


def test_each_protocol_answers_a_denial_with_its_own_error_code(sandbox: Sandbox) -> None:
    key = iam.function_key(sandbox.function("remedy-dev-posture"))  # grants no Glue, SNS or EC2 call
    cases = [
        (lambda: _client(sandbox, "glue", key).get_job(JobName="orders-stream"), "AccessDeniedException", 400,
         f"glue:GetJob on resource: arn:aws:glue:{REGION}:{ACCOUNT}:job/orders-stream"),
        (lambda: _client(sandbox, "sns", key).publish(
            TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:remedy-dev-on-call", Message="x"), "AuthorizationError", 403,
         f"SNS:Publish on resource: arn:aws:sns:{REGION}:{ACCOUNT}:remedy-dev-on-call"),
        (lambda: _client(sandbox, "ec2", key).describe_security_groups(), "UnauthorizedOperation", 403,
         "ec2:DescribeSecurityGroups because"),
        (lambda: _client(sandbox, "s3", key).get_object(Bucket="retail-datalake-dev", Key="x"), "AccessDenied", 403,
         "s3:GetObject on resource: arn:aws:s3:::retail-datalake-dev/x"),
    ]
    for call, code, status, text in cases:
        with pytest.raises(ClientError) as denied:
            call()
        error = denied.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), error
        assert text in error["Error"]["Message"], error["Error"]["Message"]
    # the sandbox's own key is not evaluated
    assert sandbox.client("glue").get_job(JobName="orders-stream")["Job"]["Name"] == "orders-stream"


def test_a_call_the_table_does_not_know_fails_loudly(sandbox: Sandbox) -> None:
    key = iam.function_key(sandbox.function("remedy-dev-posture"))
    before = len(iam.UNMAPPED)
    with pytest.raises(ClientError) as failed:
        _client(sandbox, "glue", key).delete_job(JobName="orders-stream")
    assert failed.value.response["Error"]["Code"] == "SandboxUnmappedOperation"
    assert iam.UNMAPPED[before:] and "glue:DeleteJob has no row" in iam.UNMAPPED[-1]
