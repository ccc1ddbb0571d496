"""Escalation: an approval nobody answers is asked again at half its window (once, marked REMINDER), and when
its window is over a notice says it lapsed and nothing was done; ESCALATED outcomes and lapsed approvals also
go to the escalation topic (the catalog's `notifications.escalation_topic`, where the paging service listens).

Who runs it: the playbooks' own scheduled checks (the `-checks` rule, every five minutes, functions.core.runtime)
for their approvals in the breaker table, and the procedures' approval step on the same schedule for the task
tokens in the approvals table. No new function, table or schedule for playbooks: the sweep reads what the
playbook already reads, with the grants it already holds (Scan and conditional UpdateItem on the breaker table,
Publish on the topics). A reminder can be late by up to one schedule period; a lapse notice too.

The decisions are pure (`due`); every write is conditional, so two sweeps that overlap (EventBridge delivers at
least once) remind once and lapse once, and an answer that arrives first wins over the lapse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

Step = Literal["REMIND", "LAPSE"]
REMIND: Step = "REMIND"
LAPSE: Step = "LAPSE"
SUBJECT_LIMIT = 100  # SNS rejects longer subjects


def due(requested_at: datetime, expires_at: datetime, reminded: bool, now: datetime) -> Step | None:
    """What an unanswered approval needs at `now`: LAPSE once its window is over, REMIND once half of it has
    passed (if not reminded before), else nothing."""
    if now >= expires_at:
        return LAPSE
    if not reminded and now >= requested_at + (expires_at - requested_at) / 2:
        return REMIND
    return None


class Publisher(Protocol):
    def publish(self, subject: str, message: str) -> None: ...


class _Nowhere:
    def publish(self, subject: str, message: str) -> None:
        del subject, message


NOWHERE: Publisher = _Nowhere()


# -- playbook approvals (breaker table) ----------------------------------------------------------------------

def sweep_playbook(playbook: str, now: datetime, store: Any, audit: Any, on_call: Publisher,
                   escalation: Publisher, prefix: str, env: str) -> list[dict[str, Any]]:
    """Remind or lapse each unanswered approval of `playbook`; what was done, one dict per approval touched."""
    from functions.core.models import PendingApproval

    done = []
    for raw in store.waiting(playbook):
        reminded = bool(raw.pop("reminded_at", ""))
        approval = PendingApproval.model_validate(raw)
        step = due(approval.requested_at, approval.expires_at, reminded, now)
        if step == REMIND and store.remind(approval.approval_id, now):
            audit.record(approval.incident.id, "approval_reminded", {
                "approval_id": approval.approval_id, "action": approval.action.name,
                "expires_at": approval.expires_at.isoformat(), "reminded_at": now.isoformat()})
            on_call.publish(*playbook_reminder(approval, prefix, env, now))
            done.append({"approval_id": approval.approval_id, "status": "REMINDED"})
        elif step == LAPSE and store.expire(approval.approval_id, now):
            audit.record(approval.incident.id, "approval_lapsed", {
                "approval_id": approval.approval_id, "action": approval.action.name,
                "expires_at": approval.expires_at.isoformat(), "lapsed_at": now.isoformat(),
                "text": "nobody answered: nothing was done"})
            notice = playbook_lapse(approval, prefix)
            on_call.publish(*notice)
            escalation.publish(*notice)
            done.append({"approval_id": approval.approval_id, "status": "LAPSED"})
    return done


def _minutes_left(expires_at: datetime, now: datetime) -> int:
    return max(0, int((expires_at - now).total_seconds() // 60))


def playbook_reminder(approval: Any, prefix: str, env: str, now: datetime) -> tuple[str, str]:
    incident = approval.incident
    subject = f"[{prefix}] REMINDER: APPROVAL NEEDED: {approval.playbook} on {incident.resource}"
    lines = [
        f"REMINDER    still waiting for you: half of the answer window is gone, "
        f"{_minutes_left(approval.expires_at, now)} min left",
        f"WHAT FIRED  {incident.alarm_name} at {incident.changed_at:%Y-%m-%d %H:%M:%S}Z",
        f"WAITING     {approval.action.name}: {approval.command or approval.action.target}  ({approval.reason})",
        f"    approve: remedy incident approve {approval.approval_id} --env {env} --reason TEXT   "
        f"(until {approval.expires_at:%Y-%m-%d %H:%M}Z)",
        f"    reject:  remedy incident reject {approval.approval_id} --env {env} --reason TEXT",
        f"UNANSWERED  at {approval.expires_at:%H:%M}Z it lapses: nothing is done and the escalation target is paged",
        f"INCIDENT    {incident.id}  (remedy incident show {incident.id} --env {env})",
    ]
    return subject[:SUBJECT_LIMIT], "\n".join(lines)


def playbook_lapse(approval: Any, prefix: str) -> tuple[str, str]:
    incident = approval.incident
    subject = f"[{prefix}] LAPSED: approval of {approval.action.name} for {approval.playbook} on {incident.resource}"
    lines = [
        f"LAPSED      nobody approved or rejected {approval.action.name} by {approval.expires_at:%Y-%m-%d %H:%M}Z "
        f"(asked at {approval.requested_at:%H:%M}Z): NOTHING WAS DONE",
        f"WHAT FIRED  {incident.alarm_name} at {incident.changed_at:%Y-%m-%d %H:%M:%S}Z",
        f"NOT DONE    {approval.command or approval.action.name}",
        f"NEXT        if {incident.alarm_name} is still in ALARM, a person decides now (runbook: {incident.playbook}); "
        f"its next state change asks again",
        f"INCIDENT    {incident.id}",
    ]
    return subject[:SUBJECT_LIMIT], "\n".join(lines)


# -- procedure approvals (approvals table, task tokens) -------------------------------------------------------

def sweep_procedures(items: list[dict[str, Any]], now: datetime, remind: Any, audit: Any, on_call: Publisher,
                     prefix: str) -> list[dict[str, Any]]:
    """Remind each procedure approval still PENDING at half its window (once: `remind` is the conditional
    write). Their lapse is the state machine's own: the approval state's heartbeat ends the run in its failure
    path, whose report says APPROVAL_TIMED_OUT, nothing after it was done (functions.procedures.report)."""
    done = []
    for item in items:
        if item.get("status") != "PENDING":
            continue
        requested, deadline = (datetime.fromisoformat(str(item[k])) for k in ("requested_at", "deadline"))
        if due(requested, deadline, bool(item.get("reminded_at")), now) != REMIND:
            continue
        if not remind(item["incident_id"], item["key"], now):
            continue
        audit.record(item["incident_id"], "approval_reminded", {
            "procedure": item["procedure"], "step": item["step"], "deadline": deadline.isoformat(),
            "reminded_at": now.isoformat()})
        on_call.publish(*procedure_reminder(item, prefix, deadline, now))
        done.append({"incident_id": item["incident_id"], "procedure": item["procedure"], "status": "REMINDED"})
    return done


def procedure_reminder(item: dict[str, Any], prefix: str, deadline: datetime, now: datetime) -> tuple[str, str]:
    incident = item["incident_id"]
    subject = f"[{prefix}] REMINDER: APPROVAL NEEDED: {item['procedure']} {incident}"
    lines = [
        f"REMINDER  still waiting for you: half of the answer window is gone, {_minutes_left(deadline, now)} min left",
        f"WAITING   {item['procedure']} {incident} (before {item['step']})",
        "ABOUT TO",
        *[f"  - {line}" for line in item.get("about_to", [])],
        f"APPROVE   remedy incident approve {incident} [--reason TEXT]",
        f"REJECT    remedy incident reject {incident} --reason TEXT",
        f"DEADLINE  {deadline:%Y-%m-%d %H:%M:%S}Z: unanswered, the procedure stops in its failure path and nothing "
        f"above is done",
    ]
    return subject[:SUBJECT_LIMIT], "\n".join(lines)
