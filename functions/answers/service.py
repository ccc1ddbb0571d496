"""The answer to a question, whoever asked it and however the person answers (CLI through the IAM-authenticated
function URL, Slack through the Slack function): one path, so both kinds of question get the same rules.

    1. the same answer delivered twice acts once: a conditional write claims the (principal, dedupe) key; a
       repeat returns the first outcome (a double click, Slack's retry within its five minutes);
    2. the question: an ap-… id or a playbook incident with one action waiting (the playbook's function answers
       it: functions/core/approvals.py), else a procedure's approval waiting for that incident (a task token);
    3. who may answer: the catalog's allow-list for that playbook or procedure, then the two-person rule
       (functions/answers/rules.py); anyone else is refused in one line (REFUSED with the rule) and audited;
    4. expired or answered before: said so in one line, nothing is done;
    5. otherwise the answer is carried out: the playbook's function invoked with the answer and the verified
       identity (it claims the approval once, runs the guard again, acts and verifies), or SendTaskSuccess /
       SendTaskFailure with the task token only this function can read.

Every answer is audited (kind `answer`) with the verified principal, how it came (iam | slack) and its outcome.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from functions.answers import AnswerResult
from functions.answers.rules import DEDUPE_SECONDS, Identity, check, dedupe_key, expired

APPROVAL_ID = re.compile(r"^ap-[0-9a-f]{10}$")
REJECTED_ERROR = "Remedy.Rejected"  # the error a rejected procedure approval fails its task with
HEARTBEAT_CAP = timedelta(days=1)  # the approval state's TimeoutSeconds: no extension goes past it


@dataclass(frozen=True)
class Question:
    approval: str  # ap-… id or incident id
    decision: Literal["approve", "reject", "extend"]
    reason: str
    procedure: str | None
    dedupe: str


class TokenGone(Exception):
    """Step Functions no longer waits on this token (answered, timed out, or the run ended)."""


class DedupeStore(Protocol):
    def claim(self, key: str, now: datetime, keep_seconds: int) -> dict[str, Any] | None:
        """None: claimed now. Otherwise the earlier claim ({"result": …} once it finished)."""
        ...

    def finish(self, key: str, result: dict[str, Any]) -> None: ...

    def release(self, key: str) -> None:
        """The answer failed before it was carried out: the same request may be sent again."""
        ...


class PlaybookApprovals(Protocol):
    def get(self, approval_id: str) -> dict[str, Any] | None: ...

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]: ...

    def invoke(self, playbook: str, event: dict[str, Any]) -> dict[str, Any]:
        """The playbook function's reply to the answer (RequestResponse); raises on a function error."""
        ...


class ProcedureApprovals(Protocol):
    def items(self, incident_id: str) -> list[dict[str, Any]]: ...

    def token(self, incident_id: str, key: str) -> str | None: ...

    def close(self, incident_id: str, key: str, status: str, by: str, reason: str, at: datetime) -> bool: ...

    def extend(self, incident_id: str, key: str, deadline: datetime) -> None: ...


class Callback(Protocol):
    def send_success(self, token: str, output: dict[str, Any]) -> None: ...

    def send_failure(self, token: str, error: str, cause: str) -> None: ...

    def send_heartbeat(self, token: str) -> None: ...


class Audit(Protocol):
    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass
class AnswerPorts:
    dedupe: DedupeStore
    playbooks: PlaybookApprovals
    procedures: ProcedureApprovals
    callback: Callback
    audit: Audit
    clock: Clock


def answer(question: Question, identity: Identity, catalog: Any, ports: AnswerPorts) -> AnswerResult:
    key = dedupe_key(identity, question.dedupe)
    earlier = ports.dedupe.claim(key, ports.clock.now(), DEDUPE_SECONDS)
    if earlier is not None:
        if earlier.get("result"):
            return AnswerResult.model_validate(earlier["result"])  # the first delivery's outcome, as it was
        return _result(question, identity, "ALREADY_ANSWERED", "the same answer is being carried out (delivered "
                                                               "twice): nothing more was done")
    try:
        result = _answer(question, identity, catalog, ports)
    except Exception:
        ports.dedupe.release(key)  # nothing was carried out: a retry of the same request is a new attempt
        raise
    ports.audit.record(result.incident_id or question.approval, "answer", {
        "approval": question.approval, "decision": question.decision, "reason": question.reason,
        "principal": identity.principal, "via": identity.via, "display": identity.display, "verified": True,
        "outcome": result.outcome, "rule": result.rule, "message": result.message, "procedure": result.procedure})
    ports.dedupe.finish(key, result.model_dump(mode="json"))
    return result


def _result(question: Question, identity: Identity, outcome: str, message: str, **extra: Any) -> AnswerResult:
    return AnswerResult.model_validate({"outcome": outcome, "message": message, "approval": question.approval,
                                        "by": identity.shown, **extra})


