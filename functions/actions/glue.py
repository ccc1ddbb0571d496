"""Glue actions: the runbook's "Check Glue streaming job status", "Increase Glue worker count", "Restart job"."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, model_validator

from functions.core.actions import Done, Params, register
from functions.core.catalog import WorkerType
from functions.core.ports import PlaybookPorts
from functions.playbooks._rerun import (
    ARG_NAME,
    ARG_VALUE,
    BOOKMARK_DISABLED,
    BOOKMARK_OPTION,
    PARTITION,
    RUN_ID,
    RerunFacts,
)

JobName = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


class RestartJobParams(Params):
    job_name: str = JobName


class ScaleJobParams(Params):
    job_name: str = JobName
    from_workers: int = Field(ge=1)
    to_workers: int = Field(ge=2)
    worker_type: str = Field(pattern=r"^[A-Za-z0-9.]{1,16}$")  # ends up in the command a person runs


@register(
    "glue.restart_streaming_job",
    summary="Start a new run of a streaming job that is not running",
    params=RestartJobParams,
    iam_actions=("glue:StartJobRun",),
    resource_kind="glue_job",
    destructive=False,
    command=lambda p: f"aws glue start-job-run --job-name {p.job_name}",
)
def restart_streaming_job(ports: PlaybookPorts, params: RestartJobParams) -> Done:
    run_id = ports.glue.start_run(params.job_name)
    return Done(
        detail=f"started run {run_id}",
        undo=f"aws glue batch-stop-job-run --job-name {params.job_name} --job-run-ids {run_id}",
        changed={"run_id": run_id},
    )


# Glue only requests a stop (BatchStopJobRun): the run is STOPPING for up to about a minute and still counts
# against the job's MaxConcurrentRuns (default 1), so a StartJobRun right after it fails with
# ConcurrentRunsExceededException. The scale-up polls the stop for as long as the invocation allows; a stop
# that takes longer leaves a pending start that the playbook's scheduled checks make (functions.core.pending).
STOP_POLL_SECONDS = 5.0
ENDED = frozenset({"STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "EXPIRED"})


def start_command(job: str, workers: int, worker_type: str) -> str:
    return f"aws glue start-job-run --job-name {job} --number-of-workers {workers} --worker-type {worker_type}"


@register(
    "glue.scale_streaming_job",
    summary="Restart a running streaming job with another worker count (a run keeps its start-time count)",
    params=ScaleJobParams,
    iam_actions=("glue:BatchStopJobRun", "glue:StartJobRun", "glue:GetJobRuns", "glue:GetJobRun"),
    resource_kind="glue_job",
    destructive=False,  # the job resumes from its Spark checkpoint: delayed, nothing lost
    command=lambda p: (f"aws glue batch-stop-job-run --job-name {p.job_name} --job-run-ids <running-run-id>, "
                       f"wait until aws glue get-job-run shows it STOPPED, then "
                       f"{start_command(p.job_name, p.to_workers, p.worker_type)}"),
)
def scale_streaming_job(ports: PlaybookPorts, params: ScaleJobParams) -> Done:
    from functions.core.waiting import poll

    job = params.job_name
    runs = ports.glue.recent_runs(job)
    running = [run.id for run in runs if run.active]
    active = running + [run.id for run in runs if run.state == "STOPPING"]  # stopped by someone else: wait too
    if running:
        ports.glue.stop_runs(job, running)
    if active:
        def stopped() -> bool | None:
            return True if all(ports.glue.get_run(job, r).state in ENDED for r in active) else None

        if poll(ports.budget, STOP_POLL_SECONDS, stopped) is None:
            return _pending_start(params, active)
    run_id = ports.glue.start_run(job, workers=params.to_workers, worker_type=params.worker_type)
    return Done(
        detail=f"stopped {', '.join(active) or 'no run'}; started run {run_id} with {params.to_workers} workers",
        undo=(f"restart with {params.from_workers} workers: "
              f"{start_command(job, params.from_workers, params.worker_type)} (once the new run has stopped)"),
        changed={"run_id": run_id, "stopped": active, **_scaled(params)},
    )


def _scaled(params: ScaleJobParams) -> dict[str, Any]:
    return {"workers": {"from": params.from_workers, "to": params.to_workers},
            # A scale-up is a lease: this is how it gives the capacity back (functions.core.leases).
            **({"revert": {"name": "glue.scale_streaming_job", "target": f"glue:{params.job_name}",
                           "reason": "lease over",
                           "params": {"job_name": params.job_name, "from_workers": params.to_workers,
                                      "to_workers": params.from_workers, "worker_type": params.worker_type}}}
               if params.to_workers > params.from_workers else {})}


def _pending_start(params: ScaleJobParams, stopping: list[str]) -> Done:
    """The stop was requested but has not finished within this invocation: the start is left to the
    playbook's scheduled checks (functions.core.pending), which make it once the run has stopped, or hand it
    to a person with the command. The stream is never left stopped without someone or something on it."""
    job = params.job_name
    command = start_command(job, params.to_workers, params.worker_type)
    return Done(
        detail=(f"stop of {', '.join(stopping)} requested, still STOPPING: the start with {params.to_workers} "
                f"workers is pending (the playbook's scheduled check makes it once the run has stopped; by hand: "
                f"{command})"),
        undo=(f"if the stream must run as before: {start_command(job, params.from_workers, params.worker_type)} "
              f"(once the run has stopped)"),
        changed={"stopped": stopping, "pending_start": {"job_name": job, "workers": params.to_workers,
                                                        "worker_type": params.worker_type, "after": stopping},
                 **_scaled(params)},
    )


# --- Glue job failures and data quality: retry a failed run, re-run one partition ----------------------

def _unsafe(facts: Any, arguments: dict[str, str], job_name: str, plain_retry: bool) -> None:
    """The safe re-run rule (functions.playbooks._rerun), checked on the parameters that will run: the facts
    must describe these arguments, and an unsafe re-run is not a valid action at all."""
    from pydantic_core import PydanticCustomError

    from functions.playbooks._rerun import refusal

    if facts.job != job_name:
        raise PydanticCustomError("rerun_facts", "re-run facts describe {job}, not {name}",
                                  {"job": facts.job, "name": job_name})
    if facts.partition != arguments.get(facts.partition_argument) or facts.plain_retry != plain_retry:
        raise PydanticCustomError("rerun_facts", "re-run facts do not describe the arguments of this run")
    reason = refusal(facts)
    if reason:
        raise PydanticCustomError("unsafe_rerun", "unsafe re-run: {reason}", {"reason": reason})


def arguments_option(arguments: dict[str, str]) -> str:
    # Keys and values match ARG_NAME / ARG_VALUE (no quotes, no whitespace): safe inside single quotes.
    return f" --arguments '{json.dumps(arguments, separators=(',', ':'), sort_keys=True)}'" if arguments else ""


class RestartRunParams(Params):
    job_name: str = JobName
    retry_of: str = Field(pattern=RUN_ID)  # the failed run this retries
    arguments: dict[Annotated[str, Field(pattern=ARG_NAME)], Annotated[str, Field(pattern=ARG_VALUE)]] = {}
    to_workers: int | None = Field(default=None, ge=2, le=299)  # the failed run's count; the guard caps it
    worker_type: WorkerType | None = None  # a bigger type after running out of memory, when the catalog allows
    rerun: RerunFacts | None = None  # batch jobs: the facts the safe re-run rule judges

    @model_validator(mode="after")
    def _safe_rerun(self) -> RestartRunParams:
        if self.rerun is not None:
            _unsafe(self.rerun, self.arguments, self.job_name, plain_retry=True)
        return self


@register(
    "glue.restart_job",
    summary="Retry a run that failed for a transient reason: the same arguments, optionally a bigger worker type",
    params=RestartRunParams,
    iam_actions=("glue:StartJobRun",),
    resource_kind="glue_job",
    # A retry completes the load that was already decided (and, for batch jobs, only under the safe re-run
    # rule): nothing a person has not asked for is replaced. A partition re-run is another matter (below).
    destructive=False,
    command=lambda p: (f"aws glue start-job-run --job-name {p.job_name}"
                       + (f" --worker-type {p.worker_type}" if p.worker_type else "")
                       + (f" --number-of-workers {p.to_workers}" if p.to_workers else "")
                       + arguments_option(p.arguments)),
)
def restart_job(ports: PlaybookPorts, params: RestartRunParams) -> Done:
    run_id = ports.glue.start_run(params.job_name, workers=params.to_workers, worker_type=params.worker_type,
                                  arguments=dict(params.arguments) or None)
    shape = f" on {params.worker_type}" if params.worker_type else ""
    return Done(
        detail=f"started run {run_id}{shape} as a retry of {params.retry_of}",
        undo=f"aws glue batch-stop-job-run --job-name {params.job_name} --job-run-ids {run_id}",
        changed={"run_id": run_id, "retry_of": params.retry_of, "arguments": dict(params.arguments),
                 **({"worker_type": params.worker_type} if params.worker_type else {})},
    )


class RerunPartitionParams(Params):
    job_name: str = JobName
    partition_argument: str = Field(default="--partition", pattern=ARG_NAME)
    partition: str = Field(pattern=PARTITION)
    rerun: RerunFacts

    @property
    def arguments(self) -> dict[str, str]:
        # The bookmark is off for this one run: a bookmark would skip the partition's input as already
        # processed and the overwrite would then replace the partition with (almost) nothing.
        return {self.partition_argument: self.partition, BOOKMARK_OPTION: BOOKMARK_DISABLED}

    @model_validator(mode="after")
    def _safe_rerun(self) -> RerunPartitionParams:
        if self.rerun.partition_argument != self.partition_argument:
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("rerun_facts", "re-run facts name another partition argument")
        _unsafe(self.rerun, self.arguments, self.job_name, plain_retry=False)
        return self


@register(
    "glue.rerun_partition",
    summary="Re-run a batch job for one partition only (its data is replaced by the re-run)",
    params=RerunPartitionParams,
    iam_actions=("glue:StartJobRun",),
    resource_kind="glue_job",
    # Overwriting replaces the partition's current data: destructive, so it waits for a person unless the
    # catalog names it in auto_approve_destructive.
    destructive=True,
    command=lambda p: f"aws glue start-job-run --job-name {p.job_name}{arguments_option(p.arguments)}",
)
def rerun_partition(ports: PlaybookPorts, params: RerunPartitionParams) -> Done:
    run_id = ports.glue.start_run(params.job_name, arguments=params.arguments)
    return Done(
        detail=f"started run {run_id} for partition {params.partition} only",
        undo=(f"aws glue batch-stop-job-run --job-name {params.job_name} --job-run-ids {run_id} (before it "
              f"commits; after that the partition holds the re-run's data: restore earlier object versions "
              f"where the bucket is versioned)"),
        changed={"run_id": run_id, "partition": params.partition, "arguments": params.arguments},
    )
