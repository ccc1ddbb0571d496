"""Approvals of playbook actions: what the guard held for a person (AWAITING_APPROVAL), and the answer.

When the guard says AWAITING_APPROVAL (mode approve, or a destructive action), the playbook records a pending
approval: the incident, the exact action with its parameters, why it waits, until when (the catalog's
`approval_minutes`). The notification names its short id and the command that answers it:

    remedy incident approve ap-1a2b3c4d5e --reason "month-end volume"   |   remedy incident reject ap-1a2b3c4d5e

A person's answer goes to the answer function (functions/answers: the CLI through its IAM-authenticated URL,
Slack through the Slack function), which establishes who answers (AWS or Slack verified it), applies the
catalog's allow-list and two-person rule, and then invokes the playbook's own function directly
(RequestResponse) with the event `{"remedy-approval": {..., "by", "principal", "via"}}`
(functions.core.runtime.handle). Only the answer function's role may invoke a playbook's function (IAM): the
principal in that event is the verified one. (An EventBridge event always has its own envelope, so no routed
event can carry a top-level "remedy-approval" key.) The function then loads the approval, refuses it in one
line if it is unknown, expired or answered, claims it with a conditional write (so a second approve is refused
and the action runs once), runs the guard again with the mode requirement met (kill switch, lineage hold, caps,
cooldown and budget still apply), acts, verifies and reports (functions.core.playbook.answer).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.core.catalog import Catalog
from functions.core.events import BadEvent
from functions.core.models import Action, Decision, Finding, Incident, PendingApproval

APPROVAL_EVENT = "remedy-approval"  # the key of the event the answer function sends
APPROVAL_ID_PATTERN = r"^ap-[0-9a-f]{10}$"


def approval_id(incident_id: str, action: Action) -> str:
    """Short and deterministic: the same incident handled again asks the same question (recorded once)."""
    identity = json.dumps([incident_id, action.name, action.target, action.params], sort_keys=True, default=str)
    return "ap-" + hashlib.sha256(identity.encode()).hexdigest()[:10]


def new_approval(incident: Incident, playbook: str, decision: Decision, findings: list[Finding],
                 now: datetime, catalog: Catalog) -> PendingApproval:
    rails = catalog.guardrails.playbooks[playbook]
    return PendingApproval(approval_id=approval_id(incident.id, decision.action), incident=incident,
                           playbook=playbook, action=decision.action, reason=decision.reason,
                           command=decision.command, findings=findings, requested_at=now,
                           expires_at=now + timedelta(minutes=rails.approval_minutes))


class ApprovalAnswer(BaseModel):
    """What a person answered, as the answer function passes it on (functions/answers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval_id: str = Field(pattern=APPROVAL_ID_PATTERN)
    decision: Literal["approve", "reject"]
    by: str = Field(min_length=1, max_length=256)  # shown: display name and principal
    reason: str = Field(default="", max_length=1024)
    principal: str = Field(min_length=1, max_length=512)  # verified: the IAM caller's ARN or slack:<team>/<user>
    via: Literal["iam", "slack"]


def approval_event(answer: ApprovalAnswer) -> dict[str, Any]:
    return {APPROVAL_EVENT: answer.model_dump()}


def is_approval_event(event: Any) -> bool:
    return isinstance(event, dict) and APPROVAL_EVENT in event


def parse_answer(event: Any) -> ApprovalAnswer:
    try:
        return ApprovalAnswer.model_validate(event[APPROVAL_EVENT])
    except (ValidationError, KeyError, TypeError) as error:
        detail = error.errors()[0] if isinstance(error, ValidationError) else None
        # The answer itself (e.g. a string, not an object) has no field path: name the event's key instead.
        where = (".".join(str(p) for p in detail["loc"]) if detail else "") or APPROVAL_EVENT
        raise BadEvent(f"approval answer: {where}: {detail['msg'] if detail else 'missing'}") from None
