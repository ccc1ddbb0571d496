"""run() end to end with the real consumer-lag playbook over in-memory fakes of every port."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.core.catalog import Catalog, parse_catalog
from functions.core.models import (
    Action,
    ActionStatus,
    Incident,
    OutcomeStatus,
    Plan,
    Verdict,
    Verification,
    VerificationStatus,
)
from functions.core.playbook import Context, run
from functions.playbooks.msk_consumer_lag import MskConsumerLag, task_slots
from tests.unit.conftest import NOW, lag_incident
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeKillSwitch, FakeNotifier, FakePorts, FixedClock

PLAYBOOK = MskConsumerLag()
TARGET = "glue:orders-stream"


@pytest.fixture
def ctx(catalog: Catalog, ports: FakePorts, kill_switch: FakeKillSwitch, breaker: FakeBreaker,
        audit: FakeAudit, notifier: FakeNotifier, clock: FixedClock) -> Context:
    return Context(catalog=catalog, ports=ports, kill_switch=kill_switch, breaker=breaker, audit=audit,
                   notifier=notifier, clock=clock)


def only_message(notifier: FakeNotifier) -> tuple[str, str]:
    assert len(notifier.published) == 1
    return notifier.published[0]


def test_a_stopped_streaming_job_is_restarted(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                              notifier: FakeNotifier, breaker: FakeBreaker) -> None:
    failed = ports.glue.add_run("orders-stream", "FAILED", error="OutOfMemoryError: Java heap space")
    incident = lag_incident()

    outcome = run(PLAYBOOK, incident, ctx)

    (new_run,) = ports.glue.active_runs("orders-stream")
    assert new_run.state == "RUNNING" and new_run.id != failed
    assert outcome.status is OutcomeStatus.ACTED
    assert outcome.verification.status is VerificationStatus.INCONCLUSIVE
    assert [d.verdict for d in outcome.decisions] == [Verdict.ALLOWED]
    assert outcome.results[0].changed == {"run_id": new_run.id}
    assert audit.kinds(incident.id) == ["incident", "plan", "decision", "action", "outcome"]
    assert audit.of_kind("decision")[0]["verdict"] == "ALLOWED"
    assert audit.of_kind("action")[0]["status"] == "SUCCEEDED"
    assert audit.of_kind("outcome")[0]["status"] == "ACTED"
    assert breaker.items[TARGET].last_action_at == NOW
    subject, message = only_message(notifier)
    assert subject == "[remedy-dev] ACTED: msk_consumer_lag on glue:orders-stream"
    assert f"WHAT FIRED  {incident.alarm_name}: OK -> ALARM at 2026-11-25 10:05:00Z" in message
    assert f"streaming job orders-stream is not running (last run {failed} FAILED: OutOfMemoryError" in message
    assert f"SUCCEEDED glue.restart_streaming_job: started run {new_run.id}" in message
    assert (f"HOW TO UNDO\n  aws glue batch-stop-job-run --job-name orders-stream --job-run-ids {new_run.id}"
            in message)
    assert f"INCIDENT    {incident.id}" in message


def test_a_job_never_run_is_started(ctx: Context, ports: FakePorts, notifier: FakeNotifier) -> None:
    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert outcome.status is OutcomeStatus.ACTED
    assert len(ports.glue.active_runs("orders-stream")) == 1
    assert "(no run on record)" in only_message(notifier)[1]


def test_a_running_job_short_of_task_slots_is_scaled_by_the_catalog_step(ctx: Context, ports: FakePorts,
                                                                         audit: FakeAudit, breaker: FakeBreaker,
                                                                         notifier: FakeNotifier) -> None:
    old = ports.glue.add_run("orders-stream", "RUNNING", workers=2, worker_type="G.1X")

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.run_by_id("orders-stream", old).state == "STOPPED"
    (new_run,) = ports.glue.active_runs("orders-stream")
    assert (new_run.workers, new_run.worker_type) == (4, "G.1X")
    assert outcome.status is OutcomeStatus.ACTED
    changed = outcome.results[0].changed
    assert {k: changed[k] for k in ("run_id", "stopped", "workers")} == {
        "run_id": new_run.id, "stopped": [old], "workers": {"from": 2, "to": 4}}
    assert audit.kinds() == ["incident", "plan", "decision", "action", "lease", "outcome"]
    # The scale-up is a lease: it records how to give the capacity back.
    (lease,) = breaker.leases()
    assert lease["target"] == "glue:orders-stream"
    assert lease["revert"]["params"] == {"job_name": "orders-stream", "from_workers": 4, "to_workers": 2,
                                         "worker_type": "G.1X"}
    _, message = only_message(notifier)
    assert "topic orders has 12 partitions; the job has 4 task slots" in message
    assert f"stopped {old}; started run {new_run.id} with 4 workers" in message
    assert ("restart with 2 workers: aws glue start-job-run --job-name orders-stream --number-of-workers 2 "
            "--worker-type G.1X") in message


def test_a_job_with_a_slot_per_partition_is_left_alone(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                       breaker: FakeBreaker, notifier: FakeNotifier) -> None:
    running = ports.glue.add_run("orders-stream", "RUNNING", workers=4, worker_type="G.1X")
    assert task_slots(4, "G.1X") == 12

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream")[0].id == running
    assert outcome.status is OutcomeStatus.NO_ACTION
    assert outcome.plan.actions == [] and outcome.decisions == []
    assert "Add partitions to orders" in outcome.summary
    assert audit.kinds() == ["incident", "plan", "outcome"]
    assert breaker.items == {}
    subject, message = only_message(notifier)
    assert subject.startswith("[remedy-dev] NO_ACTION:")
    assert "note orders-stream already has a task slot per partition of orders" in message


def test_a_job_at_its_cap_is_escalated_to_a_person(raw_catalog: dict[str, Any], ctx: Context, ports: FakePorts,
                                                notifier: FakeNotifier) -> None:
    raw_catalog["msk"]["topics"][0]["partitions"] = 120  # 10 x G.1X = 36 slots: still short, but at the cap
    ctx.catalog = parse_catalog(raw_catalog)
    running = ports.glue.add_run("orders-stream", "RUNNING", workers=10, worker_type="G.1X")

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert [r.id for r in ports.glue.active_runs("orders-stream")] == [running]
    assert outcome.status is OutcomeStatus.ESCALATED  # software has nothing left: a person must act
    assert only_message(notifier)[0].startswith("[remedy-dev] ESCALATED:")
    assert outcome.plan.recommendations == [
        "orders-stream is at its cap of 10 workers: raise max_workers in the catalog or use the scaling "
        "procedure (bigger worker type); nothing was changed."]
    assert "is at its cap of 10 workers" in only_message(notifier)[1]


def test_the_scale_step_stops_at_the_jobs_maximum(raw_catalog: dict[str, Any], ctx: Context,
                                                  ports: FakePorts) -> None:
    raw_catalog["msk"]["topics"][0]["partitions"] = 120
    ctx.catalog = parse_catalog(raw_catalog)
    ports.glue.add_run("orders-stream", "RUNNING", workers=9, worker_type="G.1X")

    run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream")[0].workers == 10


def test_a_second_incident_within_cooldown_is_refused_and_said(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                               notifier: FakeNotifier, clock: FixedClock) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    run(PLAYBOOK, lag_incident(), ctx)
    first_run = ports.glue.active_runs("orders-stream")[0]
    ports.glue.stop_runs("orders-stream", [first_run.id])  # it died again
    clock.advance(minutes=10)
    second = lag_incident(at=clock.now())

    outcome = run(PLAYBOOK, second, ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.status is OutcomeStatus.REFUSED
    (decision,) = audit.of_kind("decision", second.id)
    assert (decision["verdict"], decision["rule"]) == ("REFUSED", "cooldown")
    assert audit.kinds(second.id) == ["incident", "plan", "decision", "outcome"]
    subject, message = notifier.published[-1]
    assert subject.startswith("[remedy-dev] REFUSED:")
    assert "NOT DONE\n  glue.restart_streaming_job: REFUSED by cooldown: acted on glue:orders-stream at 10:05:00Z" \
        in message


def test_a_lost_claim_race_is_refused(ctx: Context, ports: FakePorts, breaker: FakeBreaker,
                                      audit: FakeAudit) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    other = NOW - timedelta(seconds=1)
    breaker.before_claim = lambda: breaker.acted(TARGET, other)  # a concurrent remediation won

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.status is OutcomeStatus.REFUSED
    assert (outcome.decisions[0].verdict, outcome.decisions[0].rule) == (Verdict.REFUSED, "cooldown")
    assert audit.of_kind("decision")[0]["reason"] == "another remediation claimed this resource a moment ago"
    assert breaker.items[TARGET].last_action_at == other


def test_an_unwritable_breaker_means_no_action(ctx: Context, ports: FakePorts, breaker: FakeBreaker) -> None:
    ports.glue.add_run("orders-stream", "FAILED")

    def throttled() -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                          "PutItem")

    breaker.before_claim = throttled

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.status is OutcomeStatus.REFUSED
    # Not "cooldown": the refusal names the breaker and the error, so on call knows DynamoDB said no.
    assert (outcome.decisions[0].rule, outcome.decisions[0].reason) == (
        "breaker", "the attempt could not be recorded, so nothing was done "
                   "(ProvisionedThroughputExceededException: An error occurred (ProvisionedThroughputExceededException) "
                   "when calling the PutItem operation: slow)")


def test_an_aws_error_while_acting_escalates_with_its_code(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                           notifier: FakeNotifier, breaker: FakeBreaker) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    ports.glue.start_error = ClientError(
        {"Error": {"Code": "ResourceNumberLimitExceededException", "Message": "Too many DPUs"}}, "StartJobRun")

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert outcome.status is OutcomeStatus.ESCALATED
    assert outcome.verification.status is VerificationStatus.FAILED
    (action,) = audit.of_kind("action")
    assert action["status"] == "FAILED"
    assert action["detail"].startswith("ResourceNumberLimitExceededException: ")
    assert audit.of_kind("outcome")[0]["status"] == "ESCALATED"
    assert TARGET in breaker.items  # the attempt counts against the budget even though it failed
    subject, message = only_message(notifier)
    assert subject.startswith("[remedy-dev] ESCALATED:")
    assert "FAILED glue.restart_streaming_job: ResourceNumberLimitExceededException" in message
    assert "HOW TO UNDO" not in message


def test_a_new_run_that_died_at_once_fails_verification(ctx: Context, ports: FakePorts) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    original_start = ports.glue.start_run

    def start_then_die(name: str, **kwargs: Any) -> str:
        run_id = original_start(name, **kwargs)
        ports.glue.stop_runs(name, [run_id])
        return run_id

    ports.glue.start_run = start_then_die  # type: ignore[method-assign]

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert outcome.verification.status is VerificationStatus.FAILED
    assert "STOPPED" in outcome.verification.detail
    assert outcome.status is OutcomeStatus.ESCALATED


def test_an_error_while_verifying_is_an_outcome_not_a_crash(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                            notifier: FakeNotifier) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    original_recent = ports.glue.recent_runs
    calls: list[str] = []

    def throttled_on_verify(name: str, limit: int = 10) -> Any:
        calls.append(name)
        if len(calls) > 1:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetJobRuns")
        return original_recent(name, limit)

    ports.glue.recent_runs = throttled_on_verify  # type: ignore[method-assign]

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert len(ports.glue.active_runs("orders-stream")) == 1  # the restart happened and is reported
    assert outcome.status is OutcomeStatus.ACTED
    assert outcome.verification.status is VerificationStatus.INCONCLUSIVE
    assert "ThrottlingException" in outcome.verification.detail
    assert audit.kinds() == ["incident", "plan", "decision", "action", "outcome"]
    assert "SUCCEEDED glue.restart_streaming_job" in only_message(notifier)[1]


def test_the_kill_switch_stops_the_restart_and_says_so(ctx: Context, ports: FakePorts, kill_switch: FakeKillSwitch,
                                                       notifier: FakeNotifier, breaker: FakeBreaker) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    kill_switch.on = True

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.status is OutcomeStatus.REFUSED
    assert breaker.items == {}
    assert "REFUSED by kill_switch" in only_message(notifier)[1]


def test_an_unhealthy_upstream_holds_the_restart(ctx: Context, ports: FakePorts) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    ctx.unhealthy = {"msk:retail-msk-dev"}

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.decisions[0].rule == "lineage_hold"


def test_approve_mode_leaves_the_job_and_asks(ctx: Context, raw_catalog: dict[str, Any], ports: FakePorts,
                                              notifier: FakeNotifier) -> None:
    raw_catalog["guardrails"]["playbooks"]["msk_consumer_lag"]["mode"] = "approve"
    ctx.catalog = parse_catalog(raw_catalog)
    ports.glue.add_run("orders-stream", "FAILED")
    incident = lag_incident()

    outcome = run(PLAYBOOK, incident, ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    assert "to approve, run the command above yourself" in only_message(notifier)[1]


def test_dry_run_leaves_the_job_alone(ctx: Context, ports: FakePorts, breaker: FakeBreaker) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    ctx.dry_run = True

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.decisions[0].verdict is Verdict.DRY_RUN
    assert breaker.items == {}


@pytest.mark.parametrize(("state", "status"), [("OK", OutcomeStatus.RECOVERED),
                                             ("INSUFFICIENT_DATA", OutcomeStatus.NO_ACTION)])
def test_an_alarm_leaving_alarm_state_acts_on_nothing(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                      breaker: FakeBreaker, state: str,
                                                      status: OutcomeStatus) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    incident = lag_incident(state=state)

    outcome = run(PLAYBOOK, incident, ctx)

    assert outcome.status is status
    assert outcome.decisions == [] and outcome.results == []
    assert ports.glue.active_runs("orders-stream") == []
    assert breaker.items == {}
    assert audit.kinds(incident.id) == ["incident", "outcome"]
    assert audit.of_kind("outcome")[0]["status"] == status.value


@pytest.mark.parametrize("resource", ["glue:sales-batch", "topic:orders"])
def test_a_lag_alarm_on_something_other_than_a_streaming_job_changes_nothing(
        ctx: Context, ports: FakePorts, notifier: FakeNotifier, resource: str) -> None:
    # Our prefix, our account, a catalog component: parse_alarm_event accepts it. It must not restart
    # a batch job (which needs its partition argument) nor crash on a non-job component.
    ports.glue.add_job("sales-batch")
    ports.glue.add_run("sales-batch", "SUCCEEDED")
    incident: Incident = lag_incident(resource=resource)

    outcome = run(PLAYBOOK, incident, ctx)

    assert ports.glue.active_runs("sales-batch") == []
    assert outcome.status is OutcomeStatus.NO_ACTION
    assert f"{resource} is not a streaming Glue job" in only_message(notifier)[1]


class _TwoRestarts:
    """A plan of two steps, to see that a failed step stops the rest."""

    name = "msk_consumer_lag"

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: Any) -> Plan:
        return Plan(playbook=self.name, actions=[
            Action(name="glue.restart_streaming_job", target=f"glue:{job}", params={"job_name": job}, reason="r")
            for job in ("orders-stream", "customers-stream")])

    def verify(self, incident: Incident, results: list[Any], catalog: Catalog, ports: Any) -> Verification:
        raise AssertionError("nothing to verify after a failed step")


def test_a_failed_step_stops_the_steps_after_it(ctx: Context, ports: FakePorts, audit: FakeAudit) -> None:
    ports.glue.add_run("orders-stream", "RUNNING")  # a second run is refused: ConcurrentRunsExceeded

    outcome = run(_TwoRestarts(), lag_incident(), ctx)

    assert ports.glue.active_runs("customers-stream") == []
    assert [r.status for r in outcome.results] == [ActionStatus.FAILED]
    assert outcome.results[0].detail.startswith("ConcurrentRunsExceededException: ")
    assert outcome.status is OutcomeStatus.ESCALATED
    assert audit.kinds().count("action") == 1


def test_an_aws_error_during_diagnosis_escalates_to_a_person(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                             notifier: FakeNotifier) -> None:
    def denied(name: str, limit: int = 10) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetJobRuns")

    ports.glue.recent_runs = denied  # type: ignore[method-assign]

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert outcome.status is OutcomeStatus.ESCALATED
    assert outcome.summary == "diagnosis failed: AccessDeniedException: " + outcome.summary.split(": ", 2)[2]
    assert ports.glue.active_runs("orders-stream") == []
    assert audit.kinds() == ["incident", "outcome"]
    subject, message = only_message(notifier)
    assert "ESCALATED" in subject and "AccessDeniedException" in message


def test_ok_counts_as_recovery_only_when_it_came_after_the_incident(ctx: Context, ports: FakePorts) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    incident = lag_incident()
    # The alarm reads OK, but it has been OK since an hour before this ALARM: it never saw this lag (a replayed
    # or stale event), so the restart is not verified yet.
    ports.alarms.states[incident.alarm_name] = "OK"
    ports.alarms.since[incident.alarm_name] = incident.changed_at - timedelta(hours=1)

    stale = run(PLAYBOOK, incident, ctx)

    assert stale.verification.status is VerificationStatus.INCONCLUSIVE
    assert stale.status is OutcomeStatus.ACTED

    # The same check once the alarm went OK after the incident: the lag is back under the threshold.
    ports.alarms.since[incident.alarm_name] = incident.changed_at + timedelta(minutes=7)
    verification = PLAYBOOK.verify(incident, stale.results, ctx.catalog, ports)
    assert verification.status is VerificationStatus.VERIFIED
    assert "is OK" in verification.detail


@pytest.mark.parametrize("state", ["MAINTENANCE", "REBOOTING_BROKER", "HEALING", None])
def test_an_msk_cluster_that_is_not_active_holds_the_restart(ctx: Context, ports: FakePorts, state: str | None,
                                                             audit: FakeAudit) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    ports.kafka.state = state

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []  # a consumer restart cannot fix the brokers
    [finding] = [f for f in outcome.plan.findings if f.check == "MSK cluster state"]
    assert (finding.ok, finding.component) == (False, "msk:retail-msk-dev")
    assert (outcome.decisions[0].verdict, outcome.decisions[0].rule) == (Verdict.REFUSED, "lineage_hold")
    assert "msk:retail-msk-dev" in audit.of_kind("decision")[0]["reason"]


def test_an_active_msk_cluster_is_a_finding_and_holds_nothing(ctx: Context, ports: FakePorts) -> None:
    ports.glue.add_run("orders-stream", "FAILED")

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert outcome.plan.findings[0].detail == "MSK cluster retail-msk-dev is ACTIVE"
    assert len(ports.glue.active_runs("orders-stream")) == 1


# Runbook, Glue Job Failures 5: restart only on a transient error. The lag playbook reads the stopped stream's last
# run: a known permanent cause is not restarted (it would fail the same way), a transient or unknown one is.

@pytest.mark.parametrize("error", [
    "Lost executors: connection to broker b-1 reset",
    "An error occurred (ThrottlingException) when calling the GetTable operation: Rate exceeded",
    "java.lang.OutOfMemoryError: Java heap space",
])
def test_a_stream_whose_last_run_failed_of_a_transient_error_is_restarted(ctx: Context, ports: FakePorts,
                                                                          breaker: FakeBreaker, error: str) -> None:
    failed = ports.glue.add_run("orders-stream", "FAILED", error=error)

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    (new_run,) = ports.glue.active_runs("orders-stream")
    assert new_run.id != failed
    assert outcome.status is OutcomeStatus.ACTED
    assert [(d.action.name, d.verdict) for d in outcome.decisions] == [("glue.restart_streaming_job",
                                                                         Verdict.ALLOWED)]
    assert TARGET in breaker.items


@pytest.mark.parametrize(("error", "label"), [
    ("An error occurred (AccessDenied) when calling the PutObject operation: Access Denied", "access denied"),
    ("SyntaxError: invalid syntax (orders_stream.py, line 12)", "script error"),
    ("AnalysisException: cannot resolve 'order_ts' given input columns: [id, amount]", "schema error"),
])
def test_a_stream_whose_last_run_failed_of_a_permanent_cause_is_not_restarted_and_the_outcome_says_why(
        ctx: Context, ports: FakePorts, audit: FakeAudit, breaker: FakeBreaker, notifier: FakeNotifier,
        error: str, label: str) -> None:
    failed = ports.glue.add_run("orders-stream", "FAILED", error=error)

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []  # no new run: it would fail the same way
    assert [r.id for r in ports.glue.runs["orders-stream"]] == [failed]
    assert outcome.status is OutcomeStatus.NO_ACTION
    assert outcome.plan.actions == [] and outcome.decisions == [] and outcome.results == []
    assert f"orders-stream failed ({label}: {error[:40]}" in outcome.summary
    assert "not restarted, a restart would fail the same way" in outcome.summary
    assert "aws glue start-job-run --job-name orders-stream" in outcome.summary
    assert audit.kinds() == ["incident", "plan", "outcome"]
    assert breaker.items == {}
    subject, message = only_message(notifier)
    assert subject == "[remedy-dev] NO_ACTION: msk_consumer_lag on glue:orders-stream"
    assert f"last run {failed} FAILED: {error}" in message


@pytest.mark.parametrize("error", ["", "Job run failed: see the driver log"])
def test_a_stream_whose_last_run_failed_of_an_unknown_cause_is_restarted(ctx: Context, ports: FakePorts,
                                                                         error: str) -> None:
    ports.glue.add_run("orders-stream", "FAILED", error=error)

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert len(ports.glue.active_runs("orders-stream")) == 1
    assert outcome.status is OutcomeStatus.ACTED
    assert [d.action.name for d in outcome.decisions] == ["glue.restart_streaming_job"]
