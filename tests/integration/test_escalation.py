"""Escalation in the sandbox: an unanswered approval reminded at half its window and lapsed with a notice (on
call and the escalation topic), by the playbook's own scheduled check; an event that fails its playbook parked
in the unhandled-events queue, its alarm paging on the emulated AWS/SQS metric, and `remedy dlq redrive`
replaying it once the cause is gone (deleted only then); `remedy incident list/show/report` over the records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from remedy.commands import dlq, incidents
from remedy.gameday.drill import Drill
from sandbox import aws, iam
from sandbox.catalog_variant import catalog_variant
from sandbox.core import Sandbox

pytestmark = pytest.mark.integration

JOB = "orders-stream"
RISING = [800, 6_000, 14_000, 21_000, 30_000]
CHECKS = "msk_consumer_lag-checks"
QUEUE_ALARM = "remedy-dev/unhandled-events/sqs:remedy-dev-unhandled-events"


@pytest.fixture
def approve_mode(sandbox: Sandbox) -> Iterator[Sandbox]:
    with catalog_variant(sandbox, "msk_consumer_lag", mode="approve"):
        yield sandbox


def _alarm_state(sandbox: Sandbox, name: str) -> str:
    return str(sandbox.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def test_unanswered_approval_is_reminded_once_at_half_its_window_then_lapses_with_a_notice(
        approve_mode: Sandbox) -> None:
    d = Drill(approve_mode)
    window = d.catalog.guardrails.playbooks["msk_consumer_lag"].approval_minutes
    d.consumer_lag(JOB, RISING)
    d.fire()
    assert d.outcomes[-1]["status"] == "AWAITING_APPROVAL"
    d.notifications(), d.escalations()  # the question itself

    d.advance(window // 2 - 5)
    d.tick(CHECKS)
    assert d.notifications() == [] and d.audit("approval_reminded") == []  # not half yet

    d.advance(6)
    d.tick(CHECKS)
    (reminder,) = d.notifications()
    assert reminder["subject"].startswith("[remedy-dev] REMINDER: APPROVAL NEEDED: msk_consumer_lag")
    assert "remedy incident approve ap-" in reminder["message"]
    d.advance(5)
    d.tick(CHECKS)
    assert d.notifications() == [] and len(d.audit("approval_reminded")) == 1  # once only
    assert d.escalations() == []  # a reminder pages on call, not the escalation target

    d.advance(window)
    d.tick(CHECKS)
    (notice,) = d.notifications()
    assert "LAPSED" in notice["subject"] and "NOTHING WAS DONE" in notice["message"]
    assert [e["subject"] for e in d.escalations()] == [notice["subject"]]
    (lapsed,) = d.audit("approval_lapsed")
    assert lapsed["payload"]["text"] == "nobody answered: nothing was done"
    assert [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == [d.catalog.glue_job(JOB).min_workers]
    d.advance(5)
    d.tick(CHECKS)
    assert d.notifications() == [] and len(d.audit("approval_lapsed")) == 1

    ident = lapsed["incident_id"]
    rows = incidents.incidents(d.sandbox.client, d.catalog, now=d.now)
    assert {"id": ident, "status": "LAPSED"}.items() <= next(r for r in rows if r["id"] == ident).items()
    assert all(r["id"] != ident for r in incidents.incidents(d.sandbox.client, d.catalog, only_open=True, now=d.now))
    found = incidents.incident_record(d.sandbox.client, d.catalog, ident)
    from remedy import review

    phases = [line.phase for line in review.timeline(found["records"])]
    assert phases[0] == "alarm" and "diagnosis" in phases and "guard" in phases
    texts = [line.text for line in review.timeline(found["records"])]
    assert any(t.startswith("REMINDER sent") for t in texts) and any(t.startswith("LAPSED") for t in texts)
    draft = review.report(ident, found["records"])
    assert draft.startswith(f"# Post-incident review: {ident}") and "| approval | LAPSED" in draft


def test_a_failing_event_reaches_the_queue_pages_and_is_redriven_once_the_cause_is_gone(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.escalations()
    spec = sandbox.function("remedy-dev-msk-consumer-lag")
    d.stop_streaming_job(JOB)
    with aws.inject_error("dynamodb", "PutItem", "AccessDeniedException", "not authorized (a grant lost in a deploy)",
                          callers=[iam.credentials(iam.function_key(spec))["AWS_ACCESS_KEY_ID"]]):
        d.consumer_lag(JOB, [20_000] * 5)
        deliveries = d.fire()
    (failed,) = [i for dl in deliveries for i in dl.invocations if i.error]
    assert failed.attempts == spec.max_retries + 1 and "AccessDeniedException" in (failed.error or "")
    (item,) = dlq.list_messages(sandbox.client, d.catalog)
    assert item["source"] == "lambda on-failure" and item["target"] == spec.arn
    assert item["event"]["detail"]["alarmName"] == "remedy-dev/consumer-lag/glue:orders-stream"

    d.advance(1)
    d.fire()  # the queue's own alarm, on the AWS/SQS metric the sandbox publishes as SQS does
    assert _alarm_state(sandbox, QUEUE_ALARM) == "ALARM"
    assert any(QUEUE_ALARM in p["subject"] for p in d.pages())
    assert any(QUEUE_ALARM in e["subject"] for e in d.escalations())

    (replayed,) = dlq.redrive(sandbox.client, d.catalog, item["id"][:8])
    assert replayed["replayed"] and replayed["status"] == "ACTED", replayed
    assert dlq.list_messages(sandbox.client, d.catalog) == []
    assert [r.get("NumberOfWorkers") is not None for r in d.active_runs(JOB)] == [True]  # restarted
    d.advance(1)
    d.fire()
    assert _alarm_state(sandbox, QUEUE_ALARM) == "OK"


def test_an_event_eventbridge_cannot_deliver_is_a_dead_letter_that_redrive_replays(sandbox: Sandbox) -> None:
    """The playbook's resource policy lost EventBridge's permission (a deploy gone wrong): EventBridge does not
    retry, it sends the event to the rule target's dead-letter queue with RULE_ARN, TARGET_ARN, ERROR_CODE and
    ERROR_MESSAGE (sandbox.eventbridge_targets); `remedy dlq redrive` replays it to the function directly."""
    d = Drill(sandbox)
    spec = sandbox.function("remedy-dev-msk-consumer-lag")
    kept = list(sandbox.deployment.permissions)
    sandbox.deployment.permissions[:] = [
        p for p in kept if not (p.get("Principal") == "events.amazonaws.com"
                                and str(p.get("FunctionName")) in (spec.arn, spec.name))]
    try:
        d.stop_streaming_job(JOB)
        d.consumer_lag(JOB, [20_000] * 5)
        deliveries = d.fire()
    finally:
        sandbox.deployment.permissions[:] = kept
    assert [i for dl in deliveries for i in dl.invocations if i.function == spec.name] == []  # never invoked
    (item,) = dlq.list_messages(sandbox.client, d.catalog)
    assert item["source"] == "eventbridge dlq" and item["target"] == spec.arn, item
    assert item["rule"] == f"arn:aws:events:{d.catalog.region}:{d.catalog.account_id}:rule/remedy-dev-msk_consumer_lag"
    assert item["error"].startswith("NO_PERMISSIONS: EventBridge is not authorized") and item["attempts"] == 0
    assert item["event"]["detail"]["alarmName"] == "remedy-dev/consumer-lag/glue:orders-stream"

    (replayed,) = dlq.redrive(sandbox.client, d.catalog, item["id"])
    assert replayed["replayed"] and replayed["status"] == "ACTED", replayed
    assert dlq.list_messages(sandbox.client, d.catalog) == []
    assert [r.get("NumberOfWorkers") is not None for r in d.active_runs(JOB)] == [True]  # restarted


def test_an_event_that_fails_again_is_kept_in_the_queue(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    spec = sandbox.function("remedy-dev-msk-consumer-lag")
    key = iam.credentials(iam.function_key(spec))["AWS_ACCESS_KEY_ID"]
    d.stop_streaming_job(JOB)
    with aws.inject_error("dynamodb", "PutItem", "AccessDeniedException", "still denied", callers=[key]):
        d.consumer_lag(JOB, [20_000] * 5)
        d.fire()
        (result,) = dlq.redrive(sandbox.client, d.catalog, None)
    assert not result["replayed"] and "failed again" in result["detail"]
    assert [m["id"] for m in dlq.list_messages(sandbox.client, d.catalog)] == [result["id"]]


def test_unknown_ids_and_bad_durations_are_one_line_refusals(sandbox: Sandbox) -> None:
    catalog = sandbox.catalog
    with pytest.raises(incidents.IncidentError, match="no incident 'nope'"):
        incidents.incident_record(sandbox.client, catalog, "nope")
    with pytest.raises(incidents.IncidentError, match="no message 'abc'"):
        dlq.show(sandbox.client, catalog, "abc")
    with pytest.raises(incidents.IncidentError, match="a duration like 90m, 24h"):
        incidents.parse_since("yesterday")
    assert incidents.parse_since("90m").total_seconds() == 5400


def test_a_procedure_approval_nobody_answers_is_reminded_at_half_its_window_then_lapse_pages_escalation(
        sandbox: Sandbox) -> None:
    """The approval step's sweep schedule reminds once at half the window; the heartbeat ends the run and its
    report (APPROVAL_TIMED_OUT) reaches on call and the escalation topic. The sweep judges by its schedule's
    time; the state machine's heartbeat by the sandbox's clock, which the test moves past the window."""
    from datetime import datetime, timedelta

    from functions.core.adapters.clients import Clients
    from functions.procedures import approvals_table_name
    from functions.procedures.adapters import ApprovalTable
    from remedy.gameday.scenarios.procedures import settle, start
    from sandbox import clock

    d = Drill(sandbox)
    d.notifications(), d.escalations()
    # Half an hour, as an on-call approval window is: it lapses only when the clock is moved past it (below).
    window, ident, sweep = 1800, "T-SWEEP-1", [f"{sandbox.catalog.prefix}-approval-sweep"]
    start(sandbox, "scale-redshift", ident, nodes=3, approval_timeout_seconds=window)
    assert settle(sandbox, "scale-redshift", ident)["waiting"]
    table = ApprovalTable(Clients({"dynamodb": sandbox.client("dynamodb")}), approvals_table_name(d.catalog.prefix))
    (pending,) = table.pending(ident)
    asked_at = datetime.fromisoformat(pending["requested_at"])
    assert [n["subject"] for n in d.notifications()] == [f"[remedy-dev] APPROVAL NEEDED: scale-redshift {ident}"]

    def swept(seconds: float) -> list[dict[str, object]]:
        (delivery,) = sandbox.run_schedules(asked_at + timedelta(seconds=seconds), names=sweep)
        (invocation,) = delivery.invocations
        assert invocation.error is None, invocation.error
        return list(invocation.result["approvals"])

    assert swept(window * 0.3) == [] and d.notifications() == []  # not half yet
    assert swept(window * 0.6) == [{"incident_id": ident, "procedure": "scale-redshift", "status": "REMINDED"}]
    (reminder,) = d.notifications()
    assert reminder["subject"] == f"[remedy-dev] REMINDER: APPROVAL NEEDED: scale-redshift {ident}"
    assert f"remedy incident approve {ident}" in reminder["message"]
    assert swept(window * 0.8) == [] and d.notifications() == []  # once only
    assert d.escalations() == []  # a reminder asks on call, it does not page the escalation target
    (audited,) = [r for r in d.audit("approval_reminded") if r["incident_id"] == ident]
    assert audited["payload"]["procedure"] == "scale-redshift"

    assert settle(sandbox, "scale-redshift", ident)["waiting"]  # the window is not over yet
    clock.advance(window)
    ended = settle(sandbox, "scale-redshift", ident, timeout=60, until_end=True)
    assert ended["error"] == "Remedy.ApprovalTimedOut", ended
    subject = f"[remedy-dev] APPROVAL_TIMED_OUT: scale-redshift {ident} at Approval"
    assert [n["subject"] for n in d.notifications()] == [subject]
    assert [e["subject"] for e in d.escalations()] == [subject]
    assert table.pending(ident) == [] and swept(window * 2) == []  # closed: nothing left to remind
