"""diagnose → plan → guard → act → verify → report: the loop every playbook runs through.

A playbook supplies the two domain decisions (what is wrong and what to do; whether it worked). This
module owns everything that must be the same for all of them: each action through the guard, the
circuit breaker claimed before acting, an audit record for every decision (refusals too), one
notification at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.core.actions import execute
from functions.core.catalog import Catalog
from functions.core.guard import Guard
from functions.core.models import (
    ActionResult,
    ActionStatus,
    Decision,
    Incident,
    Outcome,
    OutcomeStatus,
    Plan,
    Verdict,
    Verification,
    VerificationStatus,
)
from functions.core.notify import render
from functions.core.ports import AuditPort, BreakerPort, Clock, KillSwitchPort, NotifierPort


class Playbook(Protocol):
    name: str

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: Any) -> Plan: ...

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: Any) -> Verification: ...


@dataclass
class Context:
    """Everything a run needs, injected: the catalog and the ports (adapters in AWS, fakes in tests)."""

    catalog: Catalog
    ports: Any  # domain ports: .glue, .alarms, ... (see functions.core.adapters.AwsPorts)
    kill_switch: KillSwitchPort
    breaker: BreakerPort
    audit: AuditPort
    notifier: NotifierPort
    clock: Clock
    dry_run: bool = False
    unhealthy: set[str] = field(default_factory=set)  # components whose alarms are in ALARM now


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
        return _escalate(incident, playbook, ctx, f"diagnosis failed: {_error_line(error)}")
    audit.record(incident.id, "plan", plan.model_dump(mode="json"))
    unhealthy = ctx.unhealthy | {f.component for f in plan.findings if not f.ok and f.component}

    guard = Guard(ctx.catalog, playbook.name, ctx.kill_switch, ctx.breaker, ctx.dry_run)
    decisions: list[Decision] = []
    results: list[ActionResult] = []
    for action in plan.actions:
        now = ctx.clock.now()
        decision = guard.check(action, unhealthy, now)
        if decision.verdict is Verdict.ALLOWED and not _claim(ctx, guard, playbook.name, action.target, now):
            decision = decision.model_copy(update={
                "verdict": Verdict.REFUSED, "rule": "cooldown",
                "reason": "another remediation claimed this resource a moment ago"})
        decisions.append(decision)
        audit.record(incident.id, "decision", decision.model_dump(mode="json"))
        if decision.verdict is not Verdict.ALLOWED:
            continue
        result = _act(action, ctx)
        results.append(result)
        audit.record(incident.id, "action", result.model_dump(mode="json"))
        _keep_lease(result, incident, ctx)
        if result.status is ActionStatus.FAILED:
            break  # later steps assumed this one worked

    verification = Verification(status=VerificationStatus.NOT_APPLICABLE, detail="nothing was done")
    if results and all(r.status is ActionStatus.SUCCEEDED for r in results):
        verification = _verify(playbook, incident, results, ctx)
    elif results:
        verification = Verification(status=VerificationStatus.FAILED, detail="an action failed")
    status = _status(plan, decisions, results, verification)
    outcome = Outcome(incident=incident, plan=plan, decisions=decisions, results=results,
                      verification=verification, status=status, summary=_summary(status, plan, decisions, results))
    audit.record(incident.id, "outcome", _outcome_record(outcome))
    subject, message = render(outcome, ctx.catalog)
    ctx.notifier.publish(subject, message)
    return outcome


def _keep_lease(result: ActionResult, incident: Incident, ctx: Context) -> None:
    """A scale-up that asks for a lease is recorded with how to undo it (functions.core.leases)."""
    from functions.core.leases import lease_from

    if result.status is not ActionStatus.SUCCEEDED:
        return
    lease = lease_from(result, incident)
    if lease is not None:
        ctx.breaker.put_lease(lease.target, lease.model_dump(mode="json"))
        ctx.audit.record(incident.id, "lease", lease.model_dump(mode="json"))


def _escalate(incident: Incident, playbook: Playbook, ctx: Context, reason: str) -> Outcome:
    plan = Plan(playbook=playbook.name, recommendations=[f"{reason}: nothing was changed; diagnose by hand "
                                                         f"(runbook: {incident.playbook})"])
    outcome = Outcome(incident=incident, plan=plan, status=OutcomeStatus.ESCALATED, summary=reason)
    ctx.audit.record(incident.id, "outcome", _outcome_record(outcome))
    subject, message = render(outcome, ctx.catalog)
    ctx.notifier.publish(subject, message)
    return outcome


def _claim(ctx: Context, guard: Guard, playbook: str, target: str, now: datetime) -> bool:
    """Record the attempt before acting, conditional on the breaker state the guard judged: of two
    concurrent incidents on one resource only one acts, and a crash mid-action still counts."""
    rails = ctx.catalog.guardrails.playbooks[playbook]  # type: ignore[index]
    try:
        return ctx.breaker.claim(guard.seen[target], now, now - timedelta(hours=rails.budget_window_hours))
    except Exception:
        return False


def _act(action: Any, ctx: Context) -> ActionResult:
    try:
        return execute(action, ctx.ports)
    except Exception as error:
        return ActionResult(action=action, status=ActionStatus.FAILED, detail=_error_line(error))


def _verify(playbook: Playbook, incident: Incident, results: list[ActionResult],
            ctx: Context) -> Verification:
    try:
        return playbook.verify(incident, results, ctx.catalog, ctx.ports)
    except Exception as error:  # the action happened: report it rather than crash into a retry
        return Verification(status=VerificationStatus.INCONCLUSIVE,
                            detail=f"could not verify: {_error_line(error)}")


def _error_line(error: Exception) -> str:
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{code}: {text}" if code else f"{type(error).__name__}: {text}"


def _status(plan: Plan, decisions: list[Decision], results: list[ActionResult],
            verification: Verification) -> OutcomeStatus:
    if any(r.status is ActionStatus.FAILED for r in results) or verification.status is VerificationStatus.FAILED:
        return OutcomeStatus.ESCALATED
    if results:
        return (OutcomeStatus.REMEDIATED if verification.status is VerificationStatus.VERIFIED
                else OutcomeStatus.ACTED)
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
    return {"status": outcome.status.value, "summary": outcome.summary,
            "verification": outcome.verification.model_dump(mode="json")}
