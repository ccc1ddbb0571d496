"""The sandbox's IAM evaluator (sandbox.iam_policy, sandbox.iam_requests) against AWS's documented rules."""

from __future__ import annotations

import pytest

from sandbox.iam_policy import Decision, PolicyError, Request, denial_message, evaluate, resource_matches, validate
from sandbox.iam_requests import Call, UnmappedOperation, requests_for

ACCOUNT, REGION = "111111111111", "eu-west-1"
JOB = f"arn:aws:glue:{REGION}:{ACCOUNT}:job/orders-stream"
CLUSTER = f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:retail-redshift-dev"


def allow(action: object, resource: object, **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_an_action_matches_case_insensitively_and_with_wildcards() -> None:
    for granted in ("glue:StartJobRun", "GLUE:startjobrun", "glue:Start*", "glue:*", "*", "glue:StartJob???"):
        assert evaluate([allow(granted, JOB)], Request("glue:StartJobRun", (JOB,))).allowed, granted
    assert not evaluate([allow("glue:Get*", JOB)], Request("glue:StartJobRun", (JOB,))).allowed


def test_a_resource_matches_with_wildcards_but_case_sensitively() -> None:
    assert evaluate([allow("glue:StartJobRun", f"arn:aws:glue:{REGION}:{ACCOUNT}:job/*")],
                    Request("glue:StartJobRun", (JOB,))).allowed
    assert not evaluate([allow("glue:StartJobRun", JOB.upper())], Request("glue:StartJobRun", (JOB,))).allowed
    assert not evaluate([allow("glue:StartJobRun", f"arn:aws:glue:{REGION}:{ACCOUNT}:job/sales-*")],
                        Request("glue:StartJobRun", (JOB,))).allowed
    # a wildcard in the region part matches one part only, never across the ARN's colons
    assert resource_matches("arn:aws:glue:*:111111111111:job/x", "arn:aws:glue:eu-west-1:111111111111:job/x")
    assert not resource_matches("arn:aws:glue:*:job/x", "arn:aws:glue:eu-west-1:111111111111:job/x")


def test_nothing_is_allowed_unless_a_statement_allows_it() -> None:
    decision = evaluate([], Request("glue:StartJobRun", (JOB,)))
    assert decision == Decision(False, explicit_deny=False, resource=JOB)


def test_an_explicit_deny_wins_over_every_allow() -> None:
    statements = [allow("glue:*", "*"), {"Effect": "Deny", "Action": "glue:StartJobRun", "Resource": JOB}]
    decision = evaluate(statements, Request("glue:StartJobRun", (JOB,)))
    assert not decision.allowed and decision.explicit_deny
    assert evaluate(statements, Request("glue:GetJob", (JOB,))).allowed


def test_not_action_and_not_resource() -> None:
    statements = [{"Effect": "Allow", "NotAction": "glue:DeleteJob", "Resource": "*"}]
    assert evaluate(statements, Request("glue:StartJobRun", (JOB,))).allowed
    assert not evaluate(statements, Request("glue:DeleteJob", (JOB,))).allowed
    statements = [{"Effect": "Allow", "Action": "glue:StartJobRun", "NotResource": JOB}]
    assert not evaluate(statements, Request("glue:StartJobRun", (JOB,))).allowed


@pytest.mark.parametrize("action", ["redshift:DescribeTableRestoreStatus", "redshift:DescribeClusterSnapshots"])
def test_an_action_without_resource_types_granted_on_an_arn_is_denied(action: str) -> None:
    """Findings 1 and 2: the IAM service reference lists no resource type for these actions, so AWS evaluates
    them against `*`, which a grant on the cluster or on snapshot ARNs does not match."""
    on_arn = [allow(action, [CLUSTER, f"arn:aws:redshift:{REGION}:{ACCOUNT}:snapshot:retail-redshift-dev/*"])]
    decision = evaluate(on_arn, Request(action, (CLUSTER,)))
    assert not decision.allowed and decision.resource == "*"
    assert evaluate([allow(action, "*")], Request(action, (CLUSTER,))).allowed


def test_every_resource_a_call_touches_must_be_allowed() -> None:
    snapshot = f"arn:aws:redshift:{REGION}:{ACCOUNT}:snapshot:retail-redshift-dev/nightly"
    request = Request("redshift:RestoreTableFromClusterSnapshot", (CLUSTER, snapshot))
    assert not evaluate([allow("redshift:RestoreTableFromClusterSnapshot", CLUSTER)], request).allowed
    assert evaluate([allow("redshift:RestoreTableFromClusterSnapshot", [CLUSTER, snapshot])], request).allowed


def test_an_arn_that_fits_none_of_the_actions_resource_types_fails_loudly() -> None:
    with pytest.raises(PolicyError, match="fits none"):
        evaluate([allow("kafka:DescribeClusterV2", "*")],
                 Request("kafka:DescribeClusterV2", (f"arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/no-uuid",)))


def test_an_unknown_action_fails_loudly() -> None:
    with pytest.raises(PolicyError, match="not an action"):
        evaluate([allow("*", "*")], Request("glue:NoSuchAction", (JOB,)))


def test_the_s3_prefix_condition() -> None:
    bucket = "arn:aws:s3:::retail-datalake-dev"
    statements = [allow("s3:ListBucket", bucket,
                        Condition={"StringEquals": {"s3:prefix": ["landing/orders/", "landing/customers/"]}})]
    assert evaluate(statements, Request("s3:ListBucket", (bucket,), {"s3:prefix": "landing/orders/"})).allowed
    assert not evaluate(statements, Request("s3:ListBucket", (bucket,), {"s3:prefix": "curated/"})).allowed
    assert not evaluate(statements, Request("s3:ListBucket", (bucket,), {})).allowed  # no prefix: the key is absent
    like = [allow("s3:ListBucket", bucket, Condition={"StringLike": {"s3:prefix": "landing/*"}})]
    assert evaluate(like, Request("s3:ListBucket", (bucket,), {"s3:prefix": "landing/orders/2026/"})).allowed
    if_exists = [allow("s3:ListBucket", bucket, Condition={"StringEqualsIfExists": {"s3:prefix": "landing/"}})]
    assert evaluate(if_exists, Request("s3:ListBucket", (bucket,), {})).allowed
    negated = [allow("s3:ListBucket", bucket, Condition={"StringNotEquals": {"s3:prefix": "secret/"}})]
    assert evaluate(negated, Request("s3:ListBucket", (bucket,), {})).allowed  # negated on an absent key: true
    assert not evaluate(negated, Request("s3:ListBucket", (bucket,), {"s3:prefix": "secret/"})).allowed


def test_the_cloudwatch_namespace_condition() -> None:
    statements = [allow("cloudwatch:PutMetricData", "*", Condition={"StringEquals": {"cloudwatch:namespace": "Remedy"}})]
    assert evaluate(statements, Request("cloudwatch:PutMetricData", ("*",), {"cloudwatch:namespace": "Remedy"})).allowed
    assert not evaluate(statements, Request("cloudwatch:PutMetricData", ("*",), {"cloudwatch:namespace": "X"})).allowed


@pytest.mark.parametrize("condition", [
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},  # an operator the sandbox does not evaluate
    {"StringEquals": {"aws:PrincipalTag/team": "data"}},  # a key the sandbox does not fill
    {"ForSomeValues:StringEquals": {"s3:prefix": "x"}},
])
def test_a_condition_the_sandbox_cannot_evaluate_fails_loudly_never_allows(condition: dict[str, object]) -> None:
    statements = [allow("s3:ListBucket", "*", Condition=condition)]
    with pytest.raises(PolicyError):
        validate(statements)
    with pytest.raises(PolicyError):
        evaluate(statements, Request("s3:ListBucket", ("arn:aws:s3:::b",), {"s3:prefix": "x"}))


