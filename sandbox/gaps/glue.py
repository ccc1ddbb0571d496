"""Glue: job runs that go through AWS's states, UpdateJob, BatchStopJobRun, and a connection's type.

moto 5.2 has no UpdateJob or BatchStopJobRun, advances every run to SUCCEEDED on the first read, counts only
STARTING and RUNNING runs against MaxConcurrentRuns, lists runs oldest first and leaves ConnectionType out of a
connection. Here a started run is RUNNING until something stops, fails or ends it (streaming jobs never finish
by themselves), a stop is STOPPING until the sandbox's clock (sandbox.clock.DURATIONS["glue.stop"]) has passed
it, and the stopping run still counts against MaxConcurrentRuns, as in AWS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult

from sandbox import clock
from sandbox.gaps import Fill

_API = "https://docs.aws.amazon.com/glue/latest/webapi"
OPERATIONS: dict[str, Fill] = {
    "glue:UpdateJob": Fill("missing", "replaces the whole job definition with JobUpdate (omitted fields reset)",
                           f"{_API}/API_UpdateJob.html"),
    "glue:BatchStopJobRun": Fill("missing", "requests the stop: the run is STOPPING, then STOPPED on the "
                                            "sandbox's clock; per-run errors for runs not running",
                                 f"{_API}/API_BatchStopJobRun.html"),
    "glue:StartJobRun": Fill("behaviour", "ConcurrentRunsExceededException counts STOPPING and WAITING runs too; "
                                          "a started run stays RUNNING", f"{_API}/API_StartJobRun.html"),
    "glue:GetJobRun": Fill("async", "a run's state at the sandbox's now (RUNNING, STOPPING, STOPPED), no "
                                    "CompletedOn while it runs, ErrorMessage of a failed run",
                           f"{_API}/API_GetJobRun.html"),
    "glue:GetJobRuns": Fill("behaviour", "newest run first, MaxResults honoured, states as GetJobRun",
                            f"{_API}/API_GetJobRuns.html"),
    "glue:GetConnection": Fill("shape", "ConnectionType in the Connection; moto's extra Connection member dropped",
                               f"{_API}/API_GetConnection.html"),
}

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _fill_job_runs()
    _fill_connection_type()
    _INSTALLED = True


def _fill_job_runs() -> None:
    from moto.glue import models, responses
    from moto.glue.exceptions import ConcurrentRunsExceededException, EntityNotFoundException

    def settle(run: Any) -> None:
        # A requested stop has finished once the sandbox's clock has passed its duration.
        requested = getattr(run, "stop_requested_at", None)
        if run.status == "STOPPING" and clock.done(requested, "glue.stop"):
            run.status = "STOPPED"
            run.completed_on = run.modified_on = requested + timedelta(seconds=clock.DURATIONS["glue.stop"])

    original_start = models.FakeJob.start_job_run

    def start_job_run(self: Any, *args: Any, **kwargs: Any) -> str:
        # MaxConcurrentRuns (ExecutionProperty, default 1) counts every run that has not ended, STOPPING
        # included; AWS answers "Concurrent runs exceeded for <job>" (moto counts STARTING and RUNNING only).
        for run in self.job_runs:
            settle(run)
        active = [r for r in self.job_runs if r.status in ("STARTING", "RUNNING", "STOPPING", "WAITING")]
        if len(active) >= int((self.execution_property or {}).get("MaxConcurrentRuns", 1)):
            raise ConcurrentRunsExceededException(f"Concurrent runs exceeded for {self.name}")
        return str(original_start(self, *args, **kwargs))

    def advance(self: Any) -> None:
        settle(self)  # every read of a run (GetJobRun, GetJobRuns) sees its state at the sandbox's 'now'

    def batch_stop_job_run(self: Any) -> ActionResult:
        name = self.parameters.get("JobName")
        run_ids = self.parameters.get("JobRunIds", [])
        job = self.glue_backend.get_job(name)
        stopped, errors = [], []
        for run_id in run_ids:
            run = next((r for r in job.job_runs if r.job_run_id == run_id), None)
            if run is not None:
                settle(run)
            if run is None or run.status not in ("STARTING", "RUNNING", "WAITING"):
                errors.append({"JobName": name, "JobRunId": run_id, "ErrorDetail": {
                    "ErrorCode": "InvalidInputException",
                    "ErrorMessage": "Job run is not running" if run else "Job run not found"}})
                continue
            # AWS only requests the stop: the run is STOPPING (and still counts against MaxConcurrentRuns)
            # until it has stopped, sandbox.clock.DURATIONS["glue.stop"] later.
            run.status = "STOPPING"
            run.stop_requested_at = clock.now()
            run.modified_on = run.stop_requested_at
            stopped.append({"JobName": name, "JobRunId": run_id})
        return ActionResult({"SuccessfulSubmissions": stopped, "Errors": errors})

    def update_job(self: Any) -> ActionResult:
        # AWS replaces the whole definition with JobUpdate: omitted fields are reset, which is why the
        # product copies every field from GetJob. The emulation resets them too.
        name = self.parameters.get("JobName")
        update = self.parameters.get("JobUpdate", {})
        job = self.glue_backend.get_job(name)
        if "Role" not in update or "Command" not in update:
            raise EntityNotFoundException("JobUpdate must carry Role and Command (UpdateJob replaces the job)")
        job.role = update["Role"]
        job.command = update["Command"]
        job.description = update.get("Description")
        job.default_arguments = update.get("DefaultArguments", {})
        job.non_overridable_arguments = update.get("NonOverridableArguments")
        job.connections = update.get("Connections")
        job.max_retries = update.get("MaxRetries", 0)
        job.timeout = update.get("Timeout", 2880)
        job.worker_type = update.get("WorkerType")
        job.number_of_workers = update.get("NumberOfWorkers")
        job.glue_version = update.get("GlueVersion")
        job.execution_property = update.get("ExecutionProperty", {"MaxConcurrentRuns": 1})
        job.last_modified_on = datetime.now(UTC)
        return ActionResult({"JobName": name})

    original_get_job_runs = responses.GlueResponse.get_job_runs

    def get_job_runs(self: Any) -> Any:
        # AWS lists the newest run first and honours MaxResults; moto lists oldest first.
        job = self.glue_backend.get_job(self.parameters.get("JobName"))
        limit = int(self.parameters.get("MaxResults") or 100)
        runs = list(reversed(job.get_job_runs()))[:limit]
        return ActionResult({"JobRuns": [r.as_dict() for r in runs]})

    original_as_dict = models.FakeJobRun.as_dict

    def as_dict(self: Any) -> dict[str, Any]:
        settle(self)
        data: dict[str, Any] = original_as_dict(self)
        if getattr(self, "error_message", None):
            data["ErrorMessage"] = self.error_message
        if self.status in ("STARTING", "RUNNING", "WAITING", "STOPPING"):
            data.pop("CompletedOn", None)
        return data

    original_init = models.FakeJobRun.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # A started run is RUNNING until it is stopped, or a scenario ends or fails it: streaming
        # jobs never finish by themselves.
        self.status = "RUNNING"
        self.error_message = None

    from moto.moto_api import state_manager

    # Runs change state only when something stops, fails or ends them (see init above), never by
    # being read: moto's default would advance every run to SUCCEEDED on the first GetJobRuns.
    state_manager.set_transition(model_name="glue::job_run", transition={"progression": "manual", "times": 10**9})
    responses.GlueResponse.batch_stop_job_run = batch_stop_job_run
    responses.GlueResponse.update_job = update_job
    responses.GlueResponse.get_job_runs = get_job_runs
    responses.GlueResponse._original_get_job_runs = original_get_job_runs
    models.FakeJobRun.as_dict = as_dict
    models.FakeJobRun.__init__ = init
    models.FakeJobRun.advance = advance
    models.FakeJob.start_job_run = start_job_run


def _fill_connection_type() -> None:
    from moto.glue import models

    original = models.FakeConnection.as_dict

    def as_dict(self: Any, hide_password: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = original(self, hide_password)
        data["ConnectionType"] = self.connection_input.get("ConnectionType")
        data.pop("Connection", None)  # not part of AWS's Connection structure
        return data

    models.FakeConnection.as_dict = as_dict
