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
from dataclasses import dataclass
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

    def __post_init__(self) -> None:
        if any("*" in r for r in self.resources) and not self.wildcard_reason:
            raise ValueError(f"statement {self.sid}: a wildcard resource needs a reason")

    def to_iam(self) -> iam.PolicyStatement:
        from aws_cdk import aws_iam as iam

        return iam.PolicyStatement(sid=self.sid, actions=list(self.actions), resources=list(self.resources))


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


def declared_statements(catalog: Catalog, declaration: PlaybookDeclaration) -> list[Statement]:
    """The playbook's declared reads and the IAM actions of the actions it may plan, scoped by kind."""
    statements: list[Statement] = []
    reads_by_kind: dict[ResourceKind, list[str]] = {}
    for read in declaration.reads:
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


def core_statements(catalog: Catalog, declaration: PlaybookDeclaration) -> list[Statement]:
    """What every playbook function needs to run at all (functions.core.runtime and its adapters)."""
    return [
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                  (names.log_streams_arn(catalog, declaration.name),),
                  wildcard_reason="Lambda names the log streams at run time; the log group is the function's "
                                  "own"),
        Statement("SendTraces", ("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",),
                  wildcard_reason="X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level "
                                  "permissions (Resource must be *)"),
        *_core_reads(catalog),
        Statement("AuditTrail", ("dynamodb:PutItem",),
                  (names.table_arn(catalog, names.audit_table(catalog)),)),
        Statement("CircuitBreaker", ("dynamodb:GetItem", "dynamodb:PutItem"),
                  (names.table_arn(catalog, names.breaker_table(catalog)),)),
        # What the Powertools idempotency DynamoDB persistence layer calls.
        Statement("IdempotencyRecords", ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                                         "dynamodb:UpdateItem"),
                  (names.table_arn(catalog, names.idempotency_table(catalog)),)),
        Statement("KillSwitch", ("ssm:GetParameter",),
                  (names.parameter_arn(catalog, catalog.guardrails.kill_switch_parameter),)),
        Statement("NotifyOnCall", ("sns:Publish",), (names.topic_arn(catalog),)),
        # Lambda's on-failure destination sends with the function's role.
        Statement("OnFailureDestination", ("sqs:SendMessage",), (names.queue_arn(catalog),)),
    ]


def function_statements(catalog: Catalog, declaration: PlaybookDeclaration) -> list[Statement]:
    return core_statements(catalog, declaration) + declared_statements(catalog, declaration)
