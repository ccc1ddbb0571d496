"""Ports: what the playbooks and the guard need from the outside world, in the runbook's terms.

Domain code depends on these small interfaces only; `functions.core.adapters` implements them with boto3
(endpoints from configuration), tests implement them in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class JobRun:
    id: str
    state: str  # STARTING | RUNNING | STOPPING | STOPPED | SUCCEEDED | FAILED | TIMEOUT | ERROR | WAITING
    started_on: datetime | None
    workers: int | None
    worker_type: str | None
    error: str = ""
    arguments: dict[str, str] = field(default_factory=dict)
    attempt: int = 0  # Glue's own retry attempt of this run (0 = first)

    @property
    def active(self) -> bool:
        return self.state in {"STARTING", "RUNNING", "WAITING"}


@dataclass(frozen=True)
class JobDefinition:
    name: str
    workers: int | None
    worker_type: str | None
    raw: dict[str, Any] = field(default_factory=dict)  # the whole definition, for updates that must carry it over

    @property
    def role(self) -> str:
        """The IAM role ARN the job runs with."""
        return str(self.raw.get("Role") or "")

    @property
    def connections(self) -> list[str]:
        """Names of the Glue connections the job uses (its network path, e.g. to the MSK brokers)."""
        return [str(c) for c in (self.raw.get("Connections") or {}).get("Connections", []) or []]

    @property
    def default_arguments(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.raw.get("DefaultArguments") or {}).items()}

    @property
    def max_retries(self) -> int:
        """How often Glue itself retries a failed run."""
        return int(self.raw.get("MaxRetries") or 0)


class GluePort(Protocol):
    def get_job(self, name: str) -> JobDefinition: ...
    def recent_runs(self, name: str, limit: int = 10) -> list[JobRun]: ...
    def start_run(self, name: str, workers: int | None = None, worker_type: str | None = None,
                  arguments: dict[str, str] | None = None) -> str: ...
    def stop_runs(self, name: str, run_ids: list[str]) -> None: ...
    def get_run(self, name: str, run_id: str) -> JobRun: ...
    def get_connection(self, name: str) -> GlueConnection: ...


# --- Glue job failures and data quality (runbook "Glue Job Failures", "Data Quality Issues") -------------

@dataclass(frozen=True)
class GlueConnection:
    """A Glue connection: where the job's network interfaces live and which brokers it talks to."""

    name: str
    kind: str  # ConnectionType: KAFKA | NETWORK | ...
    subnet_id: str | None
    security_groups: tuple[str, ...]
    bootstrap_servers: tuple[str, ...] = ()  # host:port from KAFKA_BOOTSTRAP_SERVERS

    @property
    def broker_ports(self) -> set[int]:
        ports = set()
        for server in self.bootstrap_servers:
            _, _, port = server.rpartition(":")
            if port.isdigit():
                ports.add(int(port))
        return ports


class LogsPort(Protocol):
    def matching_lines(self, group: str, stream_prefix: str, pattern: str, limit: int,
                       start: datetime | None = None) -> list[str]:
        """At most `limit` messages of the streams starting with `stream_prefix` that match the CloudWatch
        Logs filter `pattern`, oldest first; [] when the group or stream does not exist."""
        ...


@dataclass(frozen=True)
class PolicyDecision:
    action: str  # e.g. s3:PutObject
    resource: str  # ARN, e.g. arn:aws:s3:::retail-datalake-dev/curated/sales/*
    decision: str  # allowed | explicitDeny | implicitDeny

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


class IamPolicyPort(Protocol):
    def simulate(self, principal_arn: str, actions: list[str], resources: list[str]) -> list[PolicyDecision]:
        """The principal's identity policies evaluated for every action on every resource."""
        ...


@dataclass(frozen=True)
class S3Object:
    key: str
    last_modified: datetime
    size: int


class S3Port(Protocol):
    def newest_object(self, bucket: str, prefix: str, start_after: str | None = None) -> S3Object | None:
        """The most recently modified object of one listing page under `prefix` (after `start_after`)."""
        ...

    def read_json(self, bucket: str, key: str) -> dict[str, Any] | None:
        """The object's JSON content; None when there is no such object."""
        ...


@dataclass(frozen=True)
class SgRule:
    protocol: str  # "-1" (all) | tcp | udp | ...
    from_port: int | None
    to_port: int | None
    groups: tuple[str, ...] = ()  # security groups the rule admits (or sends to)
    cidrs: tuple[str, ...] = ()

    def covers(self, port: int) -> bool:
        if self.protocol == "-1":
            return True
        if self.protocol not in ("tcp", "6"):
            return False
        low = self.from_port if self.from_port is not None else 0
        high = self.to_port if self.to_port is not None else 65535
        return low <= port <= high


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    ingress: tuple[SgRule, ...]
    egress: tuple[SgRule, ...]


class NetworkPort(Protocol):
    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup]: ...
    def subnet_cidr(self, subnet_id: str) -> str | None: ...


