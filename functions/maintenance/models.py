"""The maintenance reports as typed records: what is stored in S3 as JSON, printed by `remedy report` and
summarised in the text a person reads. Pure data."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- weekly review -------------------------------------------------------------------------------------

class AlarmWeek(Record):
    alarm_name: str
    signal: str
    component: str
    fired: int  # transitions to ALARM within the week
    minutes_in_alarm: float
    longest_minutes: float
    percent_of_week: float
    in_alarm_at_end: bool


class PlaybookOutcomes(Record):
    playbook: str
    verified: int = 0  # REMEDIATED: acted and the service recovered
    failed: int = 0  # ESCALATED / FAILED
    refused: int = 0  # a guard rule said no
    awaiting_approval: int = 0
    other: dict[str, int] = {}  # recommended, unverified (ACTED), no_action


class Recovery(Record):
    """Time from an alarm to its verified recovery (back to OK), over the week's recoveries."""

    count: int = 0
    median_minutes: float | None = None
    worst_minutes: float | None = None
    worst_incident: str | None = None


class PipelineWeek(Record):
    name: str
    components: list[str]
    alarms: list[AlarmWeek] = []
    remediations: list[PlaybookOutcomes] = []
    duplicates: int = 0  # the same state change delivered again, answered without acting
    recovery: Recovery = Recovery()


class ThresholdCandidate(Record):
    alarm_name: str
    kind: Literal["never_fired", "fires_constantly"]
    reason: str


class PostureLine(Record):
    alarm_name: str
    promise: str
    resource: str
    state: str
    fired: int
    minutes_in_alarm: float


class PromotionCandidate(Record):
    """An action whose record earned auto (functions.core.autonomy.promotion_candidates): a person decides."""

    key: str  # playbook.action
    verified: int  # verified approvals in a row this week
    incidents: list[str]
    command: str  # remedy mode set … auto --reason TEXT


class WeeklyReview(Record):
    window_start: datetime
    window_end: datetime
    pipelines: list[PipelineWeek]
    threshold_candidates: list[ThresholdCandidate]
    posture: list[PostureLine]
    posture_last_checked: str | None  # date of the newest daily posture report within the week
    posture_summary: str
    promotions: list[PromotionCandidate] = []  # ready for auto: recommended, never applied here


# --- monthly Redshift analysis -------------------------------------------------------------------------

class QueryStat(Record):
    sql: str
    runs: int
    avg_seconds: float
    max_seconds: float
    total_seconds: float


class QueueStat(Record):
    service_class: int
    name: str
    slots: int | None
    queries: int
    avg_wait_seconds: float
    p90_wait_seconds: float
    max_wait_seconds: float
    total_wait_seconds: float


class TableHealth(Record):
    table: str
    stats_off: float | None
    unsorted: float | None
    size_mb: int
    rows: int


class DiskPoint(Record):
    period: str
    used_percent: float


class DiskUsage(Record):
    used_mb: int
    capacity_mb: int
    used_percent: float
    history: list[DiskPoint]  # oldest first, this analysis last
    growth_points_per_month: float | None
    months_to_threshold: float | None
    threshold_percent: float


class Recommendation(Record):
    kind: Literal["ANALYZE", "VACUUM", "WLM", "DISK", "QUERY", "GRANT"]  # GRANT: a system view was refused
    target: str
    reason: str
    command: str = ""  # what a person runs (never run by this job: it is read-only)


class RedshiftAnalysis(Record):
    cluster_id: str
    window_start: datetime
    window_end: datetime
    history_from: datetime | None  # oldest query the system tables still held (STL keeps about 7 days)
    slowest: list[QueryStat]
    frequent: list[QueryStat]
    queues: list[QueueStat]
    tables: list[TableHealth]
    disk: DiskUsage | None
    recommendations: list[Recommendation]


# --- quarterly lifecycle review ------------------------------------------------------------------------

class RuleSummary(Record):
    id: str
    status: str
    prefix: str
    transitions: list[str] = []  # "30 d -> STANDARD_IA"
    expiration_days: int | None = None
    noncurrent_transitions: list[str] = []
    noncurrent_expiration_days: int | None = None
    abort_multipart_days: int | None = None


class StorageClassCount(Record):
    storage_class: str
    objects: int
    bytes: int


class ZoneReview(Record):
    zone: str
    prefix: str
    rules: list[RuleSummary]
    current: list[StorageClassCount]
    noncurrent_versions: int
    noncurrent_bytes: int
    delete_markers: int
    partial: bool
    flags: list[str]


class LifecycleReview(Record):
    bucket: str
    versioning: str
    zones: list[ZoneReview]
    flags: list[str]  # every zone's flags, "<zone>: <flag>"


# --- daily posture -------------------------------------------------------------------------------------

class Check(Record):
    name: str
    ok: bool
    detail: str


class Promise(Record):
    promise: str  # redshift-snapshots | s3-versioning | s3-lifecycle
    resource: str
    alarm_name: str
    kept: bool
    checks: list[Check]


class PostureReport(Record):
    checked_at: datetime
    promises: list[Promise]

    @property
    def broken(self) -> list[Promise]:
        return [p for p in self.promises if not p.kept]
