"""The constructs of the maintenance stack: a scheduled job (its function, role and log group; its
EventBridge Scheduler schedule with its own role), the reports bucket, the posture alarms, and the layer that
carries redshift-connector to the one function that talks to Redshift."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, Duration, ILocalBundling, RemovalPolicy
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.catalog import Catalog
from functions.maintenance.posture import METRIC, NAMESPACE, PromiseSpec
from infra.constructs.lambda_function import RUNTIME, AsyncDelivery, RemedyFunction, declared_policy
from infra.permissions import Statement

# Only the Redshift analysis needs the driver. Its import needs scramp (-> asn1crypto) and packaging; boto3 is
# the runtime's; requests, lxml and beautifulsoup4 serve identity-provider plugins this service never uses.
REDSHIFT_CONNECTOR_LAYER = ("redshift-connector==2.2.0", "scramp==1.4.18", "asn1crypto==1.5.1",
                            "packaging==26.4", "pytz==2026.6")


class MaintenanceFunction(RemedyFunction):
    """One job's function: its own role holding exactly the job's statements, its log group, tracing, async
    retries and on-failure destination (Scheduler invokes Lambda asynchronously)."""

    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], failure_queue: sqs.IQueue,
                 log_retention: logs.RetentionDays, retain_logs: bool, timeout_seconds: int, memory_mb: int,
                 network: Any = None):
        super().__init__(
            scope, construct_id, function_name=function_name, log_group_name=log_group_name, handler=handler,
            description=description, code=code, layers=layers, environment=environment, statements=statements,
            log_retention=log_retention, retain_logs=retain_logs,
            role_description=f"{function_name}: read-only job, writes its own reports "
                             f"(infra/constructs/maintenance_permissions.py)",
            timeout=Duration.seconds(timeout_seconds), memory_mb=memory_mb,
            delivery=AsyncDelivery(on_failure_arn=failure_queue.queue_arn), network=network)


class MaintenanceSchedule(Construct):
    """An EventBridge Scheduler schedule invoking one function with a fixed Input; its own role may invoke
    that function and nothing else. Retries and a dead-letter queue keep a missed run visible."""

    def __init__(self, scope: Construct, construct_id: str, *, schedule_name: str, expression: str, timezone: str,
                 description: str, function: lambda_.IFunction, payload: str, dead_letter_queue: sqs.IQueue,
                 statements: Sequence[Statement], account: str):
        super().__init__(scope, construct_id)
        # Only schedules of this account may assume it (confused deputy).
        principal = iam.ServicePrincipal("scheduler.amazonaws.com",
                                         conditions={"StringEquals": {"aws:SourceAccount": account}})
        self.role = iam.Role(self, "Role", description=f"{schedule_name}: invokes its job only", assumed_by=principal)
        self.statements = list(statements)
        self.policy = declared_policy(self, self.role, self.statements)
        self.schedule = scheduler.CfnSchedule(
            self, "Schedule",
            name=schedule_name,
            description=description,
            schedule_expression=expression,
            schedule_expression_timezone=timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=function.function_arn,
                role_arn=self.role.role_arn,
                input=payload,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_event_age_in_seconds=6 * 3600,
                                                                       maximum_retry_attempts=3),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=dead_letter_queue.queue_arn),
            ),
        )
        self.schedule.node.add_dependency(self.policy)


class ReportsBucket(Construct):
    """Where the reports are kept: private, encrypted, TLS only, versioned (a report is a record), expired
    after the catalog's retention. Access logs go to a prefix of the same bucket: a handful of writes a day,
    and no second bucket that would need its own logging."""

    def __init__(self, scope: Construct, construct_id: str, *, bucket_name: str, retention_days: int, retain: bool):
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self, "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_prefix="access-logs/",
            lifecycle_rules=[
                s3.LifecycleRule(id="access-logs", prefix="access-logs/", expiration=Duration.days(90)),
                s3.LifecycleRule(id="reports", expiration=Duration.days(retention_days),
                                 noncurrent_version_expiration=Duration.days(30),
                                 abort_incomplete_multipart_upload_after=Duration.days(7)),
            ],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )


def daily_check_alarm(scope: Construct, construct_id: str, *, name: str, description: str, metric: cw.Metric,
                      action: cw_actions.SnsAction) -> cw.Alarm:
    """ALARM while a daily check publishes 1 for what it watches, paging on the way in and out. Hourly periods
    over 26 hours: a daily datapoint keeps the alarm in its state until the next day's run (two hours of slack for
    a late one), and no datapoint at all is no evidence."""
    alarm = cw.Alarm(scope, construct_id, alarm_name=name, alarm_description=description, metric=metric,
                     threshold=1, comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                     evaluation_periods=26, datapoints_to_alarm=1,
                     treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
    return alarm


class PostureAlarms(Construct):
    """One alarm per backup promise: ALARM while the daily check publishes BrokenPromise 1. Hourly periods
    over 26 hours: a daily datapoint keeps the alarm in its state until the next day's check (with two hours
    of slack for a late run), and no datapoint at all is no evidence (the weekly review reports a posture job
    that stopped running)."""

    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, promises: Sequence[PromiseSpec],
                 topic: sns.ITopic):
        super().__init__(scope, construct_id)
        action = cw_actions.SnsAction(topic)
        self.alarms: dict[str, cw.Alarm] = {}
        for spec in promises:
            name = spec.alarm_name(catalog)
            self.alarms[name] = daily_check_alarm(
                self, spec.component.replace(":", "-"), name=name, action=action,
                description=f"Backup promise broken: {spec.description}. Runbook: Maintenance / Backup and "
                            f"Recovery; checked daily by {catalog.prefix}-posture (report in the reports "
                            f"bucket under posture/)",
                metric=cw.Metric(namespace=NAMESPACE, metric_name=METRIC, statistic="Maximum",
                                 dimensions_map={"Promise": spec.promise, "Resource": spec.resource},
                                 period=Duration.hours(1)))


class DoctorAlarms(Construct):
    """One alarm per scheduled doctor check (functions.doctor.daily): ALARM while the daily run publishes
    CheckFailed 1 for it, the same shape as the posture alarms (hourly periods over 26 hours, missing data is no
    evidence)."""

    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, checks: Sequence[str],
                 topic: sns.ITopic):
        from functions.doctor import daily

        super().__init__(scope, construct_id)
        action = cw_actions.SnsAction(topic)
        self.alarms: dict[str, cw.Alarm] = {}
        for check in checks:
            name = daily.check_alarm_name(catalog, check)
            self.alarms[name] = daily_check_alarm(
                self, check, name=name, action=action,
                description=f"remedy doctor: check {check} failed in the daily run ({catalog.prefix}-doctor"
                            f"{'-vpc' if check == 'private-endpoints' else ''}); its findings and the fix are "
                            f"in the reports bucket, and `remedy doctor --env {catalog.env}` shows them",
                metric=cw.Metric(namespace=daily.NAMESPACE, metric_name=daily.METRIC, statistic="Maximum",
                                 dimensions_map={"Check": check}, period=Duration.hours(1)))


@jsii.implements(ILocalBundling)
class PipLayerBundler:
    """pip install of pinned pure-Python wheels into <layer>/python for the Lambda platform: no Docker."""

    def __init__(self, requirements: Sequence[str]):
        self._requirements = list(requirements)

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                   "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--implementation", "cp",
                   "--python-version", RUNTIME.name.removeprefix("python"), "--target",
                   str(Path(output_dir) / "python"), *self._requirements]
        # Fixed argv (no shell), pinned requirements from this module: nothing untrusted reaches the command.
        subprocess.run(command, check=True)  # noqa: S603
        return True


class PipLayer(Construct):
    """A layer of pinned pure-Python wheels for the one function that needs them (bundled by PipLayerBundler;
    its asset hash is the pins, so the layer changes only when they do)."""

    def __init__(self, scope: Construct, construct_id: str, *, requirements: Sequence[str], what: str):
        super().__init__(scope, construct_id)
        pins = "\n".join(requirements)
        self.layer = lambda_.LayerVersion(
            self, "Layer",
            description=f"{what} (" + ", ".join(requirements) + ")",
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.X86_64],
            code=lambda_.Code.from_asset(
                str(Path(__file__).parent),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=hashlib.sha256(pins.encode()).hexdigest(),
                bundling=BundlingOptions(image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
                                         local=PipLayerBundler(requirements)),
            ),
        )


class RedshiftConnectorLayer(PipLayer):
    def __init__(self, scope: Construct, construct_id: str, *, requirements: Sequence[str] = REDSHIFT_CONNECTOR_LAYER):
        super().__init__(scope, construct_id, requirements=requirements,
                         what="redshift-connector and what its import needs")
