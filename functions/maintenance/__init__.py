"""Declarations of the maintenance jobs (runbook "Maintenance"): data only, so CDK, the sandbox and the tests
read them without importing the jobs.

Each job is one scheduled Lambda function with its own role. It reads the data lake and the service's own
records and never changes them; it writes only its report (JSON for machines, text for people) to the
reports bucket and, for the reviews, one notification to the on-call topic. `grants` are the exact IAM
actions it makes, each with the symbolic resource it makes them on; infra/constructs/maintenance_permissions.py
turns the symbols into the catalog's ARNs and CDK grants exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from functions.core.catalog import Catalog

# Symbolic resources a grant is scoped to (see infra/constructs/maintenance_permissions.py).
Scope = Literal[
    "audit_table",  # the audit trail (DynamoDB)
    "service_alarms",  # this service's alarms, <prefix>/*
    "lake_bucket",  # the data lake bucket (bucket-level reads only)
    "state_bucket",  # the Terraform state bucket (versioning only)
    "redshift_cluster",
    "redshift_snapshots",  # the cluster's snapshots
    "redshift_dbuser",  # GetClusterCredentials: the catalog's db_user ...
    "redshift_dbname",  # ... on the catalog's database
    "reports_bucket",  # the reports bucket (listing)
    "own_reports",  # objects under the job's own report prefix
    "on_call_topic",
    # remedy doctor (functions.doctor): what its daily checks read
    "no_resource_level",  # actions that support no resource-level permissions ("*")
    "msk_cluster",  # the catalog's MSK cluster
    "glue_jobs",  # the catalog's Glue jobs
    "admin_secret",  # the catalog's Redshift admin secret (described, never read)
    "kill_switch",  # the kill-switch parameter
]

ReportKind = Literal["weekly", "redshift", "lifecycle", "posture", "doctor", "doctor-vpc"]


@dataclass(frozen=True)
class MaintenanceJob:
    name: str  # weekly_review: also the catalog's schedules.<name> field and the function name's stem
    report: ReportKind  # the CLI's `remedy report <report>` and the S3 prefix of its reports
    runbook_section: str
    handler: str  # module.function inside the Lambda asset
    grants: tuple[tuple[str, Scope], ...]  # (IAM action, resource) pairs: everything it calls, nothing more
    notifies: bool  # one notification to on call per period (the daily posture check pages through alarms)
    needs_redshift_connector: bool = False
    in_vpc: bool = False  # runs in the catalog's `network` (private subnets) to reach the cluster
    timeout_seconds: int = 120
    memory_mb: int = 256


_WRITE_REPORT: tuple[tuple[str, Scope], ...] = (
    ("s3:PutObject", "own_reports"),
    # A notification that fails is retried with the report: the report object is taken back first.
    ("s3:DeleteObject", "own_reports"),
)
_NOTIFY: tuple[tuple[str, Scope], ...] = (("sns:Publish", "on_call_topic"),)

JOBS: dict[str, MaintenanceJob] = {
    "weekly_review": MaintenanceJob(
        name="weekly_review",
        report="weekly",
        runbook_section="Maintenance / Regular Tasks / Weekly: Review CloudWatch metrics and alarms",
        handler="functions.handlers.maintenance_weekly.handler",
        grants=(
            ("dynamodb:Scan", "audit_table"),
            ("cloudwatch:DescribeAlarms", "service_alarms"),
            ("cloudwatch:DescribeAlarmHistory", "service_alarms"),
            ("s3:ListBucket", "reports_bucket"),  # when the daily posture check last reported
            *_WRITE_REPORT, *_NOTIFY,
        ),
        notifies=True,
    ),
    "redshift_analysis": MaintenanceJob(
        name="redshift_analysis",
        report="redshift",
        runbook_section="Maintenance / Regular Tasks / Monthly: Analyze Redshift query performance",
        handler="functions.handlers.maintenance_redshift.handler",
        grants=(
            ("redshift:DescribeClusters", "redshift_cluster"),
            ("redshift:GetClusterCredentials", "redshift_dbuser"),
            ("redshift:GetClusterCredentials", "redshift_dbname"),
            ("s3:ListBucket", "reports_bucket"),  # the previous analyses: the disk usage trend
            ("s3:GetObject", "own_reports"),
            *_WRITE_REPORT, *_NOTIFY,
        ),
        notifies=True,
        needs_redshift_connector=True,
        in_vpc=True,
        timeout_seconds=300,
    ),
    "lifecycle_review": MaintenanceJob(
        name="lifecycle_review",
        report="lifecycle",
        runbook_section="Maintenance / Regular Tasks / Quarterly: Review and optimize S3 lifecycle policies",
        handler="functions.handlers.maintenance_lifecycle.handler",
        grants=(
            ("s3:GetLifecycleConfiguration", "lake_bucket"),
            ("s3:GetBucketVersioning", "lake_bucket"),
            ("s3:ListBucketVersions", "lake_bucket"),
            *_WRITE_REPORT, *_NOTIFY,
        ),
        notifies=True,
        timeout_seconds=900,  # listing every version of every zone
        memory_mb=512,
    ),
    "posture": MaintenanceJob(
        name="posture",
        report="posture",
        runbook_section="Maintenance / Backup and Recovery",
        handler="functions.handlers.maintenance_posture.handler",
        grants=(
            ("redshift:DescribeClusters", "redshift_cluster"),
            ("redshift:DescribeClusterSnapshots", "no_resource_level"),
            ("s3:GetBucketVersioning", "lake_bucket"),
            ("s3:GetLifecycleConfiguration", "lake_bucket"),
            ("s3:GetBucketVersioning", "state_bucket"),
            ("s3:PutObject", "own_reports"),  # today's posture, overwritten by a re-run: nothing to take back
        ),
        notifies=False,  # a broken promise is a metric and an alarm (which pages), and a line in the weekly review
    ),
    # `remedy doctor`'s checks after deployment (functions.doctor): a failed check is a metric and an alarm
    # <prefix>/doctor/<check> that pages, like a broken posture promise. Read-only: Describe/Get/List only.
    "doctor": MaintenanceJob(
        name="doctor",
        report="doctor",
        runbook_section="Deployment / remedy doctor, daily: the account still matches the catalog",
        handler="functions.handlers.maintenance_doctor.handler",
        grants=(
            ("kafka:ListClustersV2", "no_resource_level"),
            ("kafka:ListTopics", "msk_cluster"),
            ("cloudwatch:ListMetrics", "no_resource_level"),
            ("glue:GetJob", "glue_jobs"),
            ("s3:ListBucket", "lake_bucket"),
            ("redshift:DescribeClusters", "redshift_cluster"),
            ("redshift-data:ExecuteStatement", "redshift_cluster"),
            ("redshift-data:DescribeStatement", "no_resource_level"),
            ("redshift-data:GetStatementResult", "no_resource_level"),
            ("redshift:GetClusterCredentials", "redshift_dbuser"),  # the Data API's DbUser: the service user
            ("redshift:GetClusterCredentials", "redshift_dbname"),
            ("secretsmanager:DescribeSecret", "admin_secret"),
            ("sns:GetTopicAttributes", "on_call_topic"),
            ("sns:ListSubscriptionsByTopic", "on_call_topic"),
            ("ssm:GetParameter", "kill_switch"),
            ("events:ListRules", "no_resource_level"),
            ("events:TestEventPattern", "no_resource_level"),
            ("cloudwatch:DescribeAlarms", "service_alarms"),
            ("s3:PutObject", "own_reports"),  # today's findings, overwritten by a re-run
        ),
        notifies=False,
    ),
    "doctor_vpc": MaintenanceJob(
        name="doctor_vpc",
        report="doctor-vpc",
        runbook_section="Deployment / remedy doctor, daily from inside the VPC: brokers and cluster reachable",
        handler="functions.handlers.maintenance_doctor.vpc_handler",
        grants=(
            ("kafka:ListClustersV2", "no_resource_level"),
            ("kafka:GetBootstrapBrokers", "no_resource_level"),
            ("redshift:DescribeClusters", "redshift_cluster"),
            ("s3:PutObject", "own_reports"),
        ),
        notifies=False,
        in_vpc=True,
        timeout_seconds=60,
    ),
}

JOB_FOR_REPORT: dict[str, MaintenanceJob] = {job.report: job for job in JOBS.values()}


def reports_bucket(catalog: Catalog) -> str:
    """Where the maintenance reports live (catalog maintenance.reports_bucket; default per env and account)."""
    return catalog.maintenance.reports_bucket or f"{catalog.prefix}-reports-{catalog.account_id}"


def terraform_state_bucket(catalog: Catalog) -> str:
    """Terraform's S3 backend of this env (catalog maintenance.terraform_state_bucket)."""
    return catalog.maintenance.terraform_state_bucket or f"retail-terraform-state-{catalog.env}"


def function_name(catalog: Catalog, job: str) -> str:
    return f"{catalog.prefix}-{job.replace('_', '-')}"


def schedule_name(catalog: Catalog, job: str) -> str:
    return f"{catalog.prefix}-{job.replace('_', '-')}"


def schedule_expression(catalog: Catalog, job: str) -> str:
    return str(getattr(catalog.schedules, job))
