"""What the doctor's checks read, in the catalog's terms. Read-only, all of it: a port answers None (or an
empty collection) for something that does not exist, and raises for anything else it cannot read (the check
then FAILs with the error: a promise nobody can verify is not kept).

functions.doctor.adapters implements these with boto3; sandbox tests run them against the emulated account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class MskCluster:
    arn: str
    state: str  # ACTIVE, CREATING, UPDATING, MAINTENANCE …
    broker_count: int


@dataclass(frozen=True)
class GlueJobFacts:
    name: str
    command: str  # glueetl | gluestreaming | pythonshell
    worker_type: str | None
    role: str  # the Role as Glue returns it (a name or an ARN)
    max_concurrent_runs: int
    default_arguments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RedshiftCluster:
    status: str  # available, resizing, paused …
    database: str
    node_type: str
    number_of_nodes: int
    endpoint: tuple[str, int] | None


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    confirmed: bool  # SubscriptionArn is not "PendingConfirmation"


@dataclass(frozen=True)
class VpcEndpoint:
    service_name: str  # com.amazonaws.<region>.<service>
    kind: str  # Interface | Gateway
    state: str  # available, pending …
    subnet_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()
    private_dns: bool = False


@dataclass(frozen=True)
class Route:
    destination: str  # 0.0.0.0/0, pl-… (a gateway endpoint's prefix list)
    target: str  # nat-…, igw-…, vpce-…, local
    state: str  # active | blackhole


@dataclass(frozen=True)
class LayerVersion:
    arn: str
    compatible_runtimes: tuple[str, ...]


class MskPort(Protocol):
    def cluster(self, name: str) -> MskCluster | None: ...
    def topics(self, cluster_arn: str) -> dict[str, int]:
        """Topic name -> partition count (MSK ListTopics)."""
        ...
    def bootstrap_brokers(self, cluster_arn: str) -> list[tuple[str, int]]: ...


class MetricsPort(Protocol):
    def lag_metric_groups(self, cluster_name: str) -> set[tuple[str, str]]:
        """(consumer group, topic) pairs for which AWS/Kafka SumOffsetLag has data (ListMetrics, 2 weeks)."""
        ...


class GluePort(Protocol):
    def job(self, name: str) -> GlueJobFacts | None: ...


class StoragePort(Protocol):
    def bucket_exists(self, bucket: str) -> bool: ...
    def has_objects(self, bucket: str, prefix: str) -> bool: ...


class RedshiftPort(Protocol):
    def cluster(self, cluster_id: str) -> RedshiftCluster | None: ...
    def query(self, sql: str) -> list[list[Any]]:
        """One statement as the catalog's db_user (Redshift Data API, temporary credentials); raises
        RuntimeError with Redshift's message when it fails."""
        ...


class AccountPort(Protocol):
    """What the deploy relies on in the account: secrets, the on-call topic, the kill switch, EventBridge."""

    def secret_exists(self, name: str) -> bool: ...
    def topic_exists(self, arn: str) -> bool: ...
    def subscriptions(self, topic_arn: str) -> list[Subscription]: ...
    def parameter_exists(self, name: str) -> bool: ...
    def rules(self, name_prefix: str) -> dict[str, str]:
        """Rule name -> its event pattern (JSON), for enabled rules with a pattern."""
        ...
    def pattern_matches(self, pattern: str, event: dict[str, Any]) -> bool: ...
    def alarm_names(self, prefix: str) -> list[str]: ...


class NetworkPort(Protocol):
    def endpoints(self, vpc_id: str) -> list[VpcEndpoint]: ...
    def routes(self, subnet_id: str) -> tuple[str | None, list[Route]]:
        """(route table id, its routes) of the table the subnet uses (explicit or the VPC's main table)."""
        ...
    def nat_gateway_state(self, nat_gateway_id: str) -> str | None: ...


class LambdaPort(Protocol):
    def layer_version(self, arn: str) -> LayerVersion | None: ...
    def unreserved_concurrency(self) -> tuple[int, int]:
        """(ConcurrentExecutions, UnreservedConcurrentExecutions) of the account in this region."""
        ...
    def reserved_concurrency(self, function_name: str) -> int:
        """What the function holds now (0 when it does not exist or reserves nothing)."""
        ...


class ReachPort(Protocol):
    """From inside the VPC (daily run only): can a TCP connection be opened?"""

    def tcp(self, host: str, port: int, timeout: float) -> str | None:
        """None when connected, else why not (timeout, refused, DNS)."""
        ...
