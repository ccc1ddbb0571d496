"""The action registry: every change this service can make to the data lake, declared once.

Each action declares its parameters (validated before anything runs), the exact IAM actions it needs
(CDK grants exactly these, a test checks it), the kind of resource it touches (to scope the grant) and
whether it is destructive (destructive actions wait for a person unless the catalog says otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.core.models import Action, ActionResult, ActionStatus

ResourceKind = Literal["glue_job", "redshift_cluster", "msk_cluster", "s3_bucket"]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Done:
    """What an action did, how to undo it, and what it changed from what (kept for leases and rollback)."""

    detail: str
    undo: str = ""
    changed: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    summary: str
    params: type[Params]
    iam_actions: tuple[str, ...]
    resource_kind: ResourceKind
    destructive: bool
    run: Callable[[Any, Any], Done]  # (ports, params) -> what was done
    command: Callable[[Any], str]  # params -> the equivalent CLI command, for people


REGISTRY: dict[str, ActionSpec] = {}


def register(name: str, *, summary: str, params: type[Params], iam_actions: tuple[str, ...],
             resource_kind: ResourceKind, destructive: bool,
             command: Callable[[Any], str]) -> Callable[[Callable[[Any, Any], Done]], ActionSpec]:
    def wrap(run: Callable[[Any, Any], Done]) -> ActionSpec:
        if name in REGISTRY:
            raise ValueError(f"action {name!r} registered twice")
        spec = ActionSpec(name, summary, params, iam_actions, resource_kind, destructive, run, command)
        REGISTRY[name] = spec
        return spec

    return wrap


class UnknownAction(KeyError):
    pass


def spec_for(action: Action) -> ActionSpec:
    try:
        return REGISTRY[action.name]
    except KeyError:
        raise UnknownAction(f"action {action.name!r} is not registered") from None


def validated_params(action: Action) -> Params:
    """Parameters are checked against the declaration before the guard or anything else sees them."""
    return spec_for(action).params.model_validate(action.params)


def execute(action: Action, ports: Any) -> ActionResult:
    spec = spec_for(action)
    try:
        params = validated_params(action)
    except ValidationError as error:
        return ActionResult(action=action, status=ActionStatus.FAILED,
                            detail=f"invalid parameters: {error.errors()[0]['msg']}")
    done = spec.run(ports, params)
    return ActionResult(action=action, status=ActionStatus.SUCCEEDED, detail=done.detail, undo=done.undo,
                        changed=done.changed)


def describe(action: Action) -> str:
    spec = spec_for(action)
    try:
        return spec.command(validated_params(action))
    except ValidationError:
        return f"({action.name} with invalid parameters)"


# --------------------------------------------------------------------------------------------------
# Glue: the runbook's "Check Glue streaming job status", "Increase Glue worker count", "Restart job".
# --------------------------------------------------------------------------------------------------

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