class KafkaPort(Protocol):
    def broker_security_groups(self, cluster_name: str) -> tuple[str, ...]:
        """Security groups of the cluster's brokers; () when there is no such cluster."""
        ...

    def cluster_state(self, cluster_name: str) -> str | None:
        """ACTIVE, CREATING, UPDATING, MAINTENANCE, REBOOTING_BROKER, HEALING, FAILED …; None: no such cluster."""
        ...


class AlarmPort(Protocol):
    def state_of(self, alarm_name: str) -> str: ...
    def state_since(self, alarm_name: str) -> tuple[str, datetime | None]:
        """The alarm's state and when it entered it."""
        ...
    def in_alarm(self, name_prefix: str) -> list[str]:
        """Names of the alarms (metric and composite) under `name_prefix` in ALARM now."""
        ...


class KillSwitchPort(Protocol):
    def engaged(self) -> bool:
        """True when a person has stopped all automated action (SSM parameter set to 'on')."""
        ...


class SafetyPort(Protocol):
    """Snoozes, ad-hoc freezes, the fleet budget (functions.core.safety) and the earned modes
    (functions.core.autonomy), beside the breaker state."""

    def snooze_of(self, target: str) -> dict[str, Any] | None: ...
    def put_snooze(self, snooze: dict[str, Any]) -> None: ...
    def cancel_snooze(self, target: str, by: str, at: datetime) -> bool:
        """Remove the target's snooze; False if there was none."""
        ...
    def snoozes(self) -> list[dict[str, Any]]: ...
    def freezes(self) -> list[dict[str, Any]]:
        """Ad-hoc freezes recorded (over ones included until they are cleaned up)."""
        ...
    def put_freeze(self, freeze: dict[str, Any], at: datetime) -> None: ...
    def cancel_freeze(self, freeze_id: str, at: datetime) -> None: ...
    def load_fleet(self) -> tuple[int, list[dict[str, str]]]:
        """The fleet budget's version and its recorded actions."""
        ...
    def save_fleet(self, seen_version: int, entries: list[dict[str, str]]) -> bool:
        """Write the entries if the version is still `seen_version`; False if someone else wrote first."""
        ...
    def load_modes(self) -> tuple[int, dict[str, Any] | None]:
        """Earned autonomy's record (functions.core.autonomy): its version and {"modes", "escalations"}."""
        ...
    def save_modes(self, seen_version: int, state: dict[str, Any]) -> bool:
        """Write the record if the version is still `seen_version`; False if someone else wrote first."""
        ...


@dataclass(frozen=True)
class BreakerState:
    """Per-resource circuit breaker: when we last acted on it and how often within the budget window."""

    target: str
    last_action_at: datetime | None
    attempts: list[datetime]


class BreakerPort(Protocol):
    def load(self, target: str) -> BreakerState: ...
    def claim(self, seen: BreakerState, at: datetime, window_start: datetime) -> bool:
        """Record an attempt at `at` if the stored state is still `seen`; False if someone else acted."""
        ...

    # Leases (functions.core.leases) live beside the breaker state of their target.
    def put_lease(self, target: str, lease: dict[str, Any]) -> None: ...
    def clear_lease(self, target: str) -> None: ...
    def leases(self) -> list[dict[str, Any]]: ...

    # Pending starts (functions.core.pending) too: a restart waiting for its stop to finish.
    def put_pending_start(self, target: str, pending: dict[str, Any]) -> None: ...
    def clear_pending_start(self, target: str) -> None: ...
    def pending_starts(self) -> list[dict[str, Any]]: ...


class ApprovalPort(Protocol):
    """Actions awaiting a person (functions.core.approvals), one item each beside the breaker state. Every
    answer is a conditional write: whatever arrives twice, an approval is carried out once."""

    def put(self, approval: dict[str, Any]) -> bool:
        """Record a pending approval; False if it was recorded before (the same incident handled again)."""
        ...

    def get(self, approval_id: str) -> dict[str, Any] | None: ...

    def answer(self, approval_id: str, status: str, by: str, reason: str, at: datetime) -> bool:
        """PENDING -> `status` if it is still pending and has not expired at `at`; False otherwise."""
        ...

    def expire(self, approval_id: str, at: datetime) -> bool:
        """PENDING -> EXPIRED once its window is over at `at`; False if it was answered or expired before."""
        ...

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        """Every approval (any status) asked for in one incident."""
        ...

    def waiting(self, playbook: str) -> list[dict[str, Any]]:
        """The playbook's approvals still PENDING, each with `reminded_at` ("" if never reminded)."""
        ...

    def remind(self, approval_id: str, at: datetime) -> bool:
        """Record the reminder at `at` if the approval is pending, open and not reminded before."""
        ...


class FollowUpPort(Protocol):
    """Verification windows still open (functions.core.models.FollowUp), beside the breaker state."""

    def put(self, follow_up: dict[str, Any]) -> None: ...

    def watching(self, playbook: str) -> list[dict[str, Any]]:
        """The playbook's follow-ups that have no final verdict yet."""
        ...

    def close(self, key: str, status: str, at: datetime) -> bool:
        """Record the final verdict once: False if another check closed it first."""
        ...


class AuditPort(Protocol):
    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None: ...


