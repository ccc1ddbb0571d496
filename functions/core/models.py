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
    # Nothing safe is left for software to do and the alarm stays: a person must act (ESCALATED, not NO_ACTION).
    escalate: bool = False


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
    # which guard rule decided: kill_switch, mode, dry_run, lineage_hold, blast_radius, cooldown, budget, breaker
    # (the attempt could not be recorded), ok
    rule: str
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
    REJECTED = "REJECTED"  # a person said no to an action awaiting approval: nothing done


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"  # nobody answered within the catalog's approval window


class PendingApproval(Record):
    """An action the guard held for a person (AWAITING_APPROVAL): exactly what would run, why, and until when
    a person may say yes (functions.core.approvals; kept in the breaker table, answered once)."""

    approval_id: str  # short, deterministic per incident and action: what `remedy incident approve` takes
    incident: Incident
    playbook: str
    action: Action  # the exact action with its parameters: an approval carries out this and nothing else
    reason: str  # why the guard held it (mode approve, or destructive)
    command: str = ""
    findings: list[Finding] = []  # what the diagnosis had found when it asked
    requested_at: datetime
    expires_at: datetime
    status: ApprovalStatus = ApprovalStatus.PENDING
    answered_by: str = ""
    answer_reason: str = ""
    answered_at: datetime | None = None

    @property
    def answer(self) -> str:
        """'APPROVED by alice (month-end volume)', as the audit trail and the notification say it."""
        return f"{self.status.value} by {self.answered_by}" + (f" ({self.answer_reason})" if self.answer_reason else "")


class FollowUp(Record):
    """A verification window the playbook scheduled for itself: what was done, checked again by its
    scheduled event until the service level is back (VERIFIED) or the window is over (escalated)."""

    key: str  # incident id (and approval id, for an approved action): one window per thing done
    incident: Incident
    playbook: str
    results: list[ActionResult]
    acted_at: datetime
    due_by: datetime
    verification: Verification  # the last check


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
    pending: list[PendingApproval] = []  # what waits for a person, each with its approval id
    follow_up: FollowUp | None = None  # the verification window still open (or just closed) for what was done
    answer: str = ""  # for an approved or rejected action: "APPROVED by alice (reason)"
