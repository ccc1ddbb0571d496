"""What the maintenance jobs read and write, in the runbook's terms. Domain code depends on these only;
functions.maintenance.adapters implements them with boto3 and redshift-connector, tests in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class AuditRecord:
    """One item of the audit trail (functions.core.adapters.dynamodb.DynamoAudit)."""

    incident_id: str
    seq: str
    kind: str  # incident | plan | decision | action | outcome | duplicate
    at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class AlarmInfo:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    state_since: datetime | None
    composite: bool = False


@dataclass(frozen=True)
class AlarmTransition:
    """A StateUpdate of DescribeAlarmHistory."""

    alarm_name: str
    at: datetime
    old: str
    new: str


@dataclass(frozen=True)
class StorageClassTally:
    objects: int = 0
    bytes: int = 0


@dataclass
class VersionTally:
    """A prefix's versions: current ones per storage class, noncurrent ones, delete markers."""

    current: dict[str, StorageClassTally] = field(default_factory=dict)
    noncurrent: StorageClassTally = field(default_factory=StorageClassTally)
    delete_markers: int = 0
    partial: bool = False  # stopped at the catalog's cap


@dataclass(frozen=True)
class QueryRow:
    sql: str
    runs: int
    avg_seconds: float
    max_seconds: float
    total_seconds: float
    first_seen: datetime | None


@dataclass(frozen=True)
class QueueRow:
    service_class: int
    queries: int
    avg_wait_seconds: float
    p90_wait_seconds: float
    max_wait_seconds: float
    total_wait_seconds: float


@dataclass(frozen=True)
class QueueConfig:
    service_class: int
    name: str
    slots: int


@dataclass(frozen=True)
class TableRow:
    schema: str
    table: str
    stats_off: float | None
    unsorted: float | None
    size_mb: int
    rows: int


class AuditReaderPort(Protocol):
    def records(self, start: datetime, end: datetime) -> list[AuditRecord]: ...


class AlarmHistoryPort(Protocol):
    def alarms(self, prefix: str) -> list[AlarmInfo]: ...
    def transitions(self, alarm_name: str, start: datetime, end: datetime) -> list[AlarmTransition]: ...


class ReportStorePort(Protocol):
    def put(self, key: str, body: str, content_type: str, only_if_absent: bool = False) -> bool:
        """Write the object; False when `only_if_absent` and it already exists (nothing written)."""
        ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str, start_after: str | None = None) -> list[str]: ...
    def get_json(self, key: str) -> dict[str, Any] | None: ...


class StoragePort(Protocol):
    def versioning(self, bucket: str) -> str:
        """Enabled | Suspended | Disabled (never enabled)."""
        ...
    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        """The bucket's lifecycle rules as S3 returns them; [] when it has no configuration."""
        ...
    def versions(self, bucket: str, prefix: str, cap: int) -> VersionTally: ...


class BackupPort(Protocol):
    def snapshot_retention_days(self, cluster_id: str) -> int: ...
    def newest_automated_snapshot(self, cluster_id: str) -> datetime | None: ...


class RedshiftHistoryPort(Protocol):
    """The cluster's system tables; tables are (schema, table) pairs from the catalog only."""

    def query_stats(self, start: datetime, end: datetime, order: str, limit: int) -> list[QueryRow]: ...
    def queue_waits(self, start: datetime, end: datetime) -> list[QueueRow]: ...
    def queue_config(self) -> list[QueueConfig]: ...
    def table_health(self, tables: list[tuple[str, str]]) -> list[TableRow]: ...
    def disk(self) -> tuple[int, int]:
        """(used, capacity) in 1 MB blocks over the cluster's disks."""
        ...
    def close(self) -> None: ...
