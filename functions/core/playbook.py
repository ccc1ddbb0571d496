"""diagnose → plan → guard → act → verify → report: the loop every playbook runs through.

A playbook supplies the two domain decisions (what is wrong and what to do; whether it worked). This
module owns everything that must be the same for all of them: each action through the guard, the
circuit breaker claimed before acting, an audit record for every decision (refusals too), one
notification at the end.

Three entry points: `run` (an incident: the whole loop), `answer` (a person approved or rejected an action
the guard held: functions.core.approvals) and `check_follow_up` (the playbook's scheduled check of a
verification window it opened after acting: the service level again, final verdict once).
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from functions.core.actions import execute
from functions.core.catalog import Catalog
from functions.core.errors import error_line
from functions.core.guard import Guard
from functions.core.models import (
    Action,
    ActionResult,
    ActionStatus,
    ApprovalStatus,
    Decision,
    FollowUp,
    Incident,
    Outcome,
    OutcomeStatus,
    PendingApproval,
    Plan,
    Verdict,
    Verification,
    VerificationStatus,
)
from functions.core.notify import notification
from functions.core.ports import (
    ApprovalPort,
    AuditPort,
    BreakerPort,
    Clock,
    FollowUpPort,
    KillSwitchPort,
    NotifierPort,
    PlaybookPorts,
    SafetyPort,
)


class Playbook(Protocol):
    name: str

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: PlaybookPorts) -> Plan: ...

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: PlaybookPorts) -> Verification: ...


@dataclass
class Context:
    """Everything a run needs, injected: the catalog and the ports (adapters in AWS, fakes in tests)."""

    catalog: Catalog
    ports: PlaybookPorts  # .glue, .alarms, ... (functions.core.adapters.aws.AwsPorts in AWS)
    kill_switch: KillSwitchPort
    breaker: BreakerPort
    audit: AuditPort
    notifier: NotifierPort
    clock: Clock
    dry_run: bool = False
    unhealthy: set[str] = field(default_factory=set)  # components whose alarms are in ALARM now
    # Where pending approvals and verification windows are kept (the breaker table in AWS). None: this run
    # keeps neither (the notification still names the approval id and command).
    approvals: ApprovalPort | None = None
    follow_ups: FollowUpPort | None = None
    # Snoozes, ad-hoc freezes and the fleet budget (functions.core.safety; the breaker table in AWS). None: the
    # catalog's exclusions and freeze windows still hold; no snoozes and no fleet budget.
    safety: SafetyPort | None = None


def run(playbook: Playbook, incident: Incident, ctx: Context) -> Outcome:
    audit = ctx.audit
    audit.record(incident.id, "incident", incident.model_dump(mode="json"))
    if incident.state in ("OK", "INSUFFICIENT_DATA"):
        # Back to OK: recovered (the alarm's own OK action tells on call). No data: nothing to judge.
        recovered = incident.state == "OK"
        outcome = Outcome(incident=incident, plan=Plan(playbook=playbook.name),
                          status=OutcomeStatus.RECOVERED if recovered else OutcomeStatus.NO_ACTION,
                          summary=f"{incident.alarm_name} is {incident.state}: nothing to do")
        audit.record(incident.id, "outcome", _outcome_record(outcome))
        return outcome

    try:
        plan = playbook.diagnose_and_plan(incident, ctx.catalog, ctx.ports)
    except Exception as error:
        return _escalate(incident, playbook, ctx, f"diagnosis failed: {error_line(error, None)}")
    audit.record(incident.id, "plan", plan.model_dump(mode="json"))
    unhealthy = ctx.unhealthy | {f.component for f in plan.findings if not f.ok and f.component}

    guard = _guard(playbook, ctx)
    decisions: list[Decision] = []
    results: list[ActionResult] = []
    pending: list[PendingApproval] = []
    for action in plan.actions:
        decision, result = _through_guard(action, guard, unhealthy, incident, playbook.name, ctx)
        decisions.append(decision)
        asked = _ask(incident, playbook.name, decision, plan, ctx)
        if asked is not None:
            pending.append(asked)
        if result is None:
            continue
        results.append(result)
        if result.status is ActionStatus.FAILED:
            break  # later steps assumed this one worked
    return _report(playbook, incident, plan, decisions, results, ctx, pending=pending)


def answer(playbook: Playbook, approval_id: str, approve: bool, by: str, reason: str,
           ctx: Context, principal: str = "", via: str = "") -> dict[str, Any]:
    """A person's answer to an action the guard held (functions.core.approvals). Refused in one line when the
    approval is unknown, expired or answered before; otherwise claimed once (a conditional write), recorded
    as "APPROVED by <who> (<reason>)" or "REJECTED by <who>", and an approved action is carried out through
    the guard again (mode requirement met; kill switch, lineage hold, caps, cooldown and budget still apply)."""
    store = ctx.approvals
    if store is None:
        return _not_answered(approval_id, "this function keeps no approvals")
    raw = store.get(approval_id)
    if raw is None:
        return _not_answered(approval_id, f"no approval {approval_id} is known (the id is in the notification)")
    approval = PendingApproval.model_validate(raw)
    if approval.playbook != playbook.name:
        return _not_answered(approval_id, f"approval {approval_id} belongs to playbook {approval.playbook}")
    now = ctx.clock.now()
    if approval.status is not ApprovalStatus.PENDING:
        return _not_answered(approval_id, _answered_before(approval))
    if now >= approval.expires_at:
        if store.expire(approval_id, now):
            ctx.audit.record(approval.incident.id, "approval", {
                "approval_id": approval_id, "decision": ApprovalStatus.EXPIRED.value,
                "action": approval.action.model_dump(mode="json"),
                "text": f"EXPIRED at {approval.expires_at:%Y-%m-%d %H:%M}Z, nobody answered in time"})
        return _not_answered(approval_id, f"approval {approval_id} expired at {approval.expires_at:%Y-%m-%d %H:%M}Z "
                                          f"(window of {_window(approval)} min): nothing was done; if the "
                                          f"problem is still there its alarm asks again")
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    if not store.answer(approval_id, status.value, by, reason, now):
        fresh = PendingApproval.model_validate(store.get(approval_id) or raw)
        if fresh.status is ApprovalStatus.PENDING:  # the condition judged it expired
            return _not_answered(approval_id, f"approval {approval_id} expired at "
                                              f"{fresh.expires_at:%Y-%m-%d %H:%M}Z: nothing was done")
        return _not_answered(approval_id, f"answered a moment ago: {_answered_before(fresh)}")
    approval = approval.model_copy(update={"status": status, "answered_by": by, "answer_reason": reason,
                                           "answered_at": now})
    ctx.audit.record(approval.incident.id, "approval", {
        "approval_id": approval_id, "decision": status.value, "by": by, "reason": reason,
        # who, as the answer function verified it (functions/answers): the IAM caller's ARN or the Slack user
        "principal": principal, "via": via, "verified": bool(principal),
        "action": approval.action.model_dump(mode="json"), "text": approval.answer})
    outcome = _carry_out(playbook, approval, ctx) if approve else _rejected(playbook, approval, ctx)
    return {"answer": status.value, "approval_id": approval_id, "incident_id": approval.incident.id,
            "playbook": playbook.name, "action": approval.action.name, "by": by, "reason": reason,
            "outcome": outcome.model_dump(mode="json")}


def _not_answered(approval_id: str, reason: str) -> dict[str, Any]:
    return {"answer": "REFUSED", "approval_id": approval_id, "reason": reason}


def _answered_before(approval: PendingApproval) -> str:
    at = f" at {approval.answered_at:%Y-%m-%d %H:%M}Z" if approval.answered_at else ""
    if approval.status is ApprovalStatus.EXPIRED:
        return f"approval {approval.approval_id} expired{at}: nothing was done"
    return f"approval {approval.approval_id} was {approval.answer}{at}: it is answered once"


def _window(approval: PendingApproval) -> int:
    return int((approval.expires_at - approval.requested_at).total_seconds() // 60)


def _carry_out(playbook: Playbook, approval: PendingApproval, ctx: Context) -> Outcome:
    incident = approval.incident
    plan = Plan(playbook=playbook.name, findings=approval.findings, actions=[approval.action])
    guard = _guard(playbook, ctx)
    decision, result = _through_guard(approval.action, guard, ctx.unhealthy, incident, playbook.name, ctx,
                                      approved=True)
    return _report(playbook, incident, plan, [decision], [result] if result else [], ctx,
                   answer=approval.answer, follow_up_key=f"{incident.id}#{approval.approval_id}")


def _rejected(playbook: Playbook, approval: PendingApproval, ctx: Context) -> Outcome:
    plan = Plan(playbook=playbook.name, findings=approval.findings, actions=[approval.action],
                recommendations=[f"{approval.action.name} was not carried out: {approval.answer}"])
    outcome = Outcome(incident=approval.incident, plan=plan, status=OutcomeStatus.REJECTED, answer=approval.answer,
                      summary=f"{approval.action.name} {approval.answer}: nothing was done")
    ctx.audit.record(approval.incident.id, "outcome", _outcome_record(outcome))
    ctx.notifier.publish(*notification(outcome, ctx.catalog))
    return outcome


def _through_guard(action: Action, guard: Guard, unhealthy: set[str], incident: Incident, playbook: str,
                   ctx: Context, approved: bool = False) -> tuple[Decision, ActionResult | None]:
    """One action: the guard's decision (audited), the breaker claimed, the action done (audited)."""
    now = ctx.clock.now()
    decision = guard.check(action, unhealthy, now, approved=approved)
    refusal = (_claim(ctx, guard, playbook, action.target, now, incident.id)
               if decision.verdict is Verdict.ALLOWED else None)
    if refusal is not None:
        decision = decision.model_copy(update={"verdict": Verdict.REFUSED, "rule": refusal[0],
                                               "reason": refusal[1]})
    ctx.audit.record(incident.id, "decision", decision.model_dump(mode="json"))
    if decision.verdict is not Verdict.ALLOWED:
        return decision, None
    result = _act(action, ctx)
    ctx.audit.record(incident.id, "action", result.model_dump(mode="json"))
    _keep_lease(result, incident, ctx)
    _keep_pending_start(result, incident, ctx)
    return decision, result


