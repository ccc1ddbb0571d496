"""What the procedures may do, derived from their declarations (functions/procedures): nothing more.

Each step function's role is its own logs and traces plus the `grants` its declaration lists, each scoped to
the catalog resources of its scope. The state machines' roles are collected from the states themselves by
infra/constructs/procedure_flow.py (each direct integration adds exactly its IAM action on its resources).
Plain data here (no CDK import at module level): tests and the sandbox read it cheaply.
"""

from __future__ import annotations

from functions.core.catalog import Catalog
from functions.procedures import (
    ALARM_STARTS,
    Scope,
    StepFunctionDeclaration,
    approvals_table_name,
    state_machine_name,
    step_function_name,
    tokens_table_name,
)
from infra import names
from infra.permissions import Statement, resource_arns

# Actions AWS authorises on Resource '*' only, and why each is needed: the reason becomes the cdk-nag
# acknowledgment, and tests/infra check no other action is granted on '*'.
NO_RESOURCE_LEVEL: dict[str, str] = {
    "xray:PutTraceSegments": "X-Ray trace writes support no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray trace writes support no resource-level permissions",
    "xray:GetSamplingRules": "X-Ray sampling reads (Step Functions tracing) support no resource-level permissions",
    "xray:GetSamplingTargets": "X-Ray sampling reads (Step Functions tracing) support no resource-level permissions",
    "cloudtrail:LookupEvents": "CloudTrail LookupEvents supports no resource-level permissions: the security "
                               "incident's review of what the principal did",
    "health:DescribeEvents": "AWS Health DescribeEvents supports no resource-level permissions: the outage evidence",
    "support:CreateCase": "AWS Support supports no resource-level permissions: the outage escalation",
    "cloudformation:ListStacks": "ListStacks supports no resource-level permissions: recent deployments",
    "redshift:DescribeClusterSnapshots": "Redshift DescribeClusterSnapshots supports no resource-level permissions "
                                         "(IAM service reference): the snapshot before the corruption is found "
                                         "among the catalog's cluster's snapshots",
    "redshift:DescribeTableRestoreStatus": "Redshift DescribeTableRestoreStatus supports no resource-level "
                                           "permissions (IAM service reference): the data-corruption restore polls "
                                           "its own request on the catalog's cluster",
    "ec2:DescribeSecurityGroups": "EC2 Describe* calls support no resource-level permissions: the ingress review "
                                  "of the catalog's security groups",
    "kafka:ListClustersV2": "MSK ListClustersV2 supports no resource-level permissions: the cluster's ARN (with "
                            "its generated suffix) is looked up by the catalog's name",
    "redshift-data:DescribeStatement": "Data API statement reads support no resource-level permissions; a role "
                                       "sees only the statements it ran",
    "redshift-data:GetStatementResult": "Data API statement reads support no resource-level permissions; a role "
                                        "sees only the statements it ran",
    # Step Functions' vended log delivery (logging level ALL to CloudWatch Logs): AWS documents '*'.
    "logs:CreateLogDelivery": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
    "logs:GetLogDelivery": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
    "logs:UpdateLogDelivery": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
    "logs:DeleteLogDelivery": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
    "logs:ListLogDeliveries": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
    "logs:PutResourcePolicy": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
    "logs:DescribeResourcePolicies": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
    "logs:DescribeLogGroups": "Step Functions log delivery is authorised on '*' only (AWS documentation)",
}

PRINCIPALS_REASON = ("the suspected principal is named when the procedure starts: any user or role of this "
                     "account (the account id is fixed)")


def procedures_stack(catalog: Catalog) -> str:
    return f"{catalog.prefix}-procedures"


def approvals_table(catalog: Catalog) -> str:
    return approvals_table_name(catalog.prefix)


def step_log_group(catalog: Catalog, step: str) -> str:
    return f"/aws/lambda/{step_function_name(catalog.prefix, step)}"


def state_machine_log_group(catalog: Catalog, procedure: str) -> str:
    return f"/aws/vendedlogs/states/{catalog.prefix}-{procedure}"


def glue_role_arns(catalog: Catalog) -> tuple[str, ...]:
    """The roles the catalog's Glue jobs run as (UpdateJob passes the job's role: iam:PassRole)."""
    return tuple(names.arn(catalog, "iam", f"role/{job.role_name}", regional=False) for job in catalog.glue_jobs)


