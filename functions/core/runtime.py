"""Wiring for handlers: settings, catalog, adapters and idempotency, built once per cold start.

A handler calls `handle(event, playbook)` and nothing else. Same-state-change deliveries (EventBridge
is at least once) are answered from the idempotency record, keyed on alarm name + state-change timestamp,
and recorded as duplicates in the audit trail. Three kinds of event reach a playbook's function: incidents
(alarm state changes, or what its `parse` accepts), its schedule (verification windows and leases) and a
person's answer to an approval (`{"remedy-approval": …}`, invoked directly by `remedy incident approve`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from functions.core.catalog import Catalog, load_catalog
from functions.core.events import BadEvent, parse_alarm_event
from functions.core.models import Incident, Outcome, OutcomeStatus
from functions.core.naming import parse_alarm_name
from functions.core.observability import METRICS_NAMESPACE, logger
from functions.core.playbook import Context, Playbook, run
from functions.core.ports import PlaybookPorts
from functions.core.settings import settings


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return load_catalog(settings().catalog_path)


@lru_cache(maxsize=1)
def _wiring() -> dict[str, Any]:
    from functions.core.adapters.aws import AwsPorts
    from functions.core.adapters.clients import Clients
    from functions.core.adapters.clock import SystemClock
    from functions.core.adapters.dynamodb import DynamoApprovals, DynamoAudit, DynamoBreaker, DynamoFollowUps
    from functions.core.adapters.safety import DynamoSafety
    from functions.core.adapters.sns import SnsNotifier
    from functions.core.adapters.ssm import SsmKillSwitch

    s = settings()
    clients = Clients()
    clock = SystemClock()
    ports: PlaybookPorts = AwsPorts(clients, redshift_config=lambda: catalog().redshift)  # mypy: it fits
    return {
        "clients": clients,
        "ports": ports,
        "kill_switch": SsmKillSwitch(clients, s.kill_switch_parameter),
        "breaker": DynamoBreaker(clients, s.breaker_table),
        "audit": DynamoAudit(clients, s.audit_table, clock),
        "notifier": SnsNotifier(clients, s.topic_arn),
        # ESCALATED outcomes and lapsed approvals page here too (functions.core.escalation).
        "escalation": SnsNotifier(clients, s.escalation_topic_arn) if s.escalation_topic_arn else None,
        "clock": clock,
        # Pending approvals and verification windows live in the breaker table too (no table of their own).
        "approvals": DynamoApprovals(clients, s.breaker_table),
        "follow_ups": DynamoFollowUps(clients, s.breaker_table),
        # Snoozes, ad-hoc freezes and the fleet budget too (functions.core.adapters.safety).
        "safety": DynamoSafety(clients, s.breaker_table),
    }


@lru_cache(maxsize=1)
def _idempotent_runner() -> Any:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from functions.core.adapters.clients import client

    # The function's own client (its retries and timeouts): left to itself, Powertools makes a boto3 session,
    # which loads DynamoDB's service model from disk again (~30 ms of every cold start).
    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=client("dynamodb"))
    # A day covers EventBridge's redelivery window (max event age 6 h) with room to spare.
    config = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=True,
                               expires_after_seconds=24 * 3600)

    @idempotent_function(data_keyword_argument="incident", persistence_store=persistence, config=config)
    def process(incident: dict[str, Any], playbook: Playbook, ran: list[bool]) -> dict[str, Any]:
        ran.append(True)
        return _process(Incident.model_validate(incident), playbook)

    return process, config


class _IncidentClock:
    """Decisions are judged at the later of the wall clock and the incident's own time: an event is never
    from the future, except when a clock is skewed — or a rehearsal runs ahead of the wall clock."""

    def __init__(self, clock: Any, incident_time: datetime):
        self._clock = clock
        self._incident_time = incident_time

    def now(self) -> datetime:
        return max(self._clock.now(), self._incident_time)

    def sleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)


def _context(incident: Incident | None = None, at: datetime | None = None) -> Context:
    """A run's context from the cold-start wiring. For an incident: judged at (the later of the wall clock and)
    its time, with the components in ALARM now for the lineage hold; otherwise at `at`, or the wall clock."""
    wiring, cat = _wiring(), catalog()
    when = incident.changed_at if incident is not None else at
    unhealthy = (_unhealthy_components(cat, wiring["ports"], incident.alarm_name, incident.resource)
                 if incident is not None else set())
    return Context(catalog=cat, ports=wiring["ports"], kill_switch=wiring["kill_switch"],
                   breaker=wiring["breaker"], audit=wiring["audit"], notifier=wiring["notifier"],
                   clock=_IncidentClock(wiring["clock"], when) if when is not None else wiring["clock"],
                   dry_run=settings().dry_run, unhealthy=unhealthy,
                   approvals=wiring["approvals"], follow_ups=wiring["follow_ups"], safety=wiring["safety"])


def _process(incident: Incident, playbook: Playbook) -> dict[str, Any]:
    outcome = run(playbook, incident, _context(incident))
    logger.info("outcome", extra={"incident": incident.id, "status": outcome.status.value,
                                  "summary": outcome.summary})
    _publish_metrics(outcome)
    return outcome.model_dump(mode="json")


def _publish_metrics(outcome: Outcome) -> None:
    """One EMF record per outcome (and per recovery time): CloudWatch turns the log line into metrics. Every
    outcome passes here once, so an ESCALATED one is also paged here (the escalation topic)."""
    _page_if_escalated(outcome)
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    playbook = outcome.incident.playbook
    with single_metric(name="Outcome", unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE,
                       default_dimensions={"Playbook": playbook}) as metric:
        metric.add_dimension(name="Status", value=outcome.status.value)
    incident = outcome.incident
    if outcome.status is OutcomeStatus.RECOVERED and incident.previous_changed_at is not None:
        minutes = (incident.changed_at - incident.previous_changed_at).total_seconds() / 60
        with single_metric(name="TimeToRecoveryMinutes", unit=MetricUnit.Count, value=round(minutes, 2),
                           namespace=METRICS_NAMESPACE, default_dimensions={"Playbook": playbook}):
            pass
    publish_mode(playbook)


def publish_mode(playbook: str) -> None:
    """The playbook's effective mode as a metric (EffectiveMode, 0 observe … 3 auto: its most cautious action),
    graphed live on the remediation dashboard; published after each outcome and at each scheduled check."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from functions.core.autonomy import MODE_VALUE, listing, split

    try:
        state = _wiring()["safety"].load_modes()[1]
        rows = [r for r in listing(catalog(), state) if split(r.key)[0] == playbook]
    except Exception as error:  # the metric is a view: a failed read must not fail the incident
        logger.warning("effective mode not published", extra={"playbook": playbook, "error": str(error)[:200]})
        return
    if not rows:
        return
    lowest = min(rows, key=lambda r: MODE_VALUE[r.mode])
    logger.info("effective mode", extra={"playbook": playbook, "mode": lowest.mode.value, "key": lowest.key,
                                         "why": lowest.why})
    with single_metric(name="EffectiveMode", unit=MetricUnit.Count, value=MODE_VALUE[lowest.mode],
                       namespace=METRICS_NAMESPACE, default_dimensions={"Playbook": playbook}):
        pass


