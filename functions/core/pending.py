"""Pending starts: the second half of a streaming job's restart that AWS was not ready for.

Glue's BatchStopJobRun only requests the stop; the run is STOPPING for a while and a StartJobRun before it
has STOPPED fails (ConcurrentRunsExceededException). When an action's stop does not finish within its
invocation (functions.actions.glue), it records what to start (`changed["pending_start"]`); the playbook keeps
it beside the target's breaker state, and its scheduled checks (every few minutes, functions.core.runtime)
call `complete` until the start is made, or hand it to a person with the exact command. A stream is never
left stopped silently.

The start is the rest of an action the guard already allowed: it is not judged again by the cooldown that
action itself set off. The kill switch still holds it (a person said stop everything): then it is escalated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from functions.core.errors import error_code
from functions.core.models import Action, ActionResult, Incident

ENDED = frozenset({"STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "EXPIRED"})
# A Glue stop takes up to about a minute; still STOPPING after this long is not going to sort itself out.
WAIT_MINUTES = 30


class PendingStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str  # glue:<job>
    playbook: str
    incident: Incident
    action: Action  # the action whose start is pending (shown in what the person reads)
    job_name: str
    workers: int
    worker_type: str
    after: list[str]  # the runs that must have ended first
    requested_at: datetime
    due_by: datetime

    @property
    def command(self) -> str:
        return (f"aws glue start-job-run --job-name {self.job_name} --number-of-workers {self.workers} "
                f"--worker-type {self.worker_type}")


def pending_from(result: ActionResult, incident: Incident, at: datetime) -> PendingStart | None:
    """The pending start an action's result asks for (its `changed` carries `pending_start`), if any."""
    pending = result.changed.get("pending_start")
    if not pending:
        return None
    return PendingStart(target=result.action.target, playbook=incident.playbook, incident=incident,
                        action=result.action, job_name=pending["job_name"], workers=int(pending["workers"]),
                        worker_type=str(pending["worker_type"]), after=list(pending["after"]), requested_at=at,
                        due_by=at + timedelta(minutes=WAIT_MINUTES))


@dataclass(frozen=True)
class Completion:
    status: str  # STARTED | WAITING | ALREADY_RUNNING | ESCALATED
    detail: str
    run_id: str = ""

    @property
    def final(self) -> bool:
        return self.status != "WAITING"


def complete(pending: PendingStart, now: datetime, glue: Any, kill_switch_engaged: bool) -> Completion:
    """One scheduled look: start the run once the stopped runs have ended; wait while they are STOPPING and
    the wait is not over; otherwise hand it to a person with the command."""
    runs = glue.recent_runs(pending.job_name)
    others = [r for r in runs if r.active and r.id not in pending.after]
    if others:  # someone (a person, a deployment) started the stream meanwhile: nothing left to do
        return Completion("ALREADY_RUNNING", f"run {others[0].id} of {pending.job_name} is already "
                                             f"{others[0].state}: the pending start is not needed")
    states = {r.id: r.state for r in runs}
    waiting = [run_id for run_id in pending.after if states.get(run_id, "STOPPED") not in ENDED]
    if waiting:
        if now < pending.due_by:
            return Completion("WAITING", f"{', '.join(waiting)} still {states[waiting[0]]}")
        return Completion("ESCALATED", (
            f"{pending.job_name} is not running: {', '.join(waiting)} still {states[waiting[0]]} "
            f"{WAIT_MINUTES} min after the stop was requested. Once it has STOPPED, start it: {pending.command}"))
    if kill_switch_engaged:
        return Completion("ESCALATED", (f"{pending.job_name} is stopped and the kill switch holds every automated "
                                        f"action: start it yourself when it should run: {pending.command}"))
    try:
        run_id = glue.start_run(pending.job_name, workers=pending.workers, worker_type=pending.worker_type)
    except Exception as error:  # AccessDenied, a limit, a changed job: a person has to look, with the command
        code = error_code(error) or type(error).__name__
        if code == "ConcurrentRunsExceededException" and now < pending.due_by:
            return Completion("WAITING", f"StartJobRun answered {code}: trying again at the next check")
        return Completion("ESCALATED", (f"{pending.job_name} is not running: StartJobRun failed ({code}: "
                                        f"{str(error).splitlines()[0][:200]}). Start it: {pending.command}"))
    return Completion("STARTED", f"{', '.join(pending.after)} stopped; started run {run_id} with "
                                 f"{pending.workers} workers", run_id)
