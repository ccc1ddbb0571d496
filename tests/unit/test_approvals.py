"""Approvals of playbook actions and verification windows, end to end through run(), answer() and
check_follow_up() with the real consumer-lag playbook over in-memory fakes of every port."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from functions.core.approvals import approval_id, parse_answer
from functions.core.catalog import Catalog, parse_catalog
from functions.core.events import BadEvent
from functions.core.models import Action, FollowUp, OutcomeStatus, Verdict, VerificationStatus
from functions.core.playbook import Context, answer, check_follow_up, run
from functions.playbooks.msk_consumer_lag import MskConsumerLag
from tests.unit.conftest import LAG_ALARM, NOW, lag_incident
from tests.unit.fakes import (
    FakeApprovals,
    FakeAudit,
    FakeBreaker,
    FakeFollowUps,
    FakeKillSwitch,
    FakeNotifier,
    FakePorts,
    FixedClock,
)

PLAYBOOK = MskConsumerLag()
JOB = "orders-stream"


@pytest.fixture
def approvals() -> FakeApprovals:
    return FakeApprovals()


@pytest.fixture
def follow_ups() -> FakeFollowUps:
    return FakeFollowUps()


def with_mode(raw: dict[str, Any], mode: str) -> Catalog:
    raw["guardrails"]["playbooks"]["msk_consumer_lag"]["mode"] = mode
    return parse_catalog(raw, "bent")


@pytest.fixture
def ctx(raw_catalog: dict[str, Any], ports: FakePorts, kill_switch: FakeKillSwitch, breaker: FakeBreaker,
        audit: FakeAudit, notifier: FakeNotifier, clock: FixedClock, approvals: FakeApprovals,
        follow_ups: FakeFollowUps) -> Context:
    return Context(catalog=with_mode(raw_catalog, "approve"), ports=ports, kill_switch=kill_switch, breaker=breaker,
                   audit=audit, notifier=notifier, clock=clock, approvals=approvals, follow_ups=follow_ups)


def ask_for_scale_up(ctx: Context, ports: FakePorts) -> str:
    """The job runs short of task slots: 2 -> 4 workers waits for a person (mode approve)."""
    ports.glue.add_run(JOB, "RUNNING", workers=2)
    outcome = run(PLAYBOOK, lag_incident(), ctx)
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    (pending,) = outcome.pending
    return pending.approval_id


def test_an_action_awaiting_approval_is_recorded_with_its_id_and_the_command_that_answers_it(
        ctx: Context, ports: FakePorts, approvals: FakeApprovals, audit: FakeAudit, notifier: FakeNotifier) -> None:
    ident = ask_for_scale_up(ctx, ports)

    incident = lag_incident()
    assert ident == approval_id(incident.id, Action.model_validate(approvals.items[ident]["action"]))
    stored = approvals.items[ident]
    assert stored["status"] == "PENDING" and stored["action"]["params"] == {
        "job_name": JOB, "from_workers": 2, "to_workers": 4, "worker_type": "G.1X"}
    assert datetime.fromisoformat(stored["expires_at"]) == NOW + timedelta(minutes=60)  # the default window
    assert audit.kinds(incident.id) == ["incident", "plan", "decision", "approval_requested", "outcome"]
    assert audit.of_kind("outcome")[0]["awaiting_approval"][0]["approval_id"] == ident
    (_, message), = notifier.published
    assert f"    approve: remedy incident approve {ident} --env dev --reason TEXT   (until 2026-11-25 11:05Z)" \
        in message
    assert f"    reject:  remedy incident reject {ident} --env dev --reason TEXT" in message
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [2]  # nothing done yet


def test_approved_the_exact_action_is_carried_out_once_and_recorded_with_who(
        ctx: Context, ports: FakePorts, approvals: FakeApprovals, audit: FakeAudit, notifier: FakeNotifier,
        follow_ups: FakeFollowUps, clock: FixedClock) -> None:
    ident = ask_for_scale_up(ctx, ports)
    clock.advance(minutes=5)

    result = answer(PLAYBOOK, ident, True, "alice", "month-end volume", ctx)

    assert result["answer"] == "APPROVED"
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [4]  # restarted with 4 workers
    approval_record = audit.of_kind("approval")[0]
    assert approval_record["text"] == "APPROVED by alice (month-end volume)"
    assert [d["verdict"] for d in audit.of_kind("decision")] == ["AWAITING_APPROVAL", "ALLOWED"]
    outcome = result["outcome"]
    assert outcome["status"] == "ACTED" and outcome["answer"] == "APPROVED by alice (month-end volume)"
    assert approvals.items[ident]["status"] == "APPROVED" and approvals.items[ident]["answered_by"] == "alice"
    # The lag alarm is still in ALARM: a verification window the scheduled check looks at again.
    (window,) = follow_ups.watching("msk_consumer_lag")
    assert window["key"] == f"{lag_incident().id}#{ident}"
    assert datetime.fromisoformat(window["due_by"]) == NOW + timedelta(minutes=35)
    subject, message = notifier.published[-1]
    assert subject == "[remedy-dev] ACTED: msk_consumer_lag on glue:orders-stream"
    assert "ANSWER      APPROVED by alice (month-end volume)" in message
    assert "checked again until 10:40Z (verification window, acted at 10:10Z)" in message

    again = answer(PLAYBOOK, ident, True, "bob", "", ctx)

    assert again["answer"] == "REFUSED"
    assert again["reason"] == (f"approval {ident} was APPROVED by alice (month-end volume) at 2026-11-25 10:10Z: "
                               f"it is answered once")
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [4]
    assert len([r for r in ports.glue.runs[JOB]]) == 2  # the original run and the one scaled run


def test_two_answers_at_once_carry_it_out_once(ctx: Context, ports: FakePorts, approvals: FakeApprovals) -> None:
    ident = ask_for_scale_up(ctx, ports)

    def bob_was_faster() -> None:
        approvals.before_answer = None
        approvals.answer(ident, "APPROVED", "bob", "", NOW)

    approvals.before_answer = bob_was_faster
    result = answer(PLAYBOOK, ident, True, "alice", "", ctx)

    assert result["answer"] == "REFUSED"
    assert result["reason"].startswith(f"answered a moment ago: approval {ident} was APPROVED by bob")
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [2]  # alice's answer did nothing


def test_an_expired_approval_is_refused_and_recorded_expired(ctx: Context, ports: FakePorts,
                                                             approvals: FakeApprovals, audit: FakeAudit,
                                                             clock: FixedClock) -> None:
    ident = ask_for_scale_up(ctx, ports)
    clock.advance(minutes=61)

    result = answer(PLAYBOOK, ident, True, "alice", "", ctx)

    assert result["answer"] == "REFUSED"
    assert result["reason"] == (f"approval {ident} expired at 2026-11-25 11:05Z (window of 60 min): nothing was "
                                f"done; if the problem is still there its alarm asks again")
    assert approvals.items[ident]["status"] == "EXPIRED"
    assert [a["decision"] for a in audit.of_kind("approval")] == ["EXPIRED"]
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [2]
    assert answer(PLAYBOOK, ident, True, "alice", "", ctx)["reason"].startswith(f"approval {ident} expired at")


def test_rejected_nothing_is_done_and_who_said_no_is_recorded(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                              notifier: FakeNotifier) -> None:
    ident = ask_for_scale_up(ctx, ports)

    result = answer(PLAYBOOK, ident, False, "bob", "partitions first", ctx)

    assert result["answer"] == "REJECTED" and result["outcome"]["status"] == "REJECTED"
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [2]
    assert audit.of_kind("approval")[0]["text"] == "REJECTED by bob (partitions first)"
    assert audit.of_kind("outcome")[-1]["status"] == "REJECTED"
    subject, message = notifier.published[-1]
    assert subject == "[remedy-dev] REJECTED: msk_consumer_lag on glue:orders-stream"
    assert "ANSWER      REJECTED by bob (partitions first)" in message
    assert answer(PLAYBOOK, ident, True, "alice", "", ctx)["answer"] == "REFUSED"


def test_an_approval_meets_the_mode_but_not_the_kill_switch(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                            kill_switch: FakeKillSwitch) -> None:
    ident = ask_for_scale_up(ctx, ports)
    kill_switch.on = True

    result = answer(PLAYBOOK, ident, True, "alice", "", ctx)

    assert result["answer"] == "APPROVED" and result["outcome"]["status"] == "REFUSED"
    assert (audit.of_kind("decision")[-1]["verdict"], audit.of_kind("decision")[-1]["rule"]) == \
        ("REFUSED", "kill_switch")
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [2]


def test_an_approval_meets_the_mode_but_not_the_cooldown(ctx: Context, ports: FakePorts, breaker: FakeBreaker,
                                                         audit: FakeAudit) -> None:
    ident = ask_for_scale_up(ctx, ports)
    breaker.acted(f"glue:{JOB}", NOW - timedelta(minutes=5))  # someone acted on the job meanwhile

    result = answer(PLAYBOOK, ident, True, "alice", "", ctx)

    assert result["outcome"]["status"] == "REFUSED"
    assert audit.of_kind("decision")[-1]["rule"] == "cooldown"
    assert [r.workers for r in ports.glue.active_runs(JOB)] == [2]


def test_an_unknown_approval_is_refused(ctx: Context) -> None:
    result = answer(PLAYBOOK, "ap-0000000000", True, "alice", "", ctx)

    assert result == {"answer": "REFUSED", "approval_id": "ap-0000000000",
                      "reason": "no approval ap-0000000000 is known (the id is in the notification)"}


def test_the_answer_event_is_validated() -> None:
    who = {"by": "alice", "principal": "arn:aws:sts::111111111111:assumed-role/OnCall/alice", "via": "iam"}
    answer = parse_answer({"remedy-approval": {"approval_id": "ap-0123456789", "decision": "approve", **who}})
    assert (answer.by, answer.via) == ("alice", "iam")
    with pytest.raises(BadEvent, match="approval answer: approval_id"):
        parse_answer({"remedy-approval": {"approval_id": "x; rm -rf", "decision": "approve", **who}})
    with pytest.raises(BadEvent, match="approval answer: decision"):
        parse_answer({"remedy-approval": {"approval_id": "ap-0123456789", "decision": "maybe", **who}})
    # Without the identity the answer function verified, nothing is approved (a display name is not one).
    with pytest.raises(BadEvent, match="approval answer: principal"):
        parse_answer({"remedy-approval": {"approval_id": "ap-0123456789", "decision": "approve", "by": "alice",
                                          "via": "iam"}})
    with pytest.raises(BadEvent, match="approval answer: via"):
        parse_answer({"remedy-approval": {"approval_id": "ap-0123456789", "decision": "approve", **who,
                                          "via": "email"}})


# --- verification windows ---------------------------------------------------------------------------------

@pytest.fixture
def auto_ctx(ctx: Context, catalog: Catalog) -> Context:
    ctx.catalog = catalog  # the dev catalog: msk_consumer_lag in auto mode
    return ctx


def restarted(ctx: Context, ports: FakePorts, follow_ups: FakeFollowUps) -> FollowUp:
    ports.glue.add_run(JOB, "FAILED")
    outcome = run(PLAYBOOK, lag_incident(), ctx)
    assert outcome.status is OutcomeStatus.ACTED
    assert outcome.verification.status is VerificationStatus.INCONCLUSIVE
    (raw,) = follow_ups.watching("msk_consumer_lag")
    return FollowUp.model_validate(raw)


def test_the_window_stays_open_while_the_alarm_is_in_alarm_then_verifies(
        auto_ctx: Context, ports: FakePorts, follow_ups: FakeFollowUps, audit: FakeAudit,
        notifier: FakeNotifier) -> None:
    window = restarted(auto_ctx, ports, follow_ups)
    assert (window.acted_at, window.due_by) == (NOW, NOW + timedelta(minutes=30))
    ports.alarms.states[LAG_ALARM] = "ALARM"

    kept = check_follow_up(PLAYBOOK, window, NOW + timedelta(minutes=10), auto_ctx)

    assert kept["status"] == "WATCHING" and follow_ups.status[window.key] == "WATCHING"
    ports.alarms.states[LAG_ALARM] = "OK"

    done = check_follow_up(PLAYBOOK, window, NOW + timedelta(minutes=15), auto_ctx)

    assert (done["status"], done["verification"]) == ("REMEDIATED", "VERIFIED")
    assert follow_ups.status[window.key] == "VERIFIED" and follow_ups.watching("msk_consumer_lag") == []
    (record,) = audit.of_kind("verification")
    assert record["status"] == "VERIFIED" and record["detail"].endswith(
        f"{LAG_ALARM} is OK: the lag is back under 10,000 messages")
    assert audit.of_kind("outcome")[-1]["status"] == "REMEDIATED"
    subject, message = notifier.published[-1]
    assert subject == "[remedy-dev] REMEDIATED: msk_consumer_lag on glue:orders-stream"
    assert "VERIFIED    VERIFIED: run " in message
    # The final verdict is recorded once: a second (redelivered) check of the same window changes nothing.
    again = check_follow_up(PLAYBOOK, window, NOW + timedelta(minutes=16), auto_ctx)
    assert again["status"] == "CLOSED_BEFORE" and len(audit.of_kind("verification")) == 1


def test_not_back_by_the_end_of_the_window_escalates_with_what_was_tried(
        auto_ctx: Context, ports: FakePorts, follow_ups: FakeFollowUps, audit: FakeAudit,
        notifier: FakeNotifier) -> None:
    window = restarted(auto_ctx, ports, follow_ups)
    ports.alarms.states[LAG_ALARM] = "ALARM"

    done = check_follow_up(PLAYBOOK, window, NOW + timedelta(minutes=31), auto_ctx)

    assert (done["status"], done["verification"]) == ("ESCALATED", "INCONCLUSIVE")
    assert follow_ups.status[window.key] == "INCONCLUSIVE"
    (record,) = audit.of_kind("verification")
    assert record["detail"].startswith("verification window over at 10:35Z: run ")
    assert record["tried"].startswith("glue.restart_streaming_job at 10:05Z: started run ")
    subject, message = notifier.published[-1]
    assert subject == "[remedy-dev] ESCALATED: msk_consumer_lag on glue:orders-stream"
    assert "not fixed by what was tried (glue.restart_streaming_job at 10:05Z: started run " in message
    assert "a person takes over" in message and "HOW TO UNDO" in message


def test_a_run_that_died_again_fails_the_window_at_once(auto_ctx: Context, ports: FakePorts,
                                                       follow_ups: FakeFollowUps) -> None:
    window = restarted(auto_ctx, ports, follow_ups)
    ports.glue.stop_runs(JOB, [r.id for r in ports.glue.active_runs(JOB)])

    done = check_follow_up(PLAYBOOK, window, NOW + timedelta(minutes=5), auto_ctx)

    assert (done["status"], done["verification"]) == ("ESCALATED", "FAILED")
    assert follow_ups.status[window.key] == "FAILED"


def test_verified_at_once_opens_no_window(auto_ctx: Context, ports: FakePorts, follow_ups: FakeFollowUps) -> None:
    ports.glue.add_run(JOB, "FAILED")
    ports.alarms.states[LAG_ALARM] = "OK"  # e.g. an approval carried out after the lag had drained

    outcome = run(PLAYBOOK, lag_incident(), auto_ctx)

    assert outcome.status is OutcomeStatus.REMEDIATED and outcome.follow_up is None
    assert follow_ups.items == {}
    assert [d.verdict for d in outcome.decisions] == [Verdict.ALLOWED]
