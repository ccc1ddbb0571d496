"""What each maintenance function may do, derived from the job declarations (functions.maintenance.JOBS):
its own logs and traces, its on-failure destination, and each declared (action, resource) grant scoped to
the catalog's ARN for that resource. Nothing else: a job reads, and writes only its own reports.

Plain data here (no CDK import at module level): the infra tests compare the template against it.
"""

from __future__ import annotations

import re

from functions.core.catalog import Catalog
from functions.maintenance import MaintenanceJob, Scope, function_name, reports_bucket, terraform_state_bucket
from infra import names
from infra.permissions import Statement


def _s3(catalog: Catalog, bucket: str, key: str | None = None) -> str:
    return f"arn:{names.partition_for(catalog.region)}:s3:::{bucket}" + (f"/{key}" if key is not None else "")


_WHY_ALARMS = ("alarm names are <prefix>/<signal>/<component>: the prefix is this service's own alarms and nothing "
               "else (the weekly review reads their states and history)")
_WHY_NO_RESOURCE = ("redshift:DescribeClusterSnapshots (the posture check reads the catalog cluster's snapshots), "
                    "kafka:ListClustersV2, kafka:GetBootstrapBrokers, cloudwatch:ListMetrics, events:ListRules, "
                    "events:TestEventPattern, redshift-data:DescribeStatement and GetStatementResult support no "
                    "resource-level permissions (IAM service reference): Resource must be *")
_WHY_SNAPSHOTS = ("Redshift names automated snapshots itself (rs:<cluster>-<timestamp>): every snapshot of the "
                  "catalog's one cluster, read only")


def scope_arns(catalog: Catalog, scope: Scope, job: MaintenanceJob) -> tuple[tuple[str, ...], str]:
    """(ARNs, why a wildcard among them is the narrowest grant) for one symbolic resource."""
    rs = catalog.redshift
    cluster = rs.cluster_id
    arns: dict[str, tuple[str, str]] = {
        "audit_table": (names.table_arn(catalog, names.audit_table(catalog)), ""),
        "service_alarms": (names.alarms_arn(catalog), _WHY_ALARMS),
        "lake_bucket": (_s3(catalog, catalog.s3.name), ""),
        "state_bucket": (_s3(catalog, terraform_state_bucket(catalog)), ""),
        "redshift_cluster": (names.arn(catalog, "redshift", f"cluster:{cluster}"), ""),
        "redshift_snapshots": (names.arn(catalog, "redshift", f"snapshot:{cluster}/*"), _WHY_SNAPSHOTS),
        "redshift_dbuser": (names.arn(catalog, "redshift", f"dbuser:{cluster}/{rs.db_user}"), ""),
        "redshift_dbname": (names.arn(catalog, "redshift", f"dbname:{cluster}/{rs.database}"), ""),
        "reports_bucket": (_s3(catalog, reports_bucket(catalog)), ""),
        "own_reports": (_s3(catalog, reports_bucket(catalog), f"{job.report}/*"),
                        f"report keys are named by period under the job's own prefix {job.report}/ of the reports "
                        f"bucket"),
        "on_call_topic": (names.topic_arn(catalog), ""),
        "no_resource_level": ("*", _WHY_NO_RESOURCE),
        "msk_cluster": (names.arn(catalog, "kafka", f"cluster/{catalog.msk.cluster_name}/*"),
                        "MSK appends a UUID to the cluster's ARN: the catalog's one cluster, any UUID"),
        "kill_switch": (names.parameter_arn(catalog, catalog.guardrails.kill_switch_parameter), ""),
        "admin_secret": (names.arn(catalog, "secretsmanager", f"secret:{rs.admin_secret}-??????"),
                         "Secrets Manager appends six random characters to a secret's ARN: the catalog's one "
                         "secret") if rs.admin_secret else ("", ""),
    }
    if scope == "glue_jobs":
        return tuple(names.arn(catalog, "glue", f"job/{j.name}") for j in catalog.glue_jobs), ""
    if scope not in arns:
        raise ValueError(f"no ARN mapping for maintenance scope {scope!r}: add one in {__name__}")
    arn, reason = arns[scope]
    return ((arn,) if arn else ()), reason


def _sid(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def log_group_name(catalog: Catalog, job: MaintenanceJob) -> str:
    return f"/aws/lambda/{function_name(catalog, job.name)}"


def job_statements(catalog: Catalog, job: MaintenanceJob) -> list[Statement]:
    statements = [
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                  (names.arn(catalog, "logs", f"log-group:{log_group_name(catalog, job)}:*"),),
                  wildcard_reason="Lambda names the log streams at run time; the log group is the function's own"),
        Statement("SendTraces", ("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",),
                  wildcard_reason="X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level "
                                  "permissions (Resource must be *)"),
        # Lambda's on-failure destination sends with the function's role.
        Statement("OnFailureDestination", ("sqs:SendMessage",), (names.queue_arn(catalog),)),
    ]
    if job.in_vpc:
        statements.append(Statement(
            "VpcNetworkInterfaces", ("ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",
                                     "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
                                     "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses"), ("*",),
            wildcard_reason="Lambda manages the function's network interfaces in the catalog's subnets (the actions "
                            "of AWS's AWSLambdaVPCAccessExecutionRole); their ids exist only once created, and "
                            "DescribeNetworkInterfaces and DescribeSubnets take no resource"))
    by_scope: dict[Scope, list[str]] = {}
    for action, scope in job.grants:
        by_scope.setdefault(scope, []).append(action)
    for scope, actions in by_scope.items():
        arns, reason = scope_arns(catalog, scope, job)
        if not arns:  # e.g. no admin secret in the catalog: nothing to describe
            continue
        statements.append(Statement(sid=_sid(scope), actions=tuple(sorted(set(actions))), resources=arns,
                                    wildcard_reason=reason))
    return statements


def scheduler_statements(catalog: Catalog, job: MaintenanceJob) -> list[Statement]:
    """The schedule's own role: invoke its one function; park undeliverable invocations in the queue."""
    return [
        Statement("InvokeJob", ("lambda:InvokeFunction",),
                  (names.arn(catalog, "lambda", f"function:{function_name(catalog, job.name)}"),)),
        Statement("DeadLetter", ("sqs:SendMessage",), (names.queue_arn(catalog),)),
    ]
