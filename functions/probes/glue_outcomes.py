"""Glue job run outcomes (runbook: "Glue Job Success Rate should be > 99 %", "Glue job failures").

Every `Glue Job State Change` event of a catalog job that ends a run becomes one record with both counts:
GlueJobRunSucceeded and GlueJobRunFailed, one of them 1 and the other 0. Publishing the 0 as well keeps
the two series aligned, so the success-rate alarm's metric math (100 * succeeded / (succeeded + failed))
has both operands in every period that saw a run and no datapoint in a period without runs (no division
by zero, no FILL needed).

Which end states count:

- SUCCEEDED: succeeded.
- FAILED, TIMEOUT, ERROR: failed.
- STOPPED: a person or a program stopped the run. For a *streaming* job that is a failure unless a newer
  run of the same job is already active: a streaming job never ends on its own, and a stop that nothing
  replaced leaves the pipeline down (the runbook's "STOPPED where unexpected"). A stop followed by a new
  run is a restart (the lag playbook's scale-up, a deployment) and counts as neither. For a *batch* job a
  stop is a cancellation by someone who meant it; it counts as neither and is logged.

EventBridge delivers at least once: a duplicated event is counted twice. The failure alarm (> 0) is not
affected; the success rate moves by one run's weight, which a trend alarm tolerates (deduplicating would
need a table of run ids for a metric).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.core.catalog import Catalog
from functions.probes.metrics import RUN_FAILED, RUN_SUCCEEDED, Measurement

END_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "STOPPED")
FAILED_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR"})
Counted = Literal["succeeded", "failed"]


class RejectedEvent(ValueError):
    """An event this probe does not count; the message is the one line a person reads."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class GlueDetail(_Loose):
    # The same alphabets as functions.core.events: Glue's own names and run ids, nothing a shell or SQL reads.
    job_name: str = Field(alias="jobName", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
    state: str = Field(pattern=r"^[A-Z_]{1,32}$")
    job_run_id: str = Field(alias="jobRunId", pattern=r"^jr_[A-Za-z0-9_-]{1,250}$")
    message: str = Field(default="", max_length=4096)


class GlueJobStateChange(_Loose):
    source: Literal["aws.glue"]
    detail_type: Literal["Glue Job State Change"] = Field(alias="detail-type")
    account: str
    region: str
    time: datetime
    detail: GlueDetail


@dataclass(frozen=True)
class RunOutcome:
    job: str
    run_id: str
    state: str
    at: datetime  # when Glue reported the end of the run (the event's time)
    counted: Counted | None
    reason: str

    def summary(self) -> dict[str, object]:
        return {"job": self.job, "run_id": self.run_id, "state": self.state, "at": self.at.isoformat(),
                "counted": self.counted, "reason": self.reason}


def parse_state_change(event: object, catalog: Catalog) -> GlueJobStateChange:
    """The state change, or RejectedEvent: not Glue's, not ours (account, region, job), not an end state."""
    try:
        change = GlueJobStateChange.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise RejectedEvent(f"not a Glue Job State Change event: {where}: {first['msg']}") from None
    if (change.account, change.region) != (catalog.account_id, catalog.region):
        raise RejectedEvent(f"event from {change.account}/{change.region}, not this catalog's "
                            f"{catalog.account_id}/{catalog.region}")
    if change.detail.job_name not in {job.name for job in catalog.glue_jobs}:
        raise RejectedEvent(f"job {change.detail.job_name!r} is not in the catalog")
    if change.detail.state not in END_STATES:
        raise RejectedEvent(f"state {change.detail.state!r} does not end a run")
    return change


def classify(change: GlueJobStateChange, catalog: Catalog,
             other_active_runs: Callable[[str, str], list[str]],
             restart_pending: Callable[[str, str], bool] = lambda _job, _run: False) -> RunOutcome:
    """Succeeded, failed or not counted. `other_active_runs(job, run_id)` lists the job's active runs other
    than `run_id`; `restart_pending(job, run_id)` says whether this service stopped `run_id` itself to start the
    job again (a scale-up whose start waits for the stop: functions.core.pending). Both are only asked about a
    stopped streaming job."""
    detail = change.detail
    job = catalog.glue_job(detail.job_name)

    def outcome(counted: Counted | None, reason: str) -> RunOutcome:
        return RunOutcome(job=job.name, run_id=detail.job_run_id, state=detail.state, at=change.time,
                          counted=counted, reason=reason)

    if detail.state == "SUCCEEDED":
        return outcome("succeeded", "the run succeeded")
    if detail.state in FAILED_STATES:
        return outcome("failed", f"the run ended {detail.state}" + (f": {detail.message}" if detail.message else ""))
    if not job.streaming:
        return outcome(None, "a batch run was stopped on purpose (cancelled): neither success nor failure")
    newer = other_active_runs(job.name, detail.job_run_id)
    if newer:
        return outcome(None, f"the streaming job was restarted (run {', '.join(newer)} is active): "
                             "a restart, not a failure")
    if restart_pending(job.name, detail.job_run_id):
        # Our own scale-up stopped it and its start is due at the lag playbook's next check: a restart on its way,
        # not a failure (counting it would page about the service's own change).
        return outcome(None, "this service stopped the run to restart the job (a scale-up); its start is pending: "
                             "a restart, not a failure")
    return outcome("failed", "the streaming job was stopped and nothing replaced it: the pipeline is down")


def outcome_measurements(outcome: RunOutcome) -> list[Measurement]:
    """Both counts in one record (1 and 0), dimension JobName; nothing for a run that does not count."""
    if outcome.counted is None:
        return []
    dims = (("JobName", outcome.job),)
    failed = 1.0 if outcome.counted == "failed" else 0.0
    return [Measurement(RUN_SUCCEEDED, 1.0 - failed, dims, outcome.at),
            Measurement(RUN_FAILED, failed, dims, outcome.at)]