class NotifierPort(Protocol):
    def publish(self, subject: str, message: str, card: dict[str, Any] | None = None) -> None:
        """`message` for people; `card` (functions.core.notify.card) for machines: the Slack function."""


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass (polling AWS for something it finishes later: functions.core.waiting)."""
        ...


# --- Redshift (runbook "Redshift Performance Issues") ----------------------------------------------------

@dataclass(frozen=True)
class RedshiftCluster:
    """What DescribeClusters says about the catalog's cluster."""

    cluster_id: str
    status: str  # available | resizing | modifying | paused | ...
    node_type: str
    nodes: int
    host: str  # Endpoint.Address (empty while the cluster is being created)
    port: int
    parameter_group: str  # the cluster's parameter group (where wlm_json_configuration lives)

    @property
    def available(self) -> bool:
        return self.status == "available"


@dataclass(frozen=True)
class WlmSettings:
    """The cluster parameter group's workload management, as far as the diagnosis needs it."""

    parameter_group: str
    auto_wlm: bool
    queues: int  # user queues (short query acceleration not counted)
    concurrency_scaling_queues: int  # queues with "concurrency_scaling": "auto"
    max_concurrency_scaling_clusters: int | None
    short_query_acceleration: bool = False


@dataclass(frozen=True)
class DbCredentials:
    """Temporary database credentials from GetClusterCredentials; the password never prints."""

    user: str  # "IAM:<DbUser>" as Redshift names the session user
    password: str = field(repr=False)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class RunningQuery:
    """A row of stv_recents with status Running; run time computed from starttime (duration overflows)."""

    pid: int
    user: str
    started_at: datetime  # UTC
    seconds: float
    sql: str


@dataclass(frozen=True)
class QueuedQuery:
    """A row of stv_wlm_query_state waiting in a WLM queue."""

    query_id: int
    service_class: int
    state: str  # Queued | QueuedWaiting
    queue_seconds: float


@dataclass(frozen=True)
class TableStats:
    """svv_table_info for one table: stats_off is the % of rows changed since the last ANALYZE."""

    schema: str
    table: str
    stats_off: float

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


GRANTS_FILE = "sql/redshift-grants.sql"  # what a DBA runs for the service user (README "Redshift access")


class PrivilegeMissing(Exception):
    """The database refused the service user a privilege the grants file gives (SQLSTATE 42501, or ANALYZE
    skipping the table). The message names the privilege and the file: a diagnosis, not a crash."""

    def __init__(self, message: str, needs: str):
        super().__init__(message)
        self.needs = needs


class OutOfTime(Exception):
    """A statement was stopped because the function's remaining time ran out (statement timeout)."""


class RedshiftPort(Protocol):
    """The catalog's Redshift cluster. Tables are (schema, table) pairs from the catalog, never from the
    database or the event; the adapter refuses any other. A privilege the database refuses raises
    PrivilegeMissing; a statement stopped for lack of time raises OutOfTime."""

    def cluster(self) -> RedshiftCluster: ...
    def wlm(self, parameter_group: str) -> WlmSettings: ...
    def credentials(self) -> DbCredentials: ...
    def running_queries(self) -> list[RunningQuery]: ...
    def queued_queries(self) -> list[QueuedQuery]: ...
    def table_stats(self, tables: list[tuple[str, str]]) -> list[TableStats]:
        """svv_table_info rows of these tables (a table with no data blocks has none)."""
        ...
    def stale_tables(self, tables: list[tuple[str, str]], above_percent: float) -> list[TableStats]:
        """The tables among `tables` whose stats_off exceeds `above_percent`."""
        ...
    def analyze(self, schema: str, table: str, timeout_seconds: float | None = None) -> None:
        """ANALYZE one catalog table, stopped after `timeout_seconds` (default: the session's timeout)."""
        ...
    def seconds_left(self) -> float | None:
        """What remains of the function's invocation (None: no deadline known)."""
        ...
    def cancel(self, pid: int, started_at: datetime) -> bool:
        """Cancel the query `pid` if it is still the one started at `started_at`; False if it is gone."""
        ...


class WaitBudget(Protocol):
    """How long an action may still wait for AWS in this invocation (functions.core.waiting.Budget)."""

    def left(self) -> float: ...
    def pause(self, seconds: float) -> bool:
        """Wait `seconds` when the budget allows it; False, without waiting, when it does not."""
        ...


class PlaybookPorts(Protocol):
    """Every port a playbook, its actions and its verification reach: functions.core.adapters.aws.AwsPorts on
    boto3, tests/unit/fakes.FakePorts in memory. Read-only here: each port is built once per cold start."""

    @property
    def glue(self) -> GluePort: ...
    @property
    def alarms(self) -> AlarmPort: ...
    @property
    def logs(self) -> LogsPort: ...
    @property
    def iam(self) -> IamPolicyPort: ...
    @property
    def s3(self) -> S3Port: ...
    @property
    def network(self) -> NetworkPort: ...
    @property
    def kafka(self) -> KafkaPort: ...
    @property
    def redshift(self) -> RedshiftPort: ...
    @property
    def budget(self) -> WaitBudget: ...
