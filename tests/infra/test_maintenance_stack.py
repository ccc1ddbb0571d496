"""The maintenance stack's template: schedules from the catalog, one read-only role per job holding exactly
its declared grants, a schedule role that can invoke its job only, the posture alarms, the reports bucket.
Expectations come from the catalog and the job declarations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.maintenance import JOBS, function_name, reports_bucket, schedule_name
from functions.maintenance.posture import METRIC, NAMESPACE, promises
from infra.constructs.maintenance_permissions import job_statements, scheduler_statements
from tests.infra.helpers import Synth, props, resources

pytestmark = pytest.mark.infra

# What each job calls, written out here as a second opinion on the declarations: reads of the lake, the
# cluster and the service's own records; writes only to its reports (and, for the reviews, the topic).
CALLS = {
    "weekly_review": {"dynamodb:Scan", "cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory",
                      "s3:ListBucket", "s3:PutObject", "s3:DeleteObject", "sns:Publish"},
    "redshift_analysis": {"redshift:DescribeClusters", "redshift:GetClusterCredentials", "s3:ListBucket",
                          "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "sns:Publish"},
    "lifecycle_review": {"s3:GetLifecycleConfiguration", "s3:GetBucketVersioning", "s3:ListBucketVersions",
                         "s3:PutObject", "s3:DeleteObject", "sns:Publish"},
    "posture": {"redshift:DescribeClusters", "redshift:DescribeClusterSnapshots", "s3:GetBucketVersioning",
                "s3:GetLifecycleConfiguration", "s3:PutObject"},
    # remedy doctor: what functions.doctor.adapters calls, read-only (the Data API as the service user)
    "doctor": {"kafka:ListClustersV2", "kafka:ListTopics", "cloudwatch:ListMetrics", "glue:GetJob", "s3:ListBucket",
               "redshift:DescribeClusters", "redshift-data:ExecuteStatement", "redshift-data:DescribeStatement",
               "redshift-data:GetStatementResult", "redshift:GetClusterCredentials", "secretsmanager:DescribeSecret",
               "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "ssm:GetParameter", "events:ListRules",
               "events:TestEventPattern", "cloudwatch:DescribeAlarms", "s3:PutObject"},
    "doctor_vpc": {"kafka:ListClustersV2", "kafka:GetBootstrapBrokers", "redshift:DescribeClusters", "s3:PutObject"},
}
RUNTIME_NEEDS = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
                 "sqs:SendMessage"}
VPC_NEEDS = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
             "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
             "ec2:DescribeSubnets"}  # the Redshift analysis: in the VPC (AWSLambdaVPCAccessExecutionRole's actions)


def maintenance(synth: Synth) -> dict[str, Any]:
    return synth.templates[f"{synth.catalog.prefix}-maintenance"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [s for p in resources(template, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def function(template: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [f["Properties"] for f in resources(template, "AWS::Lambda::Function").values()
               if f["Properties"]["FunctionName"] == name]
    return found


def test_one_scheduler_schedule_per_job_from_the_catalog(synth: Synth) -> None:
    template, catalog = maintenance(synth), synth.catalog
    schedules = {p["Name"]: p for p in props(template, "AWS::Scheduler::Schedule")}
    assert set(schedules) == {schedule_name(catalog, job) for job in JOBS}
    functions = {k: v["Properties"]["FunctionName"] for k, v in resources(template, "AWS::Lambda::Function").items()}
    for job in JOBS:
        schedule = schedules[schedule_name(catalog, job)]
        assert schedule["ScheduleExpression"] == getattr(catalog.schedules, job)
        assert schedule["ScheduleExpressionTimezone"] == catalog.schedules.timezone
        assert schedule["State"] == "ENABLED" and schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        target = schedule["Target"]
        assert functions[target["Arn"]["Fn::GetAtt"][0]] == function_name(catalog, job)
        assert json.loads(target["Input"]) == {"job": job, "scheduled_time": "<aws.scheduler.scheduled-time>"}
        assert target["DeadLetterConfig"]["Arn"].endswith(f":{catalog.prefix}-unhandled-events")
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_each_schedule_role_invokes_its_own_job_only(synth: Synth) -> None:
    template, catalog = maintenance(synth), synth.catalog
    for schedule in props(template, "AWS::Scheduler::Schedule"):
        job = next(j for j in JOBS.values() if schedule_name(catalog, j.name) == schedule["Name"])
        role_id = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
        trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
        assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": catalog.account_id}}
        actual = {(s["Sid"], frozenset(as_list(s["Action"])), frozenset(as_list(s["Resource"])))
                  for s in granted(template, role_id)}
        assert actual == {(s.sid, frozenset(s.actions), frozenset(s.resources))
                          for s in scheduler_statements(catalog, job)}


@pytest.mark.parametrize("job", sorted(JOBS))
def test_each_job_role_holds_exactly_its_declared_grants(synth: Synth, job: str) -> None:
    template, catalog = maintenance(synth), synth.catalog
    fn = function(template, function_name(catalog, job))
    role_id = fn["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in template["Resources"][role_id]["Properties"]
    statements = granted(template, role_id)
    vpc = VPC_NEEDS if JOBS[job].in_vpc else set()
    assert {a for s in statements for a in as_list(s["Action"])} == CALLS[job] | RUNTIME_NEEDS | vpc
    if JOBS[job].in_vpc:  # the cluster is private: the function runs in the catalog's subnets
        assert catalog.network is not None
        assert fn["VpcConfig"]["SubnetIds"] == catalog.network.private_subnet_ids
        assert fn["VpcConfig"]["SecurityGroupIds"] == catalog.network.function_security_group_ids
    else:
        assert "VpcConfig" not in fn
    planned = {(s.sid, frozenset(s.actions), frozenset(s.resources)) for s in job_statements(catalog, JOBS[job])}
    assert {(s["Sid"], frozenset(as_list(s["Action"])), frozenset(as_list(s["Resource"]))) for s in statements} == \
        planned


def test_no_job_writes_anything_but_its_reports(synth: Synth) -> None:
    template, catalog = maintenance(synth), synth.catalog
    for job in JOBS.values():
        role_id = function(template, function_name(catalog, job.name))["Role"]["Fn::GetAtt"][0]
        for statement in granted(template, role_id):
            for action in as_list(statement["Action"]):
                if action.startswith("s3:") and action.endswith(("PutObject", "DeleteObject", "GetObject")):
                    assert as_list(statement["Resource"]) == [
                        f"arn:aws:s3:::{reports_bucket(catalog)}/{job.report}/*"], (job.name, action)
                if action == "s3:ListBucket":  # the reports; the doctor lists the lake's prefixes too (read)
                    lake = [f"arn:aws:s3:::{catalog.s3.name}"] if ("s3:ListBucket", "lake_bucket") in job.grants else []
                    assert as_list(statement["Resource"]) in ([f"arn:aws:s3:::{reports_bucket(catalog)}"], lake)


def test_functions_environment_and_the_redshift_driver_layer(synth: Synth) -> None:
    template, catalog = maintenance(synth), synth.catalog
    layers = resources(template, "AWS::Lambda::LayerVersion")
    assert len(layers) == 1
    for job in JOBS.values():
        fn = function(template, function_name(catalog, job.name))
        env = fn["Environment"]["Variables"]
        assert env["REPORTS_BUCKET"] == reports_bucket(catalog) and env["CATALOG_PATH"] == "/var/task/catalog.json"
        assert ("TOPIC_ARN" in env) == job.notifies
        own_layers = [layer for layer in fn["Layers"] if isinstance(layer, dict)]
        assert bool(own_layers) == job.needs_redshift_connector  # only the analysis carries redshift-connector
        assert fn["Handler"] == job.handler and fn["TracingConfig"] == {"Mode": "Active"}


def test_one_posture_alarm_per_promise_on_the_published_metric(synth: Synth) -> None:
    template, catalog = maintenance(synth), synth.catalog
    alarms = {p["AlarmName"]: p for p in props(template, "AWS::CloudWatch::Alarm") if "/posture/" in p["AlarmName"]}
    expected = {spec.alarm_name(catalog): spec for spec in promises(catalog)}
    assert set(alarms) == set(expected)
    for name, alarm in alarms.items():
        spec = expected[name]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (NAMESPACE, METRIC, "Maximum")
        assert alarm["Dimensions"] == [{"Name": "Promise", "Value": spec.promise},
                                       {"Name": "Resource", "Value": spec.resource}]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3600, 26, 1)
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [
            f"arn:aws:sns:{catalog.region}:{catalog.account_id}:{catalog.notifications.on_call_topic}"]
    versioned_lake = f"{catalog.prefix}/posture/s3-versioning:{catalog.s3.name}"
    assert (versioned_lake in alarms) == catalog.s3.versioning  # prod promises a versioned lake, dev does not


def test_one_doctor_alarm_per_scheduled_check(synth: Synth) -> None:
    from functions.doctor import daily

    template, catalog = maintenance(synth), synth.catalog
    alarms = {p["AlarmName"]: p for p in props(template, "AWS::CloudWatch::Alarm") if "/doctor/" in p["AlarmName"]}
    checks = daily.scheduled_checks("doctor") + daily.scheduled_checks("doctor_vpc")
    assert set(alarms) == {f"{catalog.prefix}/doctor/{check}" for check in checks}
    for name, alarm in alarms.items():
        assert (alarm["Namespace"], alarm["MetricName"]) == (daily.NAMESPACE, daily.METRIC)
        assert alarm["Dimensions"] == [{"Name": "Check", "Value": name.rsplit("/", 1)[1]}]
        assert alarm["TreatMissingData"] == "notBreaching" and alarm["AlarmActions"] == alarm["OKActions"]


def test_reports_bucket_is_private_encrypted_versioned_and_expires(synth: Synth) -> None:
    template, catalog = maintenance(synth), synth.catalog
    [bucket] = props(template, "AWS::S3::Bucket")
    assert bucket["BucketName"] == reports_bucket(catalog)
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"}
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["reports"]["ExpirationInDays"] == catalog.maintenance.reports_retention_days
    [policy] = props(template, "AWS::S3::BucketPolicy")
    assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} and s["Effect"] == "Deny"
               for s in policy["PolicyDocument"]["Statement"])
