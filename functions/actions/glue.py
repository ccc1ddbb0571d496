"""Glue actions: the runbook's "Check Glue streaming job status", "Increase Glue worker count", "Restart job"."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from functions.core.actions import Done, Params, register

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
def restart_streaming_job(ports: Any, params: RestartJobParams) -> Done:
    run_id = ports.glue.start_run(params.job_name)
    return Done(
        detail=f"started run {run_id}",
        undo=f"aws glue batch-stop-job-run --job-name {params.job_name} --job-run-ids {run_id}",
        changed={"run_id": run_id},
    )


@register(
    "glue.scale_streaming_job",
    summary="Restart a running streaming job with more workers (a running job keeps its start-time count)",
    params=ScaleJobParams,
    iam_actions=("glue:BatchStopJobRun", "glue:StartJobRun", "glue:GetJobRuns"),
    resource_kind="glue_job",
    destructive=False,  # the job resumes from its Spark checkpoint: delayed, nothing lost
    command=lambda p: (f"aws glue batch-stop-job-run --job-name {p.job_name} --job-run-ids <running-run-id> && "
                       f"aws glue start-job-run --job-name {p.job_name} --number-of-workers {p.to_workers} "
                       f"--worker-type {p.worker_type}"),
)
def scale_streaming_job(ports: Any, params: ScaleJobParams) -> Done:
    active = [run.id for run in ports.glue.recent_runs(params.job_name) if run.active]
    if active:
        ports.glue.stop_runs(params.job_name, active)
    run_id = ports.glue.start_run(params.job_name, workers=params.to_workers, worker_type=params.worker_type)
    return Done(
        detail=f"stopped {', '.join(active) or 'no run'}; started run {run_id} with {params.to_workers} workers",
        undo=(f"restart with {params.from_workers} workers: aws glue start-job-run --job-name {params.job_name} "
              f"--number-of-workers {params.from_workers} --worker-type {params.worker_type}"),
        changed={"run_id": run_id, "stopped": active, "workers": {"from": params.from_workers,
                                                                  "to": params.to_workers}},
    )
