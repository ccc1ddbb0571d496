"""What each playbook function may do, derived from the declarations: nothing more.

A function's policy is its core needs (logs, traces, the safety-core tables, kill switch, on-call
topic, failure queue, CORE_READS) plus, for its playbook, the declared reads and the IAM actions of
every registered action it may plan, each scoped to the catalog resources of the action's kind. The
stack turns these statements into the role's policy and the infra tests compare the template against
them, so the declarations in functions/ stay the single source.

Plain data here (no CDK import at module level): tests and the sandbox can read it cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import functions.actions  # noqa: F401 - registers every action, so grants can be derived
from functions.core.actions import REGISTRY, ResourceKind
from functions.core.catalog import Catalog
from functions.playbooks import CORE_READS, PlaybookDeclaration
from infra import names

if TYPE_CHECKING:
    from aws_cdk import aws_iam as iam


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    # Why a '*' in `resources` is the narrowest grant possible; becomes the cdk-nag acknowledgment.
    wildcard_reason: str = ""
    # IAM condition block, e.g. {"StringEquals": {"s3:prefix": ("landing/orders/",)}}.
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if any("*" in r for r in self.resources) and not self.wildcard_reason:
            raise ValueError(f"statement {self.sid}: a wildcard resource needs a reason")

    def to_iam(self) -> iam.PolicyStatement:
        from aws_cdk import aws_iam as iam

        conditions = {op: {key: list(values) for key, values in keys.items()} for op, keys in self.conditions.items()}
        return iam.PolicyStatement(sid=self.sid, actions=list(self.actions), resources=list(self.resources),
                                   conditions=conditions or None)


# The kinds of resource an action can touch (functions.core.actions.ResourceKind) and why a wildcard is
# needed where there is one.
_KIND_WILDCARDS: dict[str, str] = {
    "msk_cluster": "MSK appends a generated UUID to the cluster ARN; the cluster name is fixed by the catalog",
    "s3_bucket": "object-level actions apply to the objects of the catalog's one data lake bucket",
}

# Read-only actions are scoped by the service they belong to.
_READ_KINDS: dict[str, ResourceKind] = {
    "glue": "glue_job",
    "redshift": "redshift_cluster",
    "kafka": "msk_cluster",
    "s3": "s3_bucket",
}


def resource_arns(catalog: Catalog, kind: ResourceKind) -> tuple[str, ...]:
    """ARNs of every catalog resource of one kind: the scope of any action declared on that kind."""
    if kind == "glue_job":
        return tuple(names.arn(catalog, "glue", f"job/{job.name}") for job in catalog.glue_jobs)
    if kind == "redshift_cluster":
        return (names.arn(catalog, "redshift", f"cluster:{catalog.redshift.cluster_id}"),)
    if kind == "redshift_db_user":  # GetClusterCredentials: the database user and database it signs in to
        cluster, rs = catalog.redshift.cluster_id, catalog.redshift
        return (names.arn(catalog, "redshift", f"dbuser:{cluster}/{rs.db_user}"),
                names.arn(catalog, "redshift", f"dbname:{cluster}/{rs.database}"))
    if kind == "msk_cluster":
        return (names.arn(catalog, "kafka", f"cluster/{catalog.msk.cluster_name}/*"),)
    if kind == "s3_bucket":
        bucket = names.arn(catalog, "s3", catalog.s3.name, regional=False, account=False)
        return (bucket, f"{bucket}/*")
    raise ValueError(f"no ARN mapping for resource kind {kind!r}: add one in infra/permissions.py")


def _sid(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _scoped(sid: str, actions: tuple[str, ...], kind: ResourceKind, catalog: Catalog) -> Statement:
    return Statement(sid=sid, actions=tuple(sorted(set(actions))), resources=resource_arns(catalog, kind),
                     wildcard_reason=_KIND_WILDCARDS.get(kind, ""))


# Reads whose resource is not one of the kinds above: scoped one by one (resources, why a wildcard if any).
_NO_RESOURCE = "supports no resource-level permissions (IAM evaluates it on Resource *); read-only"


def _read_scope(catalog: Catalog, read: str) -> tuple[tuple[str, ...], str] | None:
    if read == "redshift:GetClusterCredentials":
        return resource_arns(catalog, "redshift_db_user"), ""
    if read == "redshift:DescribeClusterParameters":  # the cluster's parameter group (wlm_json_configuration)
        return (names.arn(catalog, "redshift", f"parametergroup:{catalog.redshift.parameter_group}"),), ""
    if read == "logs:FilterLogEvents":  # the Glue jobs' error log groups (and their streams)
        groups = sorted({job.error_log_group for job in catalog.glue_jobs})
        return (tuple(names.arn(catalog, "logs", f"log-group:{g}:*") for g in groups),
                "Glue names one log stream per run inside the jobs' error log group")
    if read == "iam:SimulatePrincipalPolicy":  # the failed job's role, read from GetJob at run time
        return ((names.arn(catalog, "iam", "role/*", regional=False),),
                "the role to simulate is the failed Glue job's, known from GetJob at run time; simulation "
                "reads policies and changes nothing")
    if read == "glue:GetConnection":
        return ((names.arn(catalog, "glue", "catalog"), names.arn(catalog, "glue", "connection/*")),
                "the connection is the one the failed job names (GetJob); Glue authorises it on the catalog "
                "and the connection")
    if read in ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "kafka:ListClustersV2"):
        return ("*",), f"{read} {_NO_RESOURCE}"
    return None


def declared_statements(catalog: Catalog, declaration: PlaybookDeclaration) -> list[Statement]:
    """The playbook's declared reads and the IAM actions of the actions it may plan, scoped by kind."""
    statements: list[Statement] = []
    reads_by_kind: dict[ResourceKind, list[str]] = {}
    for read in declaration.reads:
        scope = _read_scope(catalog, read)
        if scope is not None:
            statements.append(Statement(sid=f"Read{_sid(read)}", actions=(read,), resources=scope[0],
                                        wildcard_reason=scope[1]))
            continue
        service = read.split(":", 1)[0]
        if service not in _READ_KINDS:
            raise ValueError(f"playbook {declaration.name}: no resource scope for read {read!r}; "
                             f"add its service to infra/permissions.py")
        reads_by_kind.setdefault(_READ_KINDS[service], []).append(read)
    for kind, reads in reads_by_kind.items():
        statements.append(_scoped(f"Reads{_sid(kind)}", tuple(reads), kind, catalog))
    for name in declaration.actions:
        spec = REGISTRY[name]  # KeyError: the declaration names an action nobody registered
        statements.append(_scoped(f"Action{_sid(name)}", spec.iam_actions, spec.resource_kind, catalog))
    return statements