def _answer(question: Question, identity: Identity, catalog: Any, ports: AnswerPorts) -> AnswerResult:
    if question.procedure is None:
        if APPROVAL_ID.fullmatch(question.approval):
            found = ports.playbooks.get(question.approval)
            if found is None:
                return _result(question, identity, "NOT_FOUND",
                               f"no approval {question.approval} is known (see the notification for the id)")
            return _playbook(question, identity, found, catalog, ports)
        asked = ports.playbooks.of_incident(question.approval)
        if asked:
            pending = [a for a in asked if a.get("status") == "PENDING"]
            if len(pending) > 1:
                ids = ", ".join(f"{a['approval_id']} ({a['action']['name']})" for a in pending)
                return _result(question, identity, "INVALID", f"{len(pending)} actions of {question.approval} await "
                                                              f"approval: answer each by its id: {ids}",
                               incident_id=question.approval)
            chosen = pending[0] if pending else max(asked, key=lambda a: str(a.get("requested_at", "")))
            return _playbook(question, identity, chosen, catalog, ports)
    return _procedure(question, identity, catalog, ports)


# -- a playbook's action ------------------------------------------------------------------------------------

def _playbook(question: Question, identity: Identity, approval: dict[str, Any], catalog: Any,
              ports: AnswerPorts) -> AnswerResult:
    from functions.core.approvals import ApprovalAnswer, approval_event

    playbook, ident = str(approval["playbook"]), str(approval["approval_id"])
    action = str(approval["action"]["name"])
    common: dict[str, Any] = {"incident_id": str(approval["incident"]["id"]), "procedure": f"playbook {playbook}",
                              "detail": {"playbook": playbook, "action": action, "approval_id": ident}}
    if question.decision == "extend":
        return _result(question, identity, "INVALID", f"{ident} cannot be extended: a playbook's approval lapses and "
                                                      f"the next alarm asks again", **common)
    rails = catalog.guardrails.playbooks[playbook]
    refusal = check(rails.approvers, identity, str(approval.get("requested_by") or ""), False,
                    f"{ident} ({action})", f"guardrails.playbooks.{playbook}.approvers")
    if refusal is not None:
        return _result(question, identity, "REFUSED", refusal.message, rule=refusal.rule, **common)
    if approval.get("status", "PENDING") != "PENDING":
        return _result(question, identity, "EXPIRED" if approval.get("status") == "EXPIRED" else "ALREADY_ANSWERED",
                       _answered_before(approval), **common)
    request = ApprovalAnswer(approval_id=ident, decision=question.decision, by=identity.shown[:256],
                             reason=question.reason, principal=identity.principal, via=identity.via)
    reply = ports.playbooks.invoke(playbook, approval_event(request))
    if reply.get("answer") == "REFUSED":  # expired now, or answered a moment ago: the function said which
        why = str(reply.get("reason", "refused"))
        return _result(question, identity, "EXPIRED" if " expired " in f" {why} " else "ALREADY_ANSWERED", why,
                       **common)
    outcome = reply.get("outcome") or {}
    status = str(reply.get("answer", ""))
    message = f"{status} {action} ({ident}) by {identity.shown}: {outcome.get('status', '?')}: " \
              f"{outcome.get('summary', '')}"
    return _result(question, identity, status, _one_line(message),
                   **{**common, "detail": {**common["detail"], "outcome": outcome}})


def _answered_before(approval: dict[str, Any]) -> str:
    at = str(approval.get("answered_at") or "")
    when = f" at {at[:10]} {at[11:16]}Z" if at else ""
    if approval.get("status") == "EXPIRED":
        return f"approval {approval['approval_id']} expired{when}: nothing was done"
    by = approval.get("answered_by") or "someone"
    reason = f" ({approval['answer_reason']})" if approval.get("answer_reason") else ""
    return f"approval {approval['approval_id']} was {approval.get('status')} by {by}{reason}{when}: it is answered once"


# -- a procedure's approval ---------------------------------------------------------------------------------

