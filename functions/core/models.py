"""Typed records of one remediation: the incident, what was found, the plan, every decision, the outcome.

These are what the audit trail stores and the notification summarises, so their fields use the
runbook's words. Pure data: no AWS here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Incident(Record):
    """One alarm state change, as the playbook sees it."""

    id: str  # alarm name + state-change timestamp: the same change delivered twice is the same incident
    alarm_name: str
    state: str  # ALARM | OK | INSUFFICIENT_DATA
    previous_state: str | None = None
    reason: str = ""
    changed_at: datetime
    previous_changed_at: datetime | None = None  # when the previous state began: OK after ALARM = recovery time
    account: str
    region: str
    playbook: str
    resource: str  # the catalog component the alarm watches, e.g. glue:orders-stream
    dimensions: dict[str, str] = {}


class Finding(Record):
    """One fact the diagnosis established, e.g. 'streaming job orders-stream is not running (last run FAILED)'."""

    check: str
    ok: bool
    detail: str
    component: str | None = None  # the catalog component this fact is about (an unhealthy one holds downstream)


class Action(Record):
    """One step of a plan: a registered action, its target and parameters, and why it is proposed."""

    name: str
    target: str  # catalog component, e.g. glue:orders-stream — cooldowns and budgets are kept per target
    params: dict[str, Any] = {}
    reason: str


class Plan(Record):
    playbook: str
    findings: list[Finding] = []
    actions: list[Action] = []
    # Why the plan is empty, or what only a person can do (e.g. add partitions): said, never done.
    recommendations: list[str] = []


class Verdict(StrEnum):
    ALLOWED = "ALLOWED"
    REFUSED = "REFUSED"  # a guard rule said no; the reason names the rule
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    RECOMMENDED = "RECOMMENDED"  # mode recommend: a person gets the exact command
    OBSERVED = "OBSERVED"  # mode observe: recorded only
    DRY_RUN = "DRY_RUN"


class Decision(Record):
    action: Action
    verdict: Verdict
    rule: str  # which guard rule decided: kill_switch, mode, dry_run, lineage_hold, blast_radius, cooldown, budget, ok
    reason: str
    command: str = ""  # the equivalent command a person could run


class ActionStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ActionResult(Record):
    action: Action
    status: ActionStatus
    detail: str
    undo: str = ""  # how to put things back, shown to the person on call
    changed: dict[str, Any] = {}  # what was changed from what (lease records, rollback)


class VerificationStatus(StrEnum):
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"
    INCONCLUSIVE = "INCONCLUSIVE"
    NOT_APPLICABLE = "NOT_APPLICABLE"  # nothing was done, so nothing to verify


class Verification(Record):
    status: VerificationStatus
    detail: str


class OutcomeStatus(StrEnum):
    REMEDIATED = "REMEDIATED"  # acted and verified
    ACTED = "ACTED"  # acted, verification inconclusive so far
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    RECOMMENDED = "RECOMMENDED"
    REFUSED = "REFUSED"
    NO_ACTION = "NO_ACTION"  # diagnosis found nothing safe or needed to do
    FAILED = "FAILED"
    ESCALATED = "ESCALATED"
    DUPLICATE = "DUPLICATE"  # same state change seen before: nothing done again
    RECOVERED = "RECOVERED"  # the alarm went back to OK


class Outcome(Record):
    incident: Incident
    plan: Plan
    decisions: list[Decision] = []
    results: list[ActionResult] = []
    verification: Verification = Field(
        default_factory=lambda: Verification(status=VerificationStatus.NOT_APPLICABLE, detail="nothing done")
    )
    status: OutcomeStatus
    summary: str
