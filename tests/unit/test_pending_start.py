"""A scale-up of a running streaming job when Glue takes its time to stop the run (as AWS does: BatchStopJobRun
only requests the stop, the run is STOPPING and still counts against MaxConcurrentRuns). The lag playbook
waits for the stop within its invocation (on its clock, nothing slept for real); a stop that takes longer
leaves a pending start that the scheduled checks make, or hand to a person with the command."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.core.catalog import Catalog
from functions.core.models import OutcomeStatus
from functions.core.pending import PendingStart
from functions.core.playbook import Context, finish_pending_start, run
from functions.core.waiting import Budget, poll
from functions.playbooks.msk_consumer_lag import MskConsumerLag
from tests.unit.conftest import NOW, lag_incident
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeGlue, FakeKillSwitch, FakeNotifier, FakePorts, FixedClock

JOB = "orders-stream"
TARGET = f"glue:{JOB}"


def _ctx(catalog: Catalog, stop_seconds: float, seconds_left: int) -> tuple[Context, FakeGlue, FixedClock]:
    clock = FixedClock(NOW)
    glue = FakeGlue(clock=clock, stop_seconds=stop_seconds)
    glue.add_job(JOB, workers=2)
    glue.add_job("customers-stream", workers=2)
    ports = FakePorts(glue=glue, budget=Budget.for_invocation(clock, seconds_left * 1000))
    ctx = Context(catalog=catalog, ports=ports, kill_switch=FakeKillSwitch(), breaker=FakeBreaker(),
                  audit=FakeAudit(), notifier=FakeNotifier(), clock=clock)
    return ctx, glue, clock


def test_a_stop_within_the_invocation_is_waited_for_then_the_run_starts_with_the_new_count(
        catalog: Catalog) -> None:
    ctx, glue, clock = _ctx(catalog, stop_seconds=20, seconds_left=60)
    old = glue.add_run(JOB, "RUNNING", workers=2)

    outcome = run(MskConsumerLag(), lag_incident(), ctx)

    assert outcome.status is OutcomeStatus.ACTED, outcome.summary
    assert glue.run_by_id(JOB, old).state == "STOPPED"
    (new,) = glue.active_runs(JOB)
    assert new.workers == 4
    assert clock.slept == 20  # waited on the invocation's clock, four polls of 5 s
    assert ctx.breaker.pending_starts() == []  # type: ignore[attr-defined]


def test_without_waiting_the_immediate_start_is_refused_as_aws_would(catalog: Catalog) -> None:
    # What the scale-up did before: start right after the stop request. The strict fake refuses it as Glue does.
    _, glue, _ = _ctx(catalog, stop_seconds=20, seconds_left=60)
    old = glue.add_run(JOB, "RUNNING", workers=2)
    glue.stop_runs(JOB, [old])
    with pytest.raises(Exception, match="ConcurrentRunsExceededException"):
        glue.start_run(JOB, workers=4, worker_type="G.1X")


def test_a_slow_stop_leaves_a_pending_start_that_the_scheduled_check_makes(catalog: Catalog) -> None:
    ctx, glue, clock = _ctx(catalog, stop_seconds=120, seconds_left=60)
    old = glue.add_run(JOB, "RUNNING", workers=2)
    incident = lag_incident()

    outcome = run(MskConsumerLag(), incident, ctx)

    assert glue.run_by_id(JOB, old).state == "STOPPING" and glue.active_runs(JOB) == []
    assert clock.slept == 45  # the invocation's minute less the margin kept for recording and reporting
    assert outcome.status is OutcomeStatus.ACTED
    assert "the start with 4 workers is pending" in outcome.results[0].detail
    (raw,) = ctx.breaker.pending_starts()  # type: ignore[attr-defined]
    pending = PendingStart.model_validate(raw)
    assert (pending.target, pending.workers, pending.after) == (TARGET, 4, [old])
    _, told = ctx.notifier.published[-1]  # type: ignore[attr-defined]
    assert "aws glue start-job-run --job-name orders-stream --number-of-workers 4 --worker-type G.1X" in told

    # The first scheduled check comes while the run is still STOPPING: it waits.
    first = finish_pending_start(pending, clock.now(), ctx)
    assert first["status"] == "WAITING" and glue.active_runs(JOB) == []
    clock.advance(minutes=5)
    second = finish_pending_start(pending, clock.now(), ctx)
    assert second["status"] == "STARTED"
    (new,) = glue.active_runs(JOB)
    assert (new.workers, new.worker_type) == (4, "G.1X")
    assert ctx.breaker.pending_starts() == []  # type: ignore[attr-defined]
    subject, message = ctx.notifier.published[-1]  # type: ignore[attr-defined]
    assert subject == "[remedy-dev] ACTED: msk_consumer_lag on glue:orders-stream"
    assert f"started run {new.id} with 4 workers" in message
    assert [p["status"] for p in ctx.audit.of_kind("pending_start", incident.id)[1:]] == ["STARTED"]  # type: ignore[attr-defined]


def test_a_stop_that_never_finishes_is_escalated_with_the_command(catalog: Catalog) -> None:
    ctx, glue, clock = _ctx(catalog, stop_seconds=10_000, seconds_left=60)
    glue.add_run(JOB, "RUNNING", workers=2)
    run(MskConsumerLag(), lag_incident(), ctx)
    pending = PendingStart.model_validate(ctx.breaker.pending_starts()[0])  # type: ignore[attr-defined]

    clock.advance(minutes=31)
    result = finish_pending_start(pending, clock.now(), ctx)

    assert result["status"] == "ESCALATED" and glue.active_runs(JOB) == []
    subject, message = ctx.notifier.published[-1]  # type: ignore[attr-defined]
    assert subject.startswith("[remedy-dev] ESCALATED:")
    assert "still STOPPING 30 min after the stop was requested" in message
    assert "aws glue start-job-run --job-name orders-stream --number-of-workers 4 --worker-type G.1X" in message
    assert ctx.breaker.pending_starts() == []  # type: ignore[attr-defined]


def test_the_kill_switch_holds_the_pending_start_and_says_so(catalog: Catalog) -> None:
    ctx, glue, clock = _ctx(catalog, stop_seconds=120, seconds_left=60)
    glue.add_run(JOB, "RUNNING", workers=2)
    run(MskConsumerLag(), lag_incident(), ctx)
    pending = PendingStart.model_validate(ctx.breaker.pending_starts()[0])  # type: ignore[attr-defined]
    ctx.kill_switch = FakeKillSwitch(on=True)

    clock.advance(minutes=5)
    result = finish_pending_start(pending, clock.now(), ctx)

    assert result["status"] == "ESCALATED" and glue.active_runs(JOB) == []
    assert "kill switch" in ctx.notifier.published[-1][1]  # type: ignore[attr-defined]


def test_a_stream_started_meanwhile_needs_no_pending_start(catalog: Catalog) -> None:
    ctx, glue, clock = _ctx(catalog, stop_seconds=120, seconds_left=60)
    glue.add_run(JOB, "RUNNING", workers=2)
    run(MskConsumerLag(), lag_incident(), ctx)
    pending = PendingStart.model_validate(ctx.breaker.pending_starts()[0])  # type: ignore[attr-defined]
    clock.advance(minutes=3)
    by_hand = glue.start_run(JOB, workers=6, worker_type="G.1X")  # a person was faster

    result = finish_pending_start(pending, clock.now(), ctx)

    assert result["status"] == "ALREADY_RUNNING"
    assert [r.id for r in glue.active_runs(JOB)] == [by_hand]


def test_a_budget_without_time_never_waits() -> None:
    clock = FixedClock(NOW)
    assert poll(Budget(clock), 5, lambda: None) is None
    assert clock.now() == NOW
    budget = Budget.for_invocation(clock, 30_000)
    assert budget.left() == 15 and budget.pause(10) and not budget.pause(10)
    assert clock.now() == NOW + timedelta(seconds=10)