def _ask(incident: Incident, playbook: str, decision: Decision, plan: Plan,
         ctx: Context) -> PendingApproval | None:
    """Record what waits for a person, so that `remedy incident approve` can carry out exactly this."""
    from functions.core.approvals import new_approval

    if decision.verdict is not Verdict.AWAITING_APPROVAL or ctx.approvals is None:
        return None
    approval = new_approval(incident, playbook, decision, plan.findings, ctx.clock.now(), ctx.catalog)
    if ctx.approvals.put(approval.model_dump(mode="json")):
        ctx.audit.record(incident.id, "approval_requested", {
            "approval_id": approval.approval_id, "action": approval.action.model_dump(mode="json"),
            "command": approval.command, "reason": approval.reason,
            "expires_at": approval.expires_at.isoformat()})
    return approval


def _report(playbook: Playbook, incident: Incident, plan: Plan, decisions: list[Decision],
            results: list[ActionResult], ctx: Context, pending: list[PendingApproval] | None = None,
            answer: str = "", follow_up_key: str | None = None) -> Outcome:
    """Verify what was done, open a verification window when that is not yet conclusive, record, notify."""
    verification = Verification(status=VerificationStatus.NOT_APPLICABLE, detail="nothing was done")
    if results and all(r.status is ActionStatus.SUCCEEDED for r in results):
        verification = _verify(playbook, incident, results, ctx)
    elif results:
        verification = Verification(status=VerificationStatus.FAILED, detail="an action failed")
    follow_up = None
    if verification.status is VerificationStatus.INCONCLUSIVE:
        follow_up = _open_window(playbook, incident, results, verification, ctx, follow_up_key or incident.id)
    status = _status(plan, decisions, results, verification)
    outcome = Outcome(incident=incident, plan=plan, decisions=decisions, results=results,
                      verification=verification, status=status, summary=_summary(status, plan, decisions, results),
                      pending=pending or [], follow_up=follow_up, answer=answer)
    ctx.audit.record(incident.id, "outcome", _outcome_record(outcome))
    ctx.notifier.publish(*notification(outcome, ctx.catalog))
    if results and verification.status is VerificationStatus.FAILED:
        _earned(playbook.name, incident, [r.action.name for r in results], "FAILED", verification.detail, ctx)
    return outcome


