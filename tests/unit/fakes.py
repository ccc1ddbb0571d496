"""In-memory fakes of the ports in functions.core.ports: state you can read back, not call recorders."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from functions.core.ports import BreakerState, JobDefinition, JobRun
from functions.core.waiting import Budget


class FakeGlue:
    """Jobs and their runs. Like a streaming job (MaxConcurrentRuns 1), a second active run is refused."""

    def __init__(self, jobs: dict[str, JobDefinition] | None = None, clock: FixedClock | None = None,
                 stop_seconds: float | None = None):
        self.jobs: dict[str, JobDefinition] = dict(jobs or {})
        self.runs: dict[str, list[JobRun]] = {name: [] for name in self.jobs}  # newest first
        self.start_error: ClientError | None = None  # set to make start_run fail like AWS would
        self._ids = itertools.count(1)
        # As AWS: with a clock and `stop_seconds`, a stopped run is STOPPING until the clock has passed them
        # (and still counts as a run: a start meanwhile is refused). Without: stopped at once (a run that
        # died, for tests that inject that).
        self.clock = clock
        self.stop_seconds = stop_seconds
        self._stop_requested: dict[str, datetime] = {}
        self.stop_requests: list[list[str]] = []

    def add_job(self, name: str, workers: int = 2, worker_type: str = "G.1X") -> None:
        self.jobs[name] = JobDefinition(name=name, workers=workers, worker_type=worker_type,
                                        raw={"Name": name, "NumberOfWorkers": workers, "WorkerType": worker_type})
        self.runs.setdefault(name, [])

    def add_run(self, name: str, state: str, workers: int | None = 2, worker_type: str | None = "G.1X",
                error: str = "") -> str:
        run_id = f"jr_{next(self._ids):04d}"
        self.runs[name].insert(0, JobRun(id=run_id, state=state, started_on=None, workers=workers,
                                         worker_type=worker_type, error=error))
        return run_id

    def active_runs(self, name: str) -> list[JobRun]:
        return [r for r in self.runs[name] if r.active]

    def run_by_id(self, name: str, run_id: str) -> JobRun:
        return next(r for r in self.runs[name] if r.id == run_id)

    # -- GluePort --------------------------------------------------------------------------------------

    def get_job(self, name: str) -> JobDefinition:
        if name not in self.jobs:
            raise _client_error("EntityNotFoundException", f"Job {name} not found", "GetJob")
        return self.jobs[name]

    def _settle(self, name: str) -> None:
        if self.clock is None or self.stop_seconds is None:
            return
        done = {r for r, at in self._stop_requested.items()
                if (self.clock.now() - at).total_seconds() >= self.stop_seconds}
        self.runs[name] = [replace(r, state="STOPPED") if r.id in done and r.state == "STOPPING" else r
                           for r in self.runs[name]]

    def recent_runs(self, name: str, limit: int = 10) -> list[JobRun]:
        self.get_job(name)
        self._settle(name)
        return list(self.runs[name][:limit])

    def get_run(self, name: str, run_id: str) -> JobRun:
        self.get_job(name)
        self._settle(name)
        return self.run_by_id(name, run_id)

    def start_run(self, name: str, workers: int | None = None, worker_type: str | None = None,
                  arguments: dict[str, str] | None = None) -> str:
        job = self.get_job(name)
        self._settle(name)
        if self.start_error is not None:
            raise self.start_error
        if self.active_runs(name) or any(r.state == "STOPPING" for r in self.runs[name]):
            raise _client_error("ConcurrentRunsExceededException",
                                f"Concurrent runs exceeded for {name}", "StartJobRun")
        run_id = f"jr_{next(self._ids):04d}"
        self.runs[name].insert(0, JobRun(id=run_id, state="RUNNING", started_on=None,
                                         workers=workers if workers is not None else job.workers,
                                         worker_type=worker_type or job.worker_type,
                                         arguments=dict(arguments or {})))
        return run_id

    def stop_runs(self, name: str, run_ids: list[str]) -> None:
        self.get_job(name)
        self.stop_requests.append(list(run_ids))
        if self.clock is not None and self.stop_seconds is not None:
            for run_id in run_ids:
                self._stop_requested[run_id] = self.clock.now()
            state = "STOPPING"
        else:
            state = "STOPPED"
        self.runs[name] = [replace(r, state=state) if r.id in run_ids else r for r in self.runs[name]]


def _client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeAlarms:
    def __init__(self, states: dict[str, str] | None = None, since: dict[str, datetime] | None = None):
        self.states = dict(states or {})
        self.since = dict(since or {})  # when each alarm entered its state; unknown = None

    def state_of(self, alarm_name: str) -> str:
        return self.states.get(alarm_name, "UNKNOWN")

    def state_since(self, alarm_name: str) -> tuple[str, datetime | None]:
        return self.state_of(alarm_name), self.since.get(alarm_name)

    def in_alarm(self, name_prefix: str) -> list[str]:
        return [n for n, s in self.states.items() if n.startswith(name_prefix) and s == "ALARM"]


class FakeKillSwitch:
    def __init__(self, on: bool = False, error: Exception | None = None):
        self.on = on
        self.error = error  # the parameter cannot be read (throttled, deleted, no permission)

    def engaged(self) -> bool:
        if self.error is not None:
            raise self.error
        return self.on


class FakeBreaker:
    """Optimistic claims as DynamoBreaker makes them: a claim succeeds only if the stored state is still
    the state the guard judged (same last_action_at); attempts outside the window are dropped."""

    def __init__(self) -> None:
        self.items: dict[str, BreakerState] = {}
        self.lease_items: dict[str, dict[str, Any]] = {}
        self.pending_items: dict[str, dict[str, Any]] = {}
        # Runs at the start of claim(): lets a test slip in a concurrent writer between load and claim.
        self.before_claim: Callable[[], None] | None = None

    def load(self, target: str) -> BreakerState:
        return self.items.get(target, BreakerState(target=target, last_action_at=None, attempts=[]))

    def claim(self, seen: BreakerState, at: datetime, window_start: datetime) -> bool:
        if self.before_claim is not None:
            self.before_claim()
        stored = self.items.get(seen.target)
        stored_last = stored.last_action_at if stored else None
        if stored_last != seen.last_action_at:
            return False
        attempts = [a for a in seen.attempts if a >= window_start] + [at]
        self.items[seen.target] = BreakerState(target=seen.target, last_action_at=at, attempts=attempts)
        return True

    def acted(self, target: str, *times: datetime) -> None:
        """History: we acted on `target` at these times (the last one is last_action_at)."""
        self.items[target] = BreakerState(target=target, last_action_at=max(times), attempts=sorted(times))

    def put_lease(self, target: str, lease: dict[str, Any]) -> None:
        self.lease_items[target] = lease

    def clear_lease(self, target: str) -> None:
        self.lease_items.pop(target, None)

    def leases(self) -> list[dict[str, Any]]:
        return list(self.lease_items.values())

    def put_pending_start(self, target: str, pending: dict[str, Any]) -> None:
        self.pending_items[target] = pending

    def clear_pending_start(self, target: str) -> None:
        self.pending_items.pop(target, None)

    def pending_starts(self) -> list[dict[str, Any]]:
        return list(self.pending_items.values())


class FakeApprovals:
    """Pending approvals as DynamoApprovals keeps them: recorded once, answered once (while pending and not
    expired), `before_answer` lets a test slip in a concurrent answer between the check and the write."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.before_answer: Callable[[], None] | None = None

    def put(self, approval: dict[str, Any]) -> bool:
        if approval["approval_id"] in self.items:
            return False
        self.items[approval["approval_id"]] = dict(approval, status="PENDING")
        return True

    def get(self, approval_id: str) -> dict[str, Any] | None:
        item = self.items.get(approval_id)
        return dict(item) if item else None

    def answer(self, approval_id: str, status: str, by: str, reason: str, at: datetime) -> bool:
        if self.before_answer is not None:
            self.before_answer()
        item = self.items.get(approval_id)
        if not item or item["status"] != "PENDING" or datetime.fromisoformat(item["expires_at"]) <= at:
            return False
        item.update(status=status, answered_by=by, answer_reason=reason, answered_at=at.isoformat())
        return True

    def expire(self, approval_id: str, at: datetime) -> bool:
        item = self.items.get(approval_id)
        if not item or item["status"] != "PENDING" or datetime.fromisoformat(item["expires_at"]) > at:
            return False
        item.update(status="EXPIRED", answered_at=at.isoformat())
        return True

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        return [dict(i) for i in self.items.values() if i["incident"]["id"] == incident_id]


