"""Declarations of the playbooks: data only, so CDK and tests read them without importing the playbooks.

Each playbook answers one runbook issue, has one Lambda function and one EventBridge rule. `reads` are the
read-only IAM actions its diagnosis and verification make; `actions` the registered actions it may plan
(their IAM actions are declared in functions.core.actions). CDK grants exactly reads + actions' needs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlaybookDeclaration:
    name: str
    runbook_section: str
    handler: str  # module.function inside the Lambda asset
    signals: tuple[str, ...]  # alarm signals (see functions.core.naming) routed to it
    reads: tuple[str, ...]
    actions: tuple[str, ...]
    # Third-party packages bundled for this function only (pinned), beyond the Powertools layer and boto3.
    requirements: tuple[str, ...] = ()
    # Runs in the VPC of the resources it reaches (e.g. the Redshift cluster's subnets).
    in_vpc: bool = False
    # `Glue Job State Change` events (source aws.glue) in these states, for the catalog's jobs, are routed to
    # it as well (one more EventBridge rule); () = alarms only.
    glue_job_states: tuple[str, ...] = ()
    # Its scheduled checks, as an EventBridge schedule (functions.core.runtime.scheduled_checks): the verification
    # windows it opened after acting (catalog: verification_minutes) and the scale-ups it lent (leases).
    # The period is the resolution of a verification window; None = no schedule.
    schedule: str | None = "rate(5 minutes)"


PLAYBOOKS: dict[str, PlaybookDeclaration] = {
    "msk_consumer_lag": PlaybookDeclaration(
        name="msk_consumer_lag",
        runbook_section="Common Issues and Resolutions / MSK Consumer Lag High",
        handler="functions.handlers.msk_consumer_lag.handler",
        signals=("consumer-lag",),
        # GetJobRuns: the streaming job's state and workers; ListClustersV2: the MSK cluster's state.
        reads=("glue:GetJobRuns", "kafka:ListClustersV2"),
        actions=("glue.restart_streaming_job", "glue.scale_streaming_job"),
    ),
    "redshift_performance": PlaybookDeclaration(
        name="redshift_performance",
        runbook_section="Common Issues and Resolutions / Redshift Performance Issues",
        handler="functions.handlers.redshift_performance.handler",
        signals=("redshift-cpu", "redshift-queue"),
        # DescribeClusters: status, endpoint, parameter group; DescribeClusterParameters: wlm_json_configuration;
        # GetClusterCredentials: temporary database credentials for the diagnosis's SQL (stv_recents,
        # stv_wlm_query_state, svv_table_info), which itself needs no IAM.
        reads=("redshift:DescribeClusters", "redshift:DescribeClusterParameters", "redshift:GetClusterCredentials"),
        actions=("redshift.analyze_tables", "redshift.cancel_query"),
        requirements=("redshift-connector==2.2.0",),
        in_vpc=True,
    ),
    "glue_job_failure": PlaybookDeclaration(
        name="glue_job_failure",
        runbook_section="Common Issues and Resolutions / Glue Job Failures",
        handler="functions.handlers.glue_job_failure.handler",
        signals=("glue-failures",),
        glue_job_states=("FAILED", "TIMEOUT", "ERROR"),
        # GetJobRuns: the failed run (error message, arguments, workers) and whether a newer run exists;
        # GetJob: role, connections, bookmark and Glue's own retries; GetJobRun: verification of the retry.
        # FilterLogEvents: the run's error log; SimulatePrincipalPolicy: AccessDenied only; GetConnection,
        # DescribeSecurityGroups/Subnets, ListClustersV2: broker connectivity only (scopes: infra/permissions.py).
        reads=("glue:GetJobRuns", "glue:GetJob", "glue:GetJobRun", "logs:FilterLogEvents",
               "iam:SimulatePrincipalPolicy", "glue:GetConnection", "ec2:DescribeSecurityGroups",
               "ec2:DescribeSubnets", "kafka:ListClustersV2"),
        actions=("glue.restart_job",),
    ),
    "data_quality": PlaybookDeclaration(
        name="data_quality",
        runbook_section="Common Issues and Resolutions / Data Quality Issues",
        handler="functions.handlers.data_quality.handler",
        signals=("landing-freshness",),
        # ListBucket: the newest object under the landing prefix; GetObject: the staging quality flags;
        # GetJobRuns: the upstream streaming job and the batch job's runs; GetJobRun: verification.
        reads=("s3:ListBucket", "s3:GetObject", "glue:GetJobRuns", "glue:GetJobRun"),
        actions=("glue.rerun_partition",),
    ),
}

# Every handler reads alarm states (lineage hold), writes the audit trail, claims the circuit breaker,
# checks the kill switch, keeps idempotency records and notifies. CDK scopes each to its resource.
CORE_READS = ("cloudwatch:DescribeAlarms",)