def _page_if_escalated(outcome: Outcome) -> None:
    """A person must act: the escalation topic gets the same message on-call got (functions.core.escalation)."""
    escalation = _wiring()["escalation"]
    if outcome.status is OutcomeStatus.ESCALATED and escalation is not None:
        from functions.core.notify import render

        escalation.publish(*render(outcome, catalog()))


def _unhealthy_components(cat: Catalog, ports: PlaybookPorts, own_alarm: str, own_component: str = "") -> set[str]:
    """Components whose own alarms are in ALARM now: the lineage hold reads this. The incident's own component
    is left out, whichever of its alarms (metric or composite) is on: its playbook diagnoses that component
    itself (data_quality acts downstream of the stale landing prefix it was called for, once it found the data
    arrived)."""
    components = set()
    for name in ports.alarms.in_alarm(f"{cat.prefix}/"):
        parsed = parse_alarm_name(name, cat.prefix)
        if parsed and name != own_alarm and parsed.component != own_component:
            components.add(parsed.component)
    return components


Parser = Callable[[Any, Catalog, str], Incident]


def handle_alarm(event: Any, playbook: Playbook, context: Any = None,
                 parse: Parser = parse_alarm_event) -> dict[str, Any]:
    """Parse, run the playbook once per incident, report. Bad events are refused, never retried.
    `parse` turns the event into an incident (CloudWatch alarm state changes by default)."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    try:
        incident = parse(event, catalog(), playbook.name)
    except BadEvent as error:
        logger.warning("rejected event", extra={"reason": str(error)})
        return {"status": "REJECTED", "reason": str(error)}
    ran: list[bool] = []
    process, config = _idempotent_runner()
    if context is not None:
        config.register_lambda_context(context)  # in-progress records expire with the invocation
    try:
        result: dict[str, Any] = process(incident=incident.model_dump(mode="json"),
                                                      playbook=playbook, ran=ran)
    except IdempotencyAlreadyInProgressError:
        return _duplicate(incident, "the same state change is being handled right now")
    if not ran:
        return _duplicate(incident, "this state change was handled before", result)
    return result


def handle(event: Any, playbook: Playbook, context: Any = None,
           parse: Parser = parse_alarm_event) -> dict[str, Any]:
    """Every event a playbook's function receives: a person's answer to an approval, its schedule (the
    scheduled checks of what it did earlier), or an incident (an alarm state change, or what `parse` accepts)."""
    from functions.core.approvals import is_approval_event
    from functions.core.waiting import Budget

    # What an action may wait for AWS in this invocation: the function's remaining time less a margin.
    remaining = context.get_remaining_time_in_millis() if context is not None else None
    wiring = _wiring()
    wiring["ports"].budget = Budget.for_invocation(wiring["clock"], remaining)
    if is_approval_event(event):
        return handle_approval(event, playbook)
    if isinstance(event, dict) and event.get("detail-type") == "Scheduled Event":
        return scheduled_checks(event, playbook)
    return handle_alarm(event, playbook, context, parse=parse)


def handle_approval(event: Any, playbook: Playbook) -> dict[str, Any]:
    """The answer function invoked this function directly (functions.core.approvals): carry out
    or drop the action it approved, once. Not behind the idempotency record: the approval's own conditional
    write is what makes a second answer a refusal."""
    from functions.core.approvals import parse_answer
    from functions.core.playbook import answer

    try:
        request = parse_answer(event)
    except BadEvent as error:
        logger.warning("rejected event", extra={"reason": str(error)})
        return {"answer": "REFUSED", "reason": str(error)}
    raw = _wiring()["approvals"].get(request.approval_id)
    # Unknown or another playbook's: refused by answer(), with its reason. Otherwise the lineage hold is judged
    # on the alarms' states now, not when it asked.
    ours = raw is not None and raw.get("playbook") == playbook.name
    ctx = _context(Incident.model_validate(raw["incident"]) if ours and raw is not None else None)
    result = answer(playbook, request.approval_id, request.decision == "approve", request.by, request.reason, ctx,
                    principal=request.principal, via=request.via)
    logger.info("approval answer", extra={"approval": request.approval_id, "answer": result["answer"],
                                          "by": request.by})
    if "outcome" in result:
        from functions.core.models import Outcome

        _publish_metrics(Outcome.model_validate(result["outcome"]))
    return result


def scheduled_checks(event: Any, playbook: Playbook) -> dict[str, Any]:
    """The playbook's schedule: its verification windows (the service level again, final verdict once), its
    leases (scale-ups given back once their alarm stayed OK), then its unanswered approvals (reminded, lapsed)."""
    from functions.core.events import parse_scheduled_event

    try:
        now = parse_scheduled_event(event, catalog())
    except BadEvent as error:
        logger.warning("rejected event", extra={"reason": str(error)})
        return {"status": "REJECTED", "reason": str(error)}
    starts = check_pending_starts(now, playbook.name)
    follow_ups = check_follow_ups(now, playbook)
    leases = check_leases(now, playbook.name)
    approvals = check_approvals(now, playbook.name)
    publish_mode(playbook.name)  # the dashboard's effective mode stays live between incidents
    return {"status": "CHECKED", "pending_starts": starts, "follow_ups": follow_ups, "leases": leases,
            "approvals": approvals}


def check_approvals(now: datetime, playbook: str) -> list[dict[str, Any]]:
    """Unanswered approvals of `playbook`: reminded at half their window, lapsed with a notice at its end."""
    from functions.core.escalation import NOWHERE, sweep_playbook

    wiring, cat = _wiring(), catalog()
    return sweep_playbook(playbook, now, wiring["approvals"], wiring["audit"], wiring["notifier"],
                          wiring["escalation"] or NOWHERE, cat.prefix, cat.env)


def check_pending_starts(now: datetime, playbook: str) -> list[dict[str, Any]]:
    """Restarts of `playbook` waiting for their stop to finish (functions.core.pending): made, or handed over."""
    from functions.core.pending import PendingStart
    from functions.core.playbook import finish_pending_start

    checked = []
    for raw in _wiring()["breaker"].pending_starts():
        pending = PendingStart.model_validate(raw)
        if pending.playbook != playbook:
            continue
        result = finish_pending_start(pending, now, _context(at=now))
        outcome = result.pop("outcome", None)
        if outcome is not None:
            _publish_metrics(outcome)
        checked.append(result)
    return checked


def check_follow_ups(now: datetime, playbook: Playbook) -> list[dict[str, Any]]:
    from functions.core.models import FollowUp
    from functions.core.playbook import check_follow_up

    checked = []
    for raw in _wiring()["follow_ups"].watching(playbook.name):
        follow_up = FollowUp.model_validate(raw)
        result = check_follow_up(playbook, follow_up, now, _context(at=now))
        outcome = result.pop("outcome", None)
        if outcome is not None:
            _publish_metrics(outcome)
        checked.append(result)
    return checked


def check_leases(now: datetime, playbook: str) -> list[dict[str, Any]]:
    """The scheduled lease check: give back each scale-up of `playbook` whose alarm stayed OK long enough."""
    from functions.core.leases import Lease, LeaseRevert, due, lease_incident
    from functions.core.models import ActionStatus

    wiring, cat = _wiring(), catalog()
    checked = []
    for raw in wiring["breaker"].leases():
        lease = Lease.model_validate(raw)
        if lease.playbook != playbook:
            continue
        state, since = wiring["ports"].alarms.state_since(lease.alarm_name)
        reason = due(lease, state, since, now, cat.guardrails.lease_minutes)
        if reason is None:
            checked.append({"target": lease.target, "status": "KEPT", "alarm": state})
            continue
        incident = lease_incident(lease, now, cat)
        outcome = run(LeaseRevert(lease, reason), incident, _context(incident))
        if outcome.results and all(r.status is ActionStatus.SUCCEEDED for r in outcome.results):
            wiring["breaker"].clear_lease(lease.target)
        _publish_metrics(outcome)
        checked.append({"target": lease.target, "status": outcome.status.value, "summary": outcome.summary})
    return checked


def _duplicate(incident: Incident, reason: str, first: dict[str, Any] | None = None) -> dict[str, Any]:
    _wiring()["audit"].record(incident.id, "duplicate", {"reason": reason})
    logger.info("duplicate", extra={"incident": incident.id, "reason": reason})
    return {"status": "DUPLICATE", "reason": reason, "incident": incident.id,
            "first_status": (first or {}).get("status")}


def reset() -> None:
    """Forget everything built at cold start (a new environment, as a fresh Lambda container would)."""
    for cached in (settings, catalog, _wiring, _idempotent_runner):
        cached.cache_clear()