def scope_arns(catalog: Catalog, scope: Scope) -> tuple[tuple[str, ...], str]:
    """(ARNs, why a wildcard among them is the narrowest grant possible) of one scope."""
    iam = lambda resource: names.arn(catalog, "iam", resource, regional=False)  # noqa: E731 - a short local
    cluster = catalog.redshift.cluster_id
    bucket = names.arn(catalog, "s3", catalog.s3.name, regional=False, account=False)
    scopes: dict[str, tuple[tuple[str, ...], str]] = {
        "approvals_table": ((names.table_arn(catalog, approvals_table(catalog)),), ""),
        "approval_tokens": ((names.table_arn(catalog, tokens_table_name(approvals_table(catalog))),), ""),
        "audit_table": ((names.table_arn(catalog, names.audit_table(catalog)),), ""),
        "on_call_topic": ((names.topic_arn(catalog),), ""),
        "escalation_topic": ((names.escalation_topic_arn(catalog),), ""),
        "own_alarms": ((names.alarms_arn(catalog),), "alarm names are <prefix>/<signal>/<component>: the prefix "
                                                     "is this service's own alarms and nothing else"),
        "glue_jobs": (resource_arns(catalog, "glue_job"), ""),
        "glue_triggers": (tuple(names.arn(catalog, "glue", f"trigger/{j.trigger}") for j in catalog.glue_jobs
                                if j.trigger), ""),
        "redshift_cluster": (resource_arns(catalog, "redshift_cluster"), ""),
        "redshift_snapshots": ((names.arn(catalog, "redshift", f"snapshot:{cluster}/*"),),
                               "automated snapshots are named by Redshift at run time; the cluster is the catalog's"),
        "redshift_dbuser": ((names.arn(catalog, "redshift", f"dbuser:{cluster}/{catalog.redshift.db_user}"),
                             names.arn(catalog, "redshift", f"dbname:{cluster}/{catalog.redshift.database}")), ""),
        "s3_bucket": ((bucket,), ""),
        "s3_objects": ((f"{bucket}/*",), "object-level actions on the objects of the catalog's one data lake bucket "
                                         "(which keys is decided by the procedure's input)"),
        "msk_cluster": (resource_arns(catalog, "msk_cluster"),
                        "MSK appends a generated UUID to the cluster ARN; the cluster name is fixed by the catalog"),
        "iam_principals": ((iam("user/*"), iam("role/*")), PRINCIPALS_REASON),
        "iam_groups": ((iam("group/*"),), "the suspected user's groups are found at run time (ListGroupsForUser)"),
        "iam_policies": ((iam("policy/*"), f"arn:{names.partition_for(catalog.region)}:iam::aws:policy/*"),
                         "the policies attached to the suspected principal are found at run time, AWS managed "
                         "ones included"),
        "no_resource_level": (("*",), ""),
        "alarm_started_machines": (tuple(names.arn(catalog, "states", f"stateMachine:{machine}")
                                         for machine in _alarm_started(catalog)), ""),
        "alarm_started_executions": (tuple(names.arn(catalog, "states", f"execution:{machine}:*")
                                           for machine in _alarm_started(catalog)),
                                     "an execution is named <procedure>--<incident> when it starts; the state "
                                     "machine in its ARN is fixed"),
        "failure_queue": ((names.queue_arn(catalog),), ""),
        "kill_switch": ((names.parameter_arn(catalog, catalog.guardrails.kill_switch_parameter),), ""),
        "guard_table": ((names.table_arn(catalog, names.breaker_table(catalog)),), ""),
    }
    return scopes[scope]


def _alarm_started(catalog: Catalog) -> list[str]:
    """The state machines an alarm may start (ALARM_STARTS), by name."""
    return sorted({state_machine_name(catalog.prefix, start.procedure) for start in ALARM_STARTS.values()})


def _sid(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.replace("-", "_").split("_") if part)


def step_statements(catalog: Catalog, declaration: StepFunctionDeclaration) -> list[Statement]:
    """The step function's role: its own logs, X-Ray, and each declared grant on its scope's ARNs."""
    statements = [
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                  (names.arn(catalog, "logs", f"log-group:{step_log_group(catalog, declaration.name)}:*"),),
                  wildcard_reason="Lambda names the log streams at run time; the log group is the function's own"),
        Statement("SendTraces", ("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",),
                  wildcard_reason=NO_RESOURCE_LEVEL["xray:PutTraceSegments"]),
    ]
    for grant in declaration.grants:
        arns, reason = scope_arns(catalog, grant.scope)
        if not arns:
            continue  # e.g. no Glue trigger in this catalog
        if grant.scope == "no_resource_level":
            missing = [a for a in grant.actions if a not in NO_RESOURCE_LEVEL]
            if missing:
                raise ValueError(f"step {declaration.name}: {missing} granted on '*' without a reason in "
                                 f"NO_RESOURCE_LEVEL")
            reason = "; ".join(sorted({NO_RESOURCE_LEVEL[a] for a in grant.actions}))
        statements.append(Statement(f"{_sid(grant.scope)}{len(statements)}", tuple(sorted(grant.actions)), arns,
                                    wildcard_reason=reason))
    return statements