def test_the_denial_message_is_aws_s() -> None:
    who = f"arn:aws:sts::{ACCOUNT}:assumed-role/role-x/fn-x"
    assert denial_message(who, "glue:StartJobRun", Decision(False, resource=JOB)) == (
        f"User: {who} is not authorized to perform: glue:StartJobRun on resource: {JOB} because no "
        "identity-based policy allows the glue:StartJobRun action")
    assert denial_message(who, "sns:Publish", Decision(False, explicit_deny=True, resource="arn:t"), "SNS") == (
        f"User: {who} is not authorized to perform: SNS:Publish on resource: arn:t with an explicit deny in an "
        "identity-based policy")


def call(service: str, operation: str, path: str = "", **params: object) -> Call:
    return Call(service, operation, dict(params), ACCOUNT, REGION, path)


def test_the_table_builds_the_arns_aws_authorizes() -> None:
    assert requests_for(call("glue", "StartJobRun", JobName="orders-stream")) == [Request("glue:StartJobRun", (JOB,))]
    assert requests_for(call("ssm", "GetParameter", Name="/remedy/dev/kill-switch"))[0].resources == (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/remedy/dev/kill-switch",)
    credentials = requests_for(call("redshift", "GetClusterCredentials", ClusterIdentifier="c", DbUser="remedy",
                                    DbName="analytics"))[0]
    assert credentials.resources == (f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbuser:c/remedy",
                                     f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbname:c/analytics")
    msk = f"arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/retail-msk-dev/0b5e"
    assert requests_for(call("kafka", "DescribeClusterV2", path=f"/api/v2/clusters/{msk.replace('/', '%2F')}")
                        )[0].resources == (msk,)
    # redshift-data with a database user also needs GetClusterCredentials (temporary credentials)
    data = requests_for(call("redshift-data", "ExecuteStatement", ClusterIdentifier="c", DbUser="remedy",
                             Database="analytics", Sql="select 1"))
    assert [r.action for r in data] == ["redshift-data:ExecuteStatement", "redshift:GetClusterCredentials"]
    listing = requests_for(call("s3", "ListObjectsV2", Bucket="b", prefix="landing/orders/"))[0]
    assert listing.action == "s3:ListBucket" and listing.context == {"s3:prefix": "landing/orders/"}
    assert requests_for(call("s3", "GetObject", Bucket="b", Key="k", versionId="v1"))[0].action == "s3:GetObjectVersion"


def test_an_operation_the_table_does_not_know_fails_loudly() -> None:
    with pytest.raises(UnmappedOperation, match="glue:DeleteJob has no row"):
        requests_for(call("glue", "DeleteJob", JobName="orders-stream"))
