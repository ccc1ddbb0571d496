"""Approval before anything destructive: the state machine waits on a task token (.waitForTaskToken) that
this step records with the incident, and on call is told what is about to happen and how to answer.

    remedy incident approve ID [--reason TEXT]   -> SendTaskSuccess {"approved": true, "by": …}
    remedy incident reject ID --reason TEXT      -> SendTaskFailure error Remedy.Rejected (the failure path)

No answer within the window (HeartbeatSeconds of the approval state): the run ends in its failure path and
nothing after the approval is done. Every question and every answer goes to the audit trail with who.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.procedures.ports import ApprovalStore, AuditLog, Clock, Notifier

REJECTED = "Remedy.Rejected"
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
        "requested_at": now.isoformat(), "deadline": deadline.isoformat(),
    })
    audit.record(request.incident_id, "approval_requested", {
        "procedure": request.procedure, "step": request.step, "about_to": request.about_to,
        "deadline": deadline.isoformat(), "execution": request.execution})
    subject, message = render_request(request, prefix, deadline)
    notifier.publish(subject, message)
    return {"requested_at": now.isoformat(), "deadline": deadline.isoformat()}


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


class TokenGone(Exception):
    """Step Functions no longer waits on this token (answered, timed out, or the run ended)."""


class CallbackPort(Protocol):
    def send_success(self, token: str, output: dict[str, Any]) -> None: ...
    def send_failure(self, token: str, error: str, cause: str) -> None: ...


class NoApproval(LookupError):
    """Nothing is waiting for an answer (or more than one thing, and the caller must say which)."""


def answer(incident_id: str, approve: bool, by: str, reason: str, store: ApprovalStore, callback: CallbackPort,
           audit: AuditLog, clock: Clock, procedure: str | None = None) -> dict[str, Any]:
    """Approve or reject the approval waiting for `incident_id`; record who and why."""
    pending = [p for p in store.pending(incident_id) if procedure in (None, p["procedure"])]
    if not pending:
        raise NoApproval(f"no approval is waiting for {incident_id} (see: remedy incident status {incident_id})")
    if len(pending) > 1:
        which = ", ".join(sorted(p["procedure"] for p in pending))
        raise NoApproval(f"{len(pending)} approvals are waiting for {incident_id} ({which}): add --procedure")
    item = pending[0]
    now = clock.now()
    decision = {"approved": approve, "by": by, "reason": reason, "at": now.isoformat()}
    try:
        if approve:
            callback.send_success(item["token"], decision)
        else:
            callback.send_failure(item["token"], REJECTED, json.dumps(decision, sort_keys=True))
    except TokenGone:
        store.close(incident_id, item["key"], "EXPIRED", by, "answer came after the run stopped waiting", now)
        raise NoApproval(f"the approval for {incident_id} is no longer waiting (timed out or the run ended): "
                         f"see remedy incident status {incident_id}") from None
    status = "APPROVED" if approve else "REJECTED"
    store.close(incident_id, item["key"], status, by, reason, now)
    audit.record(incident_id, "approval", {"procedure": item["procedure"], "step": item["step"],
                                           "decision": status, "by": by, "reason": reason,
                                           "about_to": item.get("about_to", []), "execution": item["execution"]})
    return {"incident_id": incident_id, "procedure": item["procedure"], "step": item["step"], "decision": status,
            "by": by, "reason": reason, "execution": item["execution"]}