def _core_reads(catalog: Catalog) -> list[Statement]:
    scopes = {
        "cloudwatch": (names.alarms_arn(catalog),
                       "alarm names are <prefix>/<signal>/<component>: the prefix is this service's own "
                       "alarms and nothing else (lineage hold reads their states)"),
    }
    statements = []
    for read in CORE_READS:
        service = read.split(":", 1)[0]
        if service not in scopes:
            raise ValueError(f"no resource scope for core read {read!r}: add it in infra/permissions.py")
        resource, reason = scopes[service]
        statements.append(Statement(sid=f"CoreRead{_sid(read)}", actions=(read,), resources=(resource,),
                                    wildcard_reason=reason))
    return statements


def send_traces() -> Statement:
    """Active tracing (X-Ray): what CDK would add to the role for `tracing=ACTIVE`, declared here instead."""
    return Statement("SendTraces", ("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",),
                     wildcard_reason="X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level "
                                     "permissions (Resource must be *)")


def core_statements(catalog: Catalog, declaration: PlaybookDeclaration) -> list[Statement]:
    """What every playbook function needs to run at all (functions.core.runtime and its adapters)."""
    return [
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                  (names.log_streams_arn(catalog, declaration.name),),
                  wildcard_reason="Lambda names the log streams at run time; the log group is the function's "
                                  "own"),
        send_traces(),
        *_core_reads(catalog),
        Statement("AuditTrail", ("dynamodb:PutItem",),
                  (names.table_arn(catalog, names.audit_table(catalog)),)),
        # GetItem + conditional UpdateItem: cooldown and budget; UpdateItem + Scan: leases (scale-ups to give back);
        # GetItem + conditional UpdateItem: pending approvals (answered once); Scan + conditional UpdateItem:
        # verification windows (final verdict once). No DeleteItem, no PutItem: items are only ever updated.
        Statement("CircuitBreaker", ("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:UpdateItem"),
                  (names.table_arn(catalog, names.breaker_table(catalog)),)),
        # What the Powertools idempotency DynamoDB persistence layer calls.
        Statement("IdempotencyRecords", ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                                         "dynamodb:UpdateItem"),
                  (names.table_arn(catalog, names.idempotency_table(catalog)),)),
        Statement("KillSwitch", ("ssm:GetParameter",),
                  (names.parameter_arn(catalog, catalog.guardrails.kill_switch_parameter),)),
        # The on-call topic; the escalation topic for ESCALATED outcomes and lapsed approvals.
        Statement("NotifyOnCall", ("sns:Publish",), (names.topic_arn(catalog), names.escalation_topic_arn(catalog))),
        # Lambda's on-failure destination sends with the function's role.
        Statement("OnFailureDestination", ("sqs:SendMessage",), (names.queue_arn(catalog),)),
    ]


