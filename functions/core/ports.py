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

    @property
    def active(self) -> bool:
        return self.state in {"STARTING", "RUNNING", "WAITING"}


@dataclass(frozen=True)
class JobDefinition:
    name: str
    workers: int | None
    worker_type: str | None
    raw: dict[str, Any] = field(default_factory=dict)  # the whole definition, for updates that must carry it over


class GluePort(Protocol):
    def get_job(self, name: str) -> JobDefinition: ...
    def recent_runs(self, name: str, limit: int = 10) -> list[JobRun]: ...
    def start_run(self, name: str, workers: int | None = None, worker_type: str | None = None,
                  arguments: dict[str, str] | None = None) -> str: ...
    def stop_runs(self, name: str, run_ids: list[str]) -> None: ...


class AlarmPort(Protocol):
    def state_of(self, alarm_name: str) -> str: ...


class KillSwitchPort(Protocol):
    def engaged(self) -> bool:
        """True when a person has stopped all automated action (SSM parameter set to 'on')."""
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


class AuditPort(Protocol):
    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None: ...


class NotifierPort(Protocol):
    def publish(self, subject: str, message: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