def _earned(playbook: str, incident: Incident, actions: list[str], outcome: Literal["FAILED", "ESCALATED"],
            detail: str, ctx: Context) -> None:
    """Earned autonomy (functions.core.autonomy): the outcome goes on the actions' record; a demotion it causes
    is audited and notified with its evidence at once. A record that cannot be written is logged, never raised:
    the incident's own outcome stands (and an unreadable record makes the guard ask a person anyway)."""
    import logging

    from functions.core.autonomy import record_outcome

    logger = logging.getLogger(__name__)  # the function's root handler (Powertools in Lambda) formats it

    if ctx.safety is None:
        return
    for action in dict.fromkeys(actions):
        try:
            demotion = record_outcome(ctx.safety, ctx.catalog, playbook, action, outcome, incident.id, detail,
                                      ctx.clock.now())
        except Exception as error:
            logger.warning("earned autonomy: outcome not recorded", extra={"action": f"{playbook}.{action}",
                                                                           "error": error_line(error)})
            continue
        if demotion is None:
            continue
        ctx.audit.record(incident.id, "mode_changed", {
            "key": demotion.key, "from": demotion.before.value, "to": demotion.after.value, "by": "the record",
            "rule": "mode", "why": demotion.why, "evidence": demotion.evidence})
        ctx.audit.record(f"mode:{demotion.key}", "mode_changed", {
            "key": demotion.key, "from": demotion.before.value, "to": demotion.after.value, "by": "the record",
            "incident": incident.id, "why": demotion.why})
        subject = f"[{ctx.catalog.prefix}] DEMOTED: {demotion.key} {demotion.before} -> {demotion.after}"
        ctx.notifier.publish(subject[:100], (
            f"{demotion.key} was in {demotion.before}; it is in {demotion.after} from now on: its next actions wait "
            f"for a person.\nWhy: {demotion.why}\nEvidence: {json.dumps(demotion.evidence, default=str)[:1500]}\n"
            f"Promotion back is a person's decision: the weekly review recommends it after a clean record; "
            f"`remedy mode set {demotion.key} {demotion.before} --env {ctx.catalog.env} --reason TEXT` applies it.\n"))