def _procedure(question: Question, identity: Identity, catalog: Any, ports: AnswerPorts) -> AnswerResult:
    incident_id = question.approval
    items = [i for i in ports.procedures.items(incident_id) if question.procedure in (None, i.get("procedure"))]
    pending = [i for i in items if i.get("status") == "PENDING"]
    base = {"incident_id": incident_id}
    if len(pending) != 1:
        return _not_waiting(question, identity, items, pending)
    item = pending[0]
    procedure, step = str(item["procedure"]), str(item.get("step", ""))
    common: dict[str, Any] = {**base, "procedure": procedure,
              "detail": {"step": step, "execution": item.get("execution", ""), "about_to": item.get("about_to", [])}}
    approvers = catalog.procedures.approvers_of(procedure)
    where = f"procedures.approvers.{procedure if procedure in catalog.procedures.approvers else 'default'}"
    if question.decision == "extend":  # more time is not an answer: the allow-list applies, two-person does not
        refusal = check(approvers.model_copy(update={"two_person": False}), identity, "", False,
                        f"{procedure} {incident_id}", where)
    else:
        refusal = check(approvers, identity, str(item.get("requested_by") or ""), True, f"{procedure} {incident_id}",
                        where)
    if refusal is not None:
        return _result(question, identity, "REFUSED", refusal.message, rule=refusal.rule, **common)
    now = ports.clock.now()
    if expired(item.get("deadline"), now):
        ports.procedures.close(incident_id, item["key"], "EXPIRED", "", "nobody answered in time", now)
        return _result(question, identity, "EXPIRED", f"the approval of {procedure} {incident_id} expired at "
                                                      f"{str(item['deadline'])[:16]}Z: the procedure stops in its "
                                                      f"failure path and nothing it asked about was done", **common)
    token = ports.procedures.token(incident_id, item["key"])
    if not token:
        return _result(question, identity, "NOT_FOUND", f"the approval of {procedure} {incident_id} has no task "
                                                        f"token recorded: nothing was done", **common)
    if question.decision == "extend":
        return _extend(question, identity, item, token, now, ports, common)
    approve = question.decision == "approve"
    decision = {"approved": approve, "by": identity.shown, "principal": identity.principal, "via": identity.via,
                "reason": question.reason, "at": now.isoformat()}
    try:
        if approve:
            ports.callback.send_success(token, decision)
        else:
            ports.callback.send_failure(token, REJECTED_ERROR, json.dumps(decision, sort_keys=True))
    except TokenGone:
        ports.procedures.close(incident_id, item["key"], "EXPIRED", "", "answer came after the run stopped waiting",
                               now)
        return _result(question, identity, "EXPIRED", f"the approval for {incident_id} is no longer waiting (timed "
                                                      f"out or the run ended): see remedy incident status "
                                                      f"{incident_id}", **common)
    status = "APPROVED" if approve else "REJECTED"
    ports.procedures.close(incident_id, item["key"], status, identity.shown, question.reason, now)
    ports.audit.record(incident_id, "approval", {
        "procedure": procedure, "step": step, "decision": status, "by": identity.shown,
        "principal": identity.principal, "via": identity.via, "verified": True, "reason": question.reason,
        "about_to": item.get("about_to", []), "execution": item.get("execution", "")})
    return _result(question, identity, status, f"{status.lower()} {procedure} {incident_id} (before {step}) by "
                                               f"{identity.shown}", **common)


def _not_waiting(question: Question, identity: Identity, items: list[dict[str, Any]],
                 pending: list[dict[str, Any]]) -> AnswerResult:
    incident_id = question.approval
    if len(pending) > 1:
        which = ", ".join(sorted(str(p["procedure"]) for p in pending))
        return _result(question, identity, "INVALID", f"{len(pending)} approvals are waiting for {incident_id} "
                                                      f"({which}): add --procedure", incident_id=incident_id)
    if not items:
        return _result(question, identity, "NOT_FOUND", f"no approval is waiting for {incident_id} (see: remedy "
                                                        f"incident status {incident_id})", incident_id=incident_id)
    latest = max(items, key=lambda i: str(i.get("answered_at") or i.get("requested_at") or ""))
    status = str(latest.get("status"))
    by = f" by {latest['answered_by']}" if latest.get("answered_by") not in (None, "", "-") else ""
    return _result(question, identity, "EXPIRED" if status in ("EXPIRED", "TIMED_OUT") else "ALREADY_ANSWERED",
                   f"the approval of {latest.get('procedure')} {incident_id} is {status}{by}: nothing more was done "
                   f"(see remedy incident status {incident_id})", incident_id=incident_id,
                   procedure=latest.get("procedure"))


def _extend(question: Question, identity: Identity, item: dict[str, Any], token: str, now: datetime,
            ports: AnswerPorts, common: dict[str, Any]) -> AnswerResult:
    requested = datetime.fromisoformat(str(item["requested_at"]))
    window = datetime.fromisoformat(str(item["deadline"])) - requested
    deadline = min(now + window, requested + HEARTBEAT_CAP)
    try:
        ports.callback.send_heartbeat(token)  # restarts HeartbeatSeconds: another full window
    except TokenGone:
        return _result(question, identity, "EXPIRED", f"the approval for {question.approval} is no longer waiting",
                       **common)
    ports.procedures.extend(question.approval, item["key"], deadline)
    return _result(question, identity, "EXTENDED", f"extended the approval window of {item['procedure']} "
                                                   f"{question.approval} until {deadline:%Y-%m-%d %H:%M}Z",
                   **common)


def _one_line(text: str) -> str:
    return " ".join(text.split())