def vpc_statements(catalog: Catalog, declaration: PlaybookDeclaration) -> list[Statement]:
    """A function in a VPC: Lambda creates, describes and removes its network interfaces with its role: the
    actions of AWS's managed AWSLambdaVPCAccessExecutionRole (v3, 2024), DescribeSubnets included."""
    if not getattr(declaration, "in_vpc", False):  # maintenance jobs share these statements and run outside
        return []
    return [Statement("VpcNetworkInterfaces",
                      ("ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                       "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses"),
                      ("*",),
                      wildcard_reason="Lambda manages the function's network interfaces in the catalog's subnets; "
                                      "their ids exist only once created, and DescribeNetworkInterfaces and "
                                      "DescribeSubnets take no resource")]


def function_statements(catalog: Catalog, declaration: PlaybookDeclaration) -> list[Statement]:
    return (core_statements(catalog, declaration) + declared_statements(catalog, declaration)
            + vpc_statements(catalog, declaration))


# --- probes (infra/constructs/probe_function.py) ----------------------------------------------------------

def _probe_logs(catalog: Catalog, probe: str) -> Statement:
    return Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                     (names.probe_log_streams_arn(catalog, probe),),
                     wildcard_reason="Lambda names the log streams at run time; the log group is the probe's own")


def probe_statements(catalog: Catalog, probe: str) -> list[Statement]:
    """Exactly what each probe calls (functions/probes/adapters.py); metrics go out as log lines (EMF),
    so no probe needs cloudwatch:PutMetricData."""
    if probe == "freshness":
        return [
            _probe_logs(catalog, probe),
            send_traces(),
            # ListObjectsV2 of each landing prefix, and of nothing else in the bucket.
            Statement("ListLandingPrefixes", ("s3:ListBucket",), (names.bucket_arn(catalog),),
                      conditions={"StringEquals": {"s3:prefix": tuple(catalog.s3.landing_prefixes)}}),
            *quality_flags_statements(catalog),
            # A run that could not measure is parked with its error: a blind probe leaves a trace.
            Statement("OnFailureDestination", ("sqs:SendMessage",), (names.queue_arn(catalog),)),
        ]
    if probe == "glue_outcomes":
        statements = [_probe_logs(catalog, probe), send_traces()]
        streaming = tuple(names.arn(catalog, "glue", f"job/{j.name}") for j in catalog.glue_jobs if j.streaming)
        if streaming:
            # Is a stopped streaming job's run replaced by a newer one (a restart) or not (a failure)?
            statements.append(Statement("ReadStreamingJobRuns", ("glue:GetJobRuns",), streaming))
            # Did this service stop the run itself, its start pending (functions.core.pending)?
            statements.append(Statement("ReadPendingStarts", ("dynamodb:GetItem",),
                                        (names.table_arn(catalog, names.breaker_table(catalog)),)))
        # Lambda's on-failure destination sends with the function's role: an uncounted run end is parked.
        statements.append(Statement("OnFailureDestination", ("sqs:SendMessage",), (names.queue_arn(catalog),)))
        return statements
    if probe == "consumer_lag":
        return consumer_lag_probe_statements(catalog)
    raise ValueError(f"no permissions declared for probe {probe!r}: add them in infra/permissions.py")


def quality_flags_statements(catalog: Catalog) -> list[Statement]:
    """The freshness probe's reads of the staging quality flags (functions/probes/quality.py): ListObjectsV2 of
    the flags of each batch job reading a landing prefix, and GetObject of those flags, nothing else in staging."""
    from functions.probes.quality import batch_jobs_by_prefix, flags_prefix

    prefixes = sorted({flags_prefix(catalog, j.name) for jobs in batch_jobs_by_prefix(catalog).values() for j in jobs})
    if not prefixes:
        return []
    return [
        Statement("ListQualityFlags", ("s3:ListBucket",), (names.bucket_arn(catalog),),
                  conditions={"StringEquals": {"s3:prefix": tuple(prefixes)}}),
        Statement("ReadQualityFlags", ("s3:GetObject",), tuple(f"{names.bucket_arn(catalog)}/{p}*" for p in prefixes),
                  wildcard_reason="the batch job writes one flags object per partition it loads, named by the "
                                  "partition's hour"),
    ]