def _open_window(playbook: Playbook, incident: Incident, results: list[ActionResult], verification: Verification,
                 ctx: Context, key: str) -> FollowUp | None:
    """After acting with an inconclusive verification: the playbook's scheduled check looks again until the
    catalog's verification window is over (check_follow_up)."""
    if ctx.follow_ups is None or not getattr(playbook, "verification_window", True):
        return None
    rails = ctx.catalog.guardrails.playbooks.get(playbook.name)
    if rails is None:
        return None
    now = ctx.clock.now()
    follow_up = FollowUp(key=key, incident=incident, playbook=playbook.name, results=results, acted_at=now,
                         due_by=now + timedelta(minutes=rails.verification_minutes), verification=verification)
    ctx.follow_ups.put(follow_up.model_dump(mode="json"))
    return follow_up


def check_follow_up(playbook: Playbook, follow_up: FollowUp, now: datetime, ctx: Context) -> dict[str, Any]:
    """The scheduled check of one verification window: the service level again. VERIFIED -> REMEDIATED;
    FAILED, or still INCONCLUSIVE when the window is over -> ESCALATED to a person with what was tried;
    otherwise kept for the next check. The final verdict is recorded once (conditional write)."""
    incident = follow_up.incident
    verification = _verify(playbook, incident, follow_up.results, ctx)
    if verification.status is VerificationStatus.INCONCLUSIVE and now < follow_up.due_by:
        return {"key": follow_up.key, "status": "WATCHING", "until": follow_up.due_by.isoformat(),
                "detail": verification.detail}
    if verification.status is VerificationStatus.NOT_APPLICABLE:
        verification = verification.model_copy(update={"status": VerificationStatus.INCONCLUSIVE})
    if verification.status is VerificationStatus.INCONCLUSIVE:
        verification = Verification(status=VerificationStatus.INCONCLUSIVE, detail=(
            f"verification window over at {follow_up.due_by:%H:%M}Z: {verification.detail}"))
    if ctx.follow_ups is None or not ctx.follow_ups.close(follow_up.key, verification.status.value, now):
        return {"key": follow_up.key, "status": "CLOSED_BEFORE", "detail": "another check recorded its verdict"}
    verified = verification.status is VerificationStatus.VERIFIED
    tried = "; ".join(f"{r.action.name} at {follow_up.acted_at:%H:%M}Z: {r.detail}" for r in follow_up.results)
    plan = Plan(playbook=playbook.name, recommendations=[] if verified else [
        f"not fixed by what was tried ({tried}): a person takes over (runbook: {incident.playbook}); "
        f"check {incident.alarm_name} and the undo steps below"])
    status = OutcomeStatus.REMEDIATED if verified else OutcomeStatus.ESCALATED
    closed = follow_up.model_copy(update={"verification": verification})
    outcome = Outcome(incident=incident, plan=plan, results=follow_up.results, verification=verification,
                      status=status, follow_up=closed,
                      summary=f"verification {verification.status.value}: {verification.detail}")
    ctx.audit.record(incident.id, "verification", {
        "key": follow_up.key, "status": verification.status.value, "detail": verification.detail,
        "acted_at": follow_up.acted_at.isoformat(), "window_until": follow_up.due_by.isoformat(),
        "checked_at": now.isoformat(), "tried": tried})
    ctx.audit.record(incident.id, "outcome", _outcome_record(outcome))
    ctx.notifier.publish(*notification(outcome, ctx.catalog))
    if not verified:  # a failed verification demotes at once; an inconclusive one counts as an escalation
        failed = verification.status is VerificationStatus.FAILED
        _earned(playbook.name, incident, [r.action.name for r in follow_up.results],
                "FAILED" if failed else "ESCALATED", verification.detail, ctx)
    return {"key": follow_up.key, "status": status.value, "verification": verification.status.value,
            "detail": verification.detail, "outcome": outcome}


