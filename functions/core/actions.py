"""The action registry: every change this service can make to the data lake, declared once.

Each action declares its parameters (validated before anything runs), the exact IAM actions it needs
(CDK grants exactly these, a test checks it), the kind of resource it touches (to scope the grant) and
whether it is destructive (destructive actions wait for a person unless the catalog says otherwise).
The actions themselves live in functions/actions/<resource>.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from functions.core.models import Action, ActionResult, ActionStatus
from functions.core.ports import PlaybookPorts

ResourceKind = Literal["glue_job", "redshift_cluster", "redshift_db_user", "msk_cluster", "s3_bucket"]


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
    run: Callable[[PlaybookPorts, Any], Done]  # (ports, params) -> what was done
    command: Callable[[Any], str]  # params -> the equivalent CLI command, for people


REGISTRY: dict[str, ActionSpec] = {}


def register(name: str, *, summary: str, params: type[Params], iam_actions: tuple[str, ...],
             resource_kind: ResourceKind, destructive: bool,
             command: Callable[[Any], str]) -> Callable[[Callable[[PlaybookPorts, Any], Done]], ActionSpec]:
    def wrap(run: Callable[[PlaybookPorts, Any], Done]) -> ActionSpec:
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


def execute(action: Action, ports: PlaybookPorts) -> ActionResult:
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
