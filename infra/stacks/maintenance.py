"""MaintenanceStack (<prefix>-maintenance): the runbook's regular tasks and backup promises on a schedule.

Per job of functions.maintenance.JOBS: a function with its own read-only role and an EventBridge Scheduler
schedule from the catalog's `schedules`. Plus the reports bucket and one alarm per backup promise. The
on-call topic, the audit table and the unhandled-events queue belong to the remediation stack and are
referenced by their fixed names.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.catalog import Catalog
from functions.core.observability import SERVICE
from functions.doctor.daily import scheduled_checks
from functions.maintenance import (
    JOBS,
    function_name,
    reports_bucket,
    schedule_expression,
    schedule_name,
)
from functions.maintenance.posture import promises
from infra import names
from infra.bundling import CATALOG_PATH_IN_LAMBDA, function_code
from infra.constructs.maintenance_jobs import (
    DoctorAlarms,
    MaintenanceFunction,
    MaintenanceSchedule,
    PostureAlarms,
    RedshiftConnectorLayer,
    ReportsBucket,
)
from infra.constructs.maintenance_permissions import job_statements, log_group_name, scheduler_statements
from infra.powertools import powertools_layer_arn


def grants_statements(catalog: Catalog) -> str:
    """sql/redshift-grants.sql rendered for the catalog, comments dropped (a Lambda environment holds 4 KB)."""
    from remedy.redshift_grants import for_catalog

    text = "\n".join(line.split("--", 1)[0].rstrip() for line in for_catalog(catalog).splitlines())
    return "\n".join(line for line in text.splitlines() if line)


def maintenance_stack_name(catalog: Catalog) -> str:
    return f"{catalog.prefix}-maintenance"


class MaintenanceStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, powertools_layer_version: int,
                 log_retention: logs.RetentionDays, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        retain = catalog.env == "prod"
        topic = sns.Topic.from_topic_arn(self, "OnCallTopic", names.topic_arn(catalog))
        unhandled = sqs.Queue.from_queue_arn(self, "UnhandledEvents", names.queue_arn(catalog))
        self.reports = ReportsBucket(self, "Reports", bucket_name=reports_bucket(catalog),
                                     retention_days=catalog.maintenance.reports_retention_days, retain=retain)
        code = function_code(catalog)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", powertools_layer_arn(catalog, powertools_layer_version))
        connector = RedshiftConnectorLayer(self, "RedshiftConnector")
        base_environment = {
            "CATALOG_PATH": CATALOG_PATH_IN_LAMBDA,
            "REPORTS_BUCKET": reports_bucket(catalog),
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        self.functions: dict[str, MaintenanceFunction] = {}
        self.schedules: dict[str, MaintenanceSchedule] = {}
        for name, job in JOBS.items():
            logical = "".join(part.title() for part in name.split("_"))  # weekly_review -> WeeklyReview
            environment = dict(base_environment)
            if any(scope == "audit_table" for _, scope in job.grants):
                environment["AUDIT_TABLE"] = names.audit_table(catalog)
            if job.notifies:
                environment["TOPIC_ARN"] = names.topic_arn(catalog)
            if name == "doctor":  # the grants the doctor checks: the asset carries no sql/ directory
                environment["REDSHIFT_GRANTS"] = grants_statements(catalog)
            if job.in_vpc and catalog.network is None:
                raise ValueError(f"maintenance job {name} runs in a VPC: the catalog needs a `network` section")
            function = MaintenanceFunction(
                self, logical,
                function_name=function_name(catalog, name),
                log_group_name=log_group_name(catalog, job),
                handler=job.handler,
                description=f"Runbook: {job.runbook_section} (scheduled, read-only)",
                code=code,
                layers=[powertools, connector.layer] if job.needs_redshift_connector else [powertools],
                environment=environment,
                statements=job_statements(catalog, job),
                failure_queue=unhandled,
                log_retention=log_retention,
                retain_logs=retain,
                timeout_seconds=job.timeout_seconds,
                memory_mb=job.memory_mb,
                network=catalog.network if job.in_vpc else None,
            )
            self.functions[name] = function
            self.schedules[name] = MaintenanceSchedule(
                self, f"{logical}Schedule",
                schedule_name=schedule_name(catalog, name),
                expression=schedule_expression(catalog, name),
                timezone=catalog.schedules.timezone,
                description=f"Runbook: {job.runbook_section}",
                function=function.function,
                # The scheduled time names the period: a retried delivery reports the same period again.
                payload=json.dumps({"job": name, "scheduled_time": "<aws.scheduler.scheduled-time>"}),
                dead_letter_queue=unhandled,
                statements=scheduler_statements(catalog, job),
                account=catalog.account_id,
            )
            # Shown by `make synth` (and in the stack's outputs after a deploy): when each regular task runs.
            when = f"{schedule_expression(catalog, name)} {catalog.schedules.timezone}"
            Annotations.of(self.schedules[name]).add_info(f"schedule {schedule_name(catalog, name)}: {when} -> "
                                                          f"{function_name(catalog, name)}")
            CfnOutput(self, f"{logical}When", value=when, description=f"Runbook: {job.runbook_section}")
        self.posture = PostureAlarms(self, "PostureAlarms", catalog=catalog, promises=promises(catalog), topic=topic)
        self.doctor = DoctorAlarms(self, "DoctorAlarms", catalog=catalog,
                                   checks=scheduled_checks("doctor") + scheduled_checks("doctor_vpc"), topic=topic)