def _keep_lease(result: ActionResult, incident: Incident, ctx: Context) -> None:
    """A scale-up that asks for a lease is recorded with how to undo it (functions.core.leases)."""
    from functions.core.leases import lease_from

    if result.status is not ActionStatus.SUCCEEDED:
        return
    lease = lease_from(result, incident)
    if lease is not None:
        ctx.breaker.put_lease(lease.target, lease.model_dump(mode="json"))
        ctx.audit.record(incident.id, "lease", lease.model_dump(mode="json"))


def _keep_pending_start(result: ActionResult, incident: Incident, ctx: Context) -> None:
    """A restart whose stop AWS had not finished yet: the playbook's scheduled checks make the start
    (functions.core.pending)."""
    from functions.core.pending import pending_from

    if result.status is not ActionStatus.SUCCEEDED:
        return
    pending = pending_from(result, incident, ctx.clock.now())
    if pending is not None:
        ctx.breaker.put_pending_start(pending.target, pending.model_dump(mode="json"))
        ctx.audit.record(incident.id, "pending_start", pending.model_dump(mode="json"))


def finish_pending_start(pending: Any, now: datetime, ctx: Context) -> dict[str, Any]:
    """The scheduled look at one pending start (functions.core.pending): started, still waiting, or handed to a
    person. A final answer is recorded, told to on call and the pending start cleared."""
    from functions.core.pending import complete

    try:
        engaged = ctx.kill_switch.engaged()
    except Exception:  # unreadable: as if engaged (nothing automated without knowing it may act)
        engaged = True
    done = complete(pending, now, ctx.ports.glue, engaged)
    if not done.final:
        return {"target": pending.target, "status": done.status, "detail": done.detail}
    incident = pending.incident
    ctx.audit.record(incident.id, "pending_start", {"target": pending.target, "status": done.status,
                                                    "detail": done.detail, "run_id": done.run_id,
                                                    "checked_at": now.isoformat()})
    ctx.breaker.clear_pending_start(pending.target)
    started = done.status != "ESCALATED"
    result = ActionResult(action=pending.action, status=ActionStatus.SUCCEEDED if started else ActionStatus.FAILED,
                          detail=done.detail, changed={"run_id": done.run_id} if done.run_id else {})
    plan = Plan(playbook=pending.playbook, recommendations=[] if started else [
        f"a person takes over: {done.detail}"])
    verification = Verification(status=VerificationStatus.INCONCLUSIVE if started else VerificationStatus.FAILED,
                                detail=(f"the stream runs again; {incident.alarm_name} is watched as before"
                                        if started else "the stream is not running"))
    outcome = Outcome(incident=incident, plan=plan, results=[result], verification=verification,
                      status=OutcomeStatus.ACTED if started else OutcomeStatus.ESCALATED,
                      summary=f"pending start of {pending.job_name}: {done.detail}")
    ctx.audit.record(incident.id, "outcome", _outcome_record(outcome))
    ctx.notifier.publish(*notification(outcome, ctx.catalog))
    return {"target": pending.target, "status": done.status, "detail": done.detail, "outcome": outcome}