_MSK_UUID = "MSK appends a generated UUID to the cluster's ARN (and to its topics' and groups'); the cluster name " \
            "and the topic or group are fixed by the catalog"


def consumer_lag_probe_statements(catalog: Catalog) -> list[Statement]:
    """The lag probe (functions/probes/kafka.py, consumer_lag.py): find the brokers, read partition offsets of
    the probed jobs' topics and the committed offsets of msk-sourced jobs' groups (no write, no group
    membership), list and read the checkpoints' offsets/ and commits/ logs, nothing else."""
    from functions.probes import PROBES
    from functions.probes.consumer_lag import COMMITS_LOG, OFFSETS_LOG, probed_jobs

    cluster = catalog.msk.cluster_name
    jobs = probed_jobs(catalog)
    statements = [_probe_logs(catalog, "consumer_lag"), send_traces()]
    if not jobs:
        return statements
    statements += [
        # The brokers' IAM listener, looked up every run (brokers added by scale-msk are found).
        Statement("FindBrokers", ("kafka:GetBootstrapBrokers", "kafka:ListClustersV2"), ("*",),
                  wildcard_reason=f"kafka:ListClustersV2 and kafka:GetBootstrapBrokers {_NO_RESOURCE}"),
        Statement("ConnectToCluster", ("kafka-cluster:Connect",),
                  (names.arn(catalog, "kafka", f"cluster/{cluster}/*"),), wildcard_reason=_MSK_UUID),
        # Metadata and ListOffsets of the jobs' topics.
        Statement("DescribeTopics", ("kafka-cluster:DescribeTopic",),
                  tuple(names.arn(catalog, "kafka", f"topic/{cluster}/*/{topic}")
                        for topic in sorted({j.topic for j in jobs if j.topic})), wildcard_reason=_MSK_UUID),
    ]
    groups = sorted({j.consumer_group for j in jobs if j.lag_source == "msk" and j.consumer_group})
    if groups:
        # OffsetFetch: does the group commit offsets (else MSK publishes no lag for it)? Reading, not joining.
        statements.append(Statement("DescribeCommittingGroups", ("kafka-cluster:DescribeGroup",),
                                    tuple(names.arn(catalog, "kafka", f"group/{cluster}/*/{g}") for g in groups),
                                    wildcard_reason=_MSK_UUID))
    checkpoints = [j for j in jobs if j.lag_source == "checkpoint"]
    for bucket in sorted({j.checkpoint_bucket for j in checkpoints}):
        mine = [j for j in checkpoints if j.checkpoint_bucket == bucket]
        arn = names.arn(catalog, "s3", bucket, regional=False, account=False)
        sid = _sid(bucket)
        # ListObjectsV2 of the two logs of each checkpoint, and of nothing else in the bucket.
        statements.append(Statement(f"ListCheckpoints{sid}", ("s3:ListBucket",), (arn,), conditions={
            "StringEquals": {"s3:prefix": tuple(f"{j.checkpoint_prefix}{log}/" for j in mine
                                                for log in (OFFSETS_LOG, COMMITS_LOG))}}))
        # Only offsets/ is read (commits/ entries are only looked for).
        statements.append(Statement(f"ReadCheckpointOffsets{sid}", ("s3:GetObject",),
                                    tuple(f"{arn}/{j.checkpoint_prefix}{OFFSETS_LOG}/*" for j in mine),
                                    wildcard_reason="Spark names one file per batch (its number) in offsets/"))
    statements += vpc_statements(catalog, PROBES["consumer_lag"])  # type: ignore[arg-type]
    # A run that failed outright is parked with its error (a blind probe leaves a trace).
    statements.append(Statement("OnFailureDestination", ("sqs:SendMessage",), (names.queue_arn(catalog),)))
    return statements


def bucket_metrics_statements(catalog: Catalog) -> list[Statement]:
    """The custom resource that puts (and on delete removes) the bucket's request-metrics configuration."""
    return [
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                  (names.arn(catalog, "logs", f"log-group:{names.bucket_metrics_log_group_name(catalog)}:*"),),
                  wildcard_reason="Lambda names the log streams at run time; the log group is the custom "
                                  "resource's own"),
        # PutBucketMetricsConfiguration and DeleteBucketMetricsConfiguration are both authorised by this one
        # IAM action (there is no s3:PutBucketMetricsConfiguration action).
        Statement("BucketRequestMetrics", ("s3:PutMetricsConfiguration",), (names.bucket_arn(catalog),)),
    ]
