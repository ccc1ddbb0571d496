"""Approval before anything destructive: the state machine waits on a task token (.waitForTaskToken) that
this step records with the incident, and on call is told what is about to happen and how to answer.

    remedy incident approve ID [--reason TEXT]   -> the answer function: SendTaskSuccess {"approved": true, "by": …}
    remedy incident reject ID --reason TEXT      -> the answer function: SendTaskFailure Remedy.Rejected

The token goes to a table of its own (<approvals table>-tokens) that only this step writes and only the answer
function reads (functions/answers): people read the approvals table (what waits, who answered) but never a
token, and cannot answer except through the answer function, which applies the catalog's allow-list, the
two-person rule (who started the run, recorded here as requested_by, may not approve it) and the expiry.

No answer within the window (HeartbeatSeconds of the approval state): the run ends in its failure path and
nothing after the approval is done (its report says APPROVAL_TIMED_OUT, on call and the escalation topic).
Half way through the window the question is asked again: the same function, every five minutes on its
sweep schedule (`sweep`, functions.core.escalation), reminds each approval still pending once. Every question
and every answer goes to the audit trail with who.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from functions.procedures.ports import ApprovalStore, AuditLog, Clock, Notifier

PROCEDURE_CARD = "remedy-procedure-approval"  # the key (and version) of a procedure question's card
REJECTED = "Remedy.Rejected"  # the error of a rejected approval's task (functions/answers)
SUBJECT_LIMIT = 100


def approval_key(procedure: str, step: str) -> str:
    return f"{procedure}#{step}"


@dataclass(frozen=True)
class ApprovalRequest:
    incident_id: str
    procedure: str
    step: str
    token: str
    execution: str
    about_to: list[str]
    window_seconds: int
    requested_by: str = ""


def request_from_event(event: dict[str, Any]) -> ApprovalRequest:
    state = event["state"]
    return ApprovalRequest(
        incident_id=state["incident_id"], procedure=state["procedure"], step=event["step"], token=event["token"],
        execution=event["execution"], about_to=[str(line) for line in state.get("plan", {}).get("about_to", [])],
        window_seconds=int(state["approval_timeout_seconds"]), requested_by=state.get("requested_by", ""))


def request_approval(request: ApprovalRequest, prefix: str, store: ApprovalStore, audit: AuditLog,
                     notifier: Notifier, clock: Clock) -> dict[str, Any]:
    now = clock.now()
    deadline = now + timedelta(seconds=request.window_seconds)
    store.put_pending({
        "incident_id": request.incident_id, "key": approval_key(request.procedure, request.step),
        "token": request.token, "procedure": request.procedure, "step": request.step,
        "execution": request.execution, "about_to": request.about_to, "status": "PENDING",
        "requested_at": now.isoformat(), "deadline": deadline.isoformat(), "requested_by": request.requested_by,
    })
    audit.record(request.incident_id, "approval_requested", {
        "procedure": request.procedure, "step": request.step, "about_to": request.about_to,
        "deadline": deadline.isoformat(), "execution": request.execution})
    subject, message = render_request(request, prefix, deadline)
    notifier.publish(subject, message, card=question_card(request, prefix, deadline, subject))
    return {"requested_at": now.isoformat(), "deadline": deadline.isoformat()}


def question_card(request: ApprovalRequest, prefix: str, deadline: datetime, subject: str) -> dict[str, Any]:
    """What the Slack function draws with Approve / Reject buttons (functions.chat.messages), answered through
    the answer function like a playbook's approval, with the procedure named (one incident may have several)."""
    return {PROCEDURE_CARD: 1, "prefix": prefix, "incident_id": request.incident_id, "procedure": request.procedure,
            "step": request.step, "about_to": request.about_to, "deadline": deadline.isoformat(),
            "requested_by": request.requested_by, "status": "AWAITING_APPROVAL", "summary": subject}


def render_request(request: ApprovalRequest, prefix: str, deadline: datetime) -> tuple[str, str]:
    subject = f"[{prefix}] APPROVAL NEEDED: {request.procedure} {request.incident_id}"
    lines = [
        f"WAITING FOR YOU  {request.procedure} {request.incident_id} (before {request.step})",
        "ABOUT TO",
        *[f"  - {line}" for line in request.about_to],
        f"APPROVE   remedy incident approve {request.incident_id} [--reason TEXT]",
        f"REJECT    remedy incident reject {request.incident_id} --reason TEXT",
        f"DEADLINE  {deadline:%Y-%m-%d %H:%M:%S}Z: unanswered, the procedure stops in its failure path and "
        f"nothing above is done",
        f"STATUS    remedy incident status {request.incident_id}",
    ]
    return subject[:SUBJECT_LIMIT], "\n".join(lines)


def sweep(now: datetime, prefix: str, store: ApprovalStore, audit: AuditLog, notifier: Notifier) -> dict[str, Any]:
    """The sweep schedule's run: each procedure approval still pending at half its window reminded once."""
    from functions.core.escalation import sweep_procedures

    reminded = sweep_procedures(store.waiting(), now, store.remind, audit, notifier, prefix)
    return {"status": "CHECKED", "approvals": reminded}