def _escalate(incident: Incident, playbook: Playbook, ctx: Context, reason: str) -> Outcome:
    plan = Plan(playbook=playbook.name, recommendations=[f"{reason}: nothing was changed; diagnose by hand "
                                                         f"(runbook: {incident.playbook})"])
    outcome = Outcome(incident=incident, plan=plan, status=OutcomeStatus.ESCALATED, summary=reason)
    ctx.audit.record(incident.id, "outcome", _outcome_record(outcome))
    ctx.notifier.publish(*notification(outcome, ctx.catalog))
    return outcome


def _guard(playbook: Playbook, ctx: Context) -> Guard:
    return Guard(ctx.catalog, playbook.name, ctx.kill_switch, ctx.breaker, ctx.dry_run, safety=ctx.safety,
                 gives_back=bool(getattr(playbook, "gives_back", False)))


def _claim(ctx: Context, guard: Guard, playbook: str, target: str, now: datetime,
           incident_id: str = "") -> tuple[str, str] | None:
    """Record the attempt before acting: first a unit of the fleet budget (rule fleet_budget: across every
    resource and playbook; a lease give-back spends none), then the resource's breaker, conditional on the
    state the guard judged: of two concurrent incidents on one resource only one acts, and a crash mid-action
    still counts. None when claimed; otherwise the refusal's rule and reason (nothing is done without the
    attempt on record)."""
    from functions.core.safety import FLEET_BUDGET, claim_fleet_unit, fleet_entry, release_fleet_unit

    rails = ctx.catalog.guardrails.playbooks[playbook]
    entry = None
    if ctx.safety is not None and not guard.gives_back:
        entry = fleet_entry(target, playbook, incident_id, now)
        try:
            spent = claim_fleet_unit(ctx.safety, ctx.catalog.guardrails.fleet_budget_per_hour, entry, now)
        except Exception as error:
            return FLEET_BUDGET, f"the fleet budget could not be claimed, so nothing was done ({error_line(error)})"
        if spent:
            return FLEET_BUDGET, spent
    try:
        claimed = ctx.breaker.claim(guard.seen[target], now, now - timedelta(hours=rails.budget_window_hours))
    except Exception as error:
        claimed, refusal = False, ("breaker", f"the attempt could not be recorded, so nothing was done "
                                              f"({error_line(error, None)})")
    else:
        refusal = ("cooldown", "another remediation claimed this resource a moment ago")
    if claimed:
        return None
    if entry is not None and ctx.safety is not None:
        # Not acted on: the unit goes back to the fleet (if that fails, the budget is stricter for an hour).
        with suppress(Exception):
            release_fleet_unit(ctx.safety, entry)
    return refusal