class FakeFollowUps:
    """Verification windows as DynamoFollowUps keeps them: closed once, with the final verdict."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.status: dict[str, str] = {}

    def put(self, follow_up: dict[str, Any]) -> None:
        if follow_up["key"] not in self.items:
            self.items[follow_up["key"]] = follow_up
            self.status[follow_up["key"]] = "WATCHING"

    def watching(self, playbook: str) -> list[dict[str, Any]]:
        return [f for k, f in self.items.items() if self.status[k] == "WATCHING" and f["playbook"] == playbook]

    def close(self, key: str, status: str, at: datetime) -> bool:
        if self.status.get(key) != "WATCHING":
            return False
        self.status[key] = status
        return True


@dataclass
class FakeAudit:
    records: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None:
        self.records.append((incident_id, kind, payload))

    def kinds(self, incident_id: str | None = None) -> list[str]:
        return [k for i, k, _ in self.records if incident_id is None or i == incident_id]

    def of_kind(self, kind: str, incident_id: str | None = None) -> list[dict[str, Any]]:
        return [p for i, k, p in self.records if k == kind and (incident_id is None or i == incident_id)]


@dataclass
class FakeNotifier:
    published: list[tuple[str, str]] = field(default_factory=list)
    cards: list[dict[str, Any] | None] = field(default_factory=list)  # what the Slack function would get

    def publish(self, subject: str, message: str, card: dict[str, Any] | None = None) -> None:
        self.published.append((subject, message))
        self.cards.append(card)


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.slept = getattr(self, "slept", 0.0) + seconds
        self.at += timedelta(seconds=seconds)


class FakeMskCluster:
    """The catalog's MSK cluster and its state (ListClustersV2); ACTIVE unless a test says otherwise."""

    def __init__(self, state: str | None = "ACTIVE"):
        self.state = state

    def cluster_state(self, cluster_name: str) -> str | None:
        return self.state


@dataclass
class FakePorts:
    """The domain ports a playbook reaches (AwsPorts in production)."""

    glue: FakeGlue
    alarms: FakeAlarms = field(default_factory=FakeAlarms)
    kafka: FakeMskCluster = field(default_factory=FakeMskCluster)
    # How long an action may wait for AWS (functions.core.waiting); by default: not at all.
    budget: Budget = field(default_factory=lambda: Budget(FixedClock(datetime(2026, 1, 1, tzinfo=UTC))))
