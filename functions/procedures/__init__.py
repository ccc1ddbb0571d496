"""Declarations of the emergency and scaling procedures: data only, so CDK, the CLI and the tests read them
without importing any step code.

Each procedure is one Standard Step Functions state machine (infra/stacks/procedures.py). Its states are
either direct service integrations (simple AWS calls: the state machine's own role holds exactly those) or a
step function (a Lambda) where there is logic: gathering evidence, deciding, summarising CloudTrail,
checking data quality. Each step function has its own role, granted exactly the `grants` declared here
(infra/constructs/procedure_permissions.py turns scopes into the catalog's ARNs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from functions.core.naming import OUTAGE_SIGNAL

# What a grant applies to; infra/constructs/procedure_permissions.py maps each scope to ARNs from the catalog.
Scope = Literal[
    "approvals_table", "approval_tokens", "audit_table", "on_call_topic", "escalation_topic", "own_alarms",
    "glue_jobs", "glue_triggers", "redshift_cluster", "redshift_snapshots", "redshift_dbuser",
    "s3_bucket", "s3_objects", "msk_cluster", "iam_principals", "iam_groups", "iam_policies",
    "no_resource_level",  # the API has no resource-level permissions: '*' (each action's reason is in infra)
    # The starter (ALARM_STARTS): the state machines alarms start, their executions, the unhandled-events queue.
    "alarm_started_machines", "alarm_started_executions", "failure_queue",
    # The guard's own state the gate and the starter read (issue 14): the kill switch, the breaker table.
    "kill_switch", "guard_table",
]


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    scope: Scope


@dataclass(frozen=True)
class StepFunctionDeclaration:
    name: str  # procedure_<name> in function names: <prefix>-procedure-<slug>
    handler: str  # module.function inside the Lambda asset
    summary: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class ProcedureDeclaration:
    name: str  # what a person types: remedy incident start <name>
    title: str
    runbook_section: str
    # The states a run goes through on its success path, in order (status and the README show them).
    steps: tuple[str, ...]
    # States that change something only after the approval state before them was answered "approve".
    destructive: tuple[str, ...]
    step_functions: tuple[str, ...]  # the step functions its Lambda states invoke


_DATA_API = (Grant(("redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"), "redshift_cluster"),
             Grant(("redshift:GetClusterCredentials",), "redshift_dbuser"),
             Grant(("redshift-data:DescribeStatement", "redshift-data:GetStatementResult"), "no_resource_level"))

STEP_FUNCTIONS: dict[str, StepFunctionDeclaration] = {s.name: s for s in (
    StepFunctionDeclaration(
        "approval", "functions.handlers.procedure_approval.handler",
        "Records the approval's task token with the incident and asks on call what to do; every five minutes "
        "reminds on call of approvals unanswered at half their window",
        # The sweep reads the pending approvals (Scan) and marks each reminded once (conditional UpdateItem).
        (Grant(("dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"), "approvals_table"),
         Grant(("dynamodb:PutItem",), "approval_tokens"),
         Grant(("dynamodb:PutItem",), "audit_table"),
         Grant(("sns:Publish",), "on_call_topic"))),
    StepFunctionDeclaration(
        "gate", "functions.handlers.procedure_gate.handler",
        "Before each changing step: the kill switch (holds the run) and change freezes (ask for approval)",
        (Grant(("ssm:GetParameter",), "kill_switch"), Grant(("dynamodb:GetItem",), "guard_table"),
         Grant(("dynamodb:PutItem",), "audit_table"), Grant(("sns:Publish",), "on_call_topic"))),
    StepFunctionDeclaration(
        "report", "functions.handlers.procedure_report.handler",
        "Tells on call how a procedure ended: what was done, what failed, what is left to do by hand",
        (Grant(("dynamodb:UpdateItem",), "approvals_table"), Grant(("dynamodb:PutItem",), "audit_table"),
         Grant(("sns:Publish",), "on_call_topic"),
         Grant(("sns:Publish",), "escalation_topic"))),  # an approval nobody answered: the lapse notice pages
    StepFunctionDeclaration(
        "outage_assess", "functions.handlers.procedure_outage.assess",
        "Service outage: alarms, recent deployments and changes, AWS Health; decides whether a rollback applies",
        (Grant(("cloudwatch:DescribeAlarms",), "own_alarms"), Grant(("glue:GetJob",), "glue_jobs"),
         Grant(("dynamodb:Scan",), "audit_table"),
         Grant(("cloudformation:ListStacks", "health:DescribeEvents"), "no_resource_level"))),
    StepFunctionDeclaration(
        "outage_escalate", "functions.handlers.procedure_outage.escalate",
        "Service outage: opens an AWS Support case where the account is entitled; writes the page",
        (Grant(("support:CreateCase",), "no_resource_level"),)),
    StepFunctionDeclaration(
        "corruption_assess", "functions.handlers.procedure_corruption.assess",
        "Data corruption: affected jobs and triggers, snapshot and object versions before the range, checks",
        (Grant(("glue:GetJobRuns",), "glue_jobs"), Grant(("glue:GetTrigger",), "glue_triggers"),
         Grant(("redshift:DescribeClusterSnapshots",), "no_resource_level"),
         Grant(("s3:GetBucketVersioning", "s3:ListBucketVersions"), "s3_bucket"), *_DATA_API)),
    StepFunctionDeclaration(
        "corruption_restore", "functions.handlers.procedure_corruption.restore",
        "Data corruption: swaps restored tables in (Redshift Data API); restores object versions (S3)",
        (Grant(("s3:ListBucketVersions",), "s3_bucket"),
         Grant(("s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"), "s3_objects"), *_DATA_API)),
    StepFunctionDeclaration(
        "corruption_reprocess", "functions.handlers.procedure_corruption.reprocess",
        "Data corruption: starts one re-processing run per affected batch job (once) and follows them",
        (Grant(("glue:GetJobRuns", "glue:StartJobRun"), "glue_jobs"),)),
    StepFunctionDeclaration(
        "corruption_verify", "functions.handlers.procedure_corruption.verify",
        "Data corruption: row counts and quality checks over the range; objects back at their versions",
        (Grant(("s3:ListBucketVersions",), "s3_bucket"), *_DATA_API)),
    StepFunctionDeclaration(
        "security_assess", "functions.handlers.procedure_security.assess",
        "Security incident: resolves the principal and its keys, finds ingress the catalog does not allow",
        (Grant(("iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:GetUser", "iam:GetRole"), "iam_principals"),
         Grant(("ec2:DescribeSecurityGroups", "cloudtrail:LookupEvents"), "no_resource_level"))),
    StepFunctionDeclaration(
        "security_review", "functions.handlers.procedure_security.review",
        "Security incident: summarises what the principal did (CloudTrail) and flags its IAM policies",
        (Grant(("iam:ListAttachedUserPolicies", "iam:ListUserPolicies", "iam:GetUserPolicy",
                "iam:ListGroupsForUser", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
                "iam:GetRolePolicy"), "iam_principals"),
         Grant(("iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:GetGroupPolicy"), "iam_groups"),
         Grant(("iam:GetPolicy", "iam:GetPolicyVersion"), "iam_policies"),
         Grant(("cloudtrail:LookupEvents",), "no_resource_level"))),
    StepFunctionDeclaration(
        "scale_glue_plan", "functions.handlers.procedure_scaling.plan_glue",
        "Scale Glue: the job's whole definition with the new worker count and type, within the caps",
        (Grant(("glue:GetJob",), "glue_jobs"),)),
    StepFunctionDeclaration(
        "scale_msk_plan", "functions.handlers.procedure_scaling.plan_msk",
        "Scale MSK: the broker count change, within the cap and a multiple of the cluster's zones",
        (Grant(("kafka:DescribeClusterV2",), "msk_cluster"), Grant(("kafka:ListClustersV2",), "no_resource_level"))),
    StepFunctionDeclaration(
        "scale_redshift_plan", "functions.handlers.procedure_scaling.plan_redshift",
        "Scale Redshift: the resize (elastic, or classic for a new node type), within the cap",
        (Grant(("redshift:DescribeClusters",), "redshift_cluster"),)),
)}

PROCEDURES: dict[str, ProcedureDeclaration] = {p.name: p for p in (
    ProcedureDeclaration(
        "service-outage", "Service outage: evidence, rollback of our own recorded changes, escalation",
        "Emergency Procedures / Service Outage",
        steps=("GatherEvidence", "RollbackApplies", "Approval", "RecordRollbackPoint", "Rollback", "Escalate",
               "Page", "Report"),
        destructive=("Rollback",),
        step_functions=("outage_assess", "outage_escalate", "approval", "gate", "report")),
    ProcedureDeclaration(
        "data-corruption", "Data corruption: stop, confirm the range, restore, re-process, verify, resume",
        "Emergency Procedures / Data Corruption",
        steps=("Assess", "StopRuns", "StopTriggers", "Approval", "RecordRollbackPoint", "RestoreTables",
               "SwapTables", "RestoreObjects", "Reprocess", "ReprocessDone", "Verify", "Verified",
               "ResumeTriggers", "ResumeStreaming", "Report"),
        destructive=("RestoreTables", "SwapTables", "RestoreObjects", "Reprocess"),
        step_functions=("corruption_assess", "corruption_restore", "corruption_reprocess", "corruption_verify",
                        "approval", "gate", "report")),
    ProcedureDeclaration(
        "security-incident", "Security incident: rotate, review CloudTrail and IAM, revoke access, lock ingress",
        "Emergency Procedures / Security Incident",
        steps=("Assess", "RotateSecret", "DeactivateKeys", "ReviewCloudTrail", "ReviewPolicies", "Approval",
               "DenyOlderSessions", "RevokeSessions", "RevokeIngress", "Report"),
        destructive=("RevokeUserSessions", "RevokeRoleSessions", "RevokeIngress"),
        step_functions=("security_assess", "security_review", "approval", "gate", "report")),
    ProcedureDeclaration(
        "scale-glue", "Scale a Glue job: workers and worker type, the whole definition carried over",
        "Scaling / Scale Glue Jobs",
        steps=("Plan", "NeedsChange", "Approval", "RecordRollbackPoint", "UpdateJob", "ReadJob", "Changed", "Report"),
        destructive=("UpdateJob",),
        step_functions=("scale_glue_plan", "approval", "gate", "report")),
    ProcedureDeclaration(
        "scale-msk", "Scale MSK: more brokers (MSK cannot remove them)",
        "Scaling / Scale MSK",
        steps=("Plan", "NeedsChange", "Approval", "RecordRollbackPoint", "ReadCluster", "AtTarget", "UpdateBrokerCount",
               "WaitForUpdate", "Report"),
        destructive=("UpdateBrokerCount",),
        step_functions=("scale_msk_plan", "approval", "gate", "report")),
    ProcedureDeclaration(
        "scale-redshift", "Scale Redshift: node count (elastic resize) or node type (classic resize)",
        "Scaling / Scale Redshift",
        steps=("Plan", "NeedsChange", "Approval", "RecordRollbackPoint", "ReadCluster", "AtTarget", "ResizeCluster",
               "ModifyCluster", "WaitForResize", "Report"),
        destructive=("ResizeCluster", "ModifyCluster"),
        step_functions=("scale_redshift_plan", "approval", "gate", "report")),
)}


@dataclass(frozen=True)
class AlarmStart:
    """A procedure an alarm starts: the alarm's change to ALARM -> EventBridge rule -> the starter function
    (STARTER, functions/procedures/start.py) -> StartExecution, named after the alarm and the change."""

    signal: str  # the alarm's signal (functions.core.naming); its component comes with the alarm
    procedure: str


# Only the outage starts by itself. The scaling procedures start by a person (README "Procedures": why not
# from the Redshift CPU or the lag alarm); data corruption and security incidents have no alarm that knows
# the range or the principal.
ALARM_STARTS: dict[str, AlarmStart] = {a.signal: a for a in (
    AlarmStart(OUTAGE_SIGNAL, "service-outage"),
)}

STARTER = StepFunctionDeclaration(
    "start", "functions.handlers.procedure_start.handler",
    "Starts a procedure from its alarm: the input validated, the execution named after the alarm's state change "
    "(a duplicate delivery is refused by Step Functions), the start audited",
    (Grant(("states:StartExecution", "states:ListExecutions"), "alarm_started_machines"),
     Grant(("states:DescribeExecution",), "alarm_started_executions"),
     Grant(("dynamodb:PutItem",), "audit_table"),
     Grant(("ssm:GetParameter",), "kill_switch"),  # an alarm starts no procedure while the kill switch is on
     Grant(("sqs:SendMessage",), "failure_queue")))  # its on-failure destination (EventBridge -> Lambda is async)


def execution_name(procedure: str, incident_id: str) -> str:
    """Deterministic per incident: Step Functions refuses a second Standard execution with the same name."""
    return f"{procedure}--{incident_id}"


def parse_execution_name(name: str) -> tuple[str, str] | None:
    procedure, sep, incident = name.partition("--")
    return (procedure, incident) if sep and procedure in PROCEDURES and incident else None


def state_machine_name(prefix: str, procedure: str) -> str:
    """<service>-<env>-<procedure>, e.g. remedy-dev-data-corruption."""
    return f"{prefix}-{procedure}"


def approvals_table_name(prefix: str) -> str:
    return f"{prefix}-approvals"


def tokens_table_name(approvals_table: str) -> str:
    """The task tokens' own table (functions/procedures/approval.py says why): <approvals table>-tokens."""
    return f"{approvals_table}-tokens"


def step_function_name(prefix: str, step: str) -> str:
    """<service>-<env>-procedure-<step>, e.g. remedy-dev-procedure-outage-assess."""
    return f"{prefix}-procedure-{step.replace('_', '-')}"