def _act(action: Any, ctx: Context) -> ActionResult:
    try:
        return execute(action, ctx.ports)
    except Exception as error:
        return ActionResult(action=action, status=ActionStatus.FAILED, detail=error_line(error, None))


def _verify(playbook: Playbook, incident: Incident, results: list[ActionResult],
            ctx: Context) -> Verification:
    try:
        return playbook.verify(incident, results, ctx.catalog, ctx.ports)
    except Exception as error:  # the action happened: report it rather than crash into a retry
        return Verification(status=VerificationStatus.INCONCLUSIVE,
                            detail=f"could not verify: {error_line(error, None)}")


def _status(plan: Plan, decisions: list[Decision], results: list[ActionResult],
            verification: Verification) -> OutcomeStatus:
    if any(r.status is ActionStatus.FAILED for r in results) or verification.status is VerificationStatus.FAILED:
        return OutcomeStatus.ESCALATED
    if results:
        return (OutcomeStatus.REMEDIATED if verification.status is VerificationStatus.VERIFIED
                else OutcomeStatus.ACTED)
    if plan.escalate and not decisions:
        return OutcomeStatus.ESCALATED
    verdicts = {d.verdict for d in decisions}
    for verdict, status in ((Verdict.AWAITING_APPROVAL, OutcomeStatus.AWAITING_APPROVAL),
                            (Verdict.RECOMMENDED, OutcomeStatus.RECOMMENDED),
                            (Verdict.REFUSED, OutcomeStatus.REFUSED)):
        if verdict in verdicts:
            return status
    return OutcomeStatus.NO_ACTION


def _summary(status: OutcomeStatus, plan: Plan, decisions: list[Decision], results: list[ActionResult]) -> str:
    if results:
        return "; ".join(f"{r.action.name} {r.status.value.lower()}: {r.detail}" for r in results)
    if decisions:
        return "; ".join(f"{d.action.name} {d.verdict.value.lower()} ({d.rule}): {d.reason}" for d in decisions)
    if plan.recommendations:
        return "; ".join(plan.recommendations)
    return "diagnosis found nothing to change"


def _outcome_record(outcome: Outcome) -> dict[str, Any]:
    record: dict[str, Any] = {"status": outcome.status.value, "summary": outcome.summary,
                              "verification": outcome.verification.model_dump(mode="json")}
    if outcome.pending:
        record["awaiting_approval"] = [{"approval_id": p.approval_id, "action": p.action.name,
                                        "expires_at": p.expires_at.isoformat()} for p in outcome.pending]
    if outcome.follow_up is not None and outcome.status is OutcomeStatus.ACTED:
        record["verification_window_until"] = outcome.follow_up.due_by.isoformat()
    if outcome.answer:
        record["answer"] = outcome.answer
    return record
