"""run() with the data_quality playbook over in-memory fakes: what arrived in landing, the upstream job,
the staging quality flags, and the one partition re-run (waiting for a person in approve mode)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.core.catalog import Catalog, parse_catalog
from functions.core.models import Incident, OutcomeStatus, Verdict, VerificationStatus
from functions.core.playbook import Context, run
from functions.playbooks.data_quality import DataQuality
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeKillSwitch, FakeNotifier, FixedClock
from tests.unit.glue_fakes import FakeGlueRuns, GluePorts

PLAYBOOK = DataQuality()
BUCKET = "retail-datalake-dev"
PREFIX = "landing/orders/"
ALARM = f"remedy-dev/landing-freshness/s3:{PREFIX}"
JOB = "sales-batch"
PARTITION = "2026/11/25/09"
COMMAND = ("aws glue start-job-run --job-name sales-batch --arguments "
           "'{\"--job-bookmark-option\":\"job-bookmark-disable\",\"--partition\":\"2026/11/25/09\"}'")


@pytest.fixture
def gports() -> GluePorts:
    glue = FakeGlueRuns()
    for name in ("orders-stream", "customers-stream", "sales-batch", "customer-scd-batch"):
        glue.define(name)
    glue.add_run("orders-stream", "RUNNING", arguments={})
    ports = GluePorts(glue=glue)
    ports.s3.put(BUCKET, f"{PREFIX}2026/11/25/10/part-0001.json", NOW - timedelta(minutes=4))  # data resumed
    return ports


@pytest.fixture
def ctx(catalog: Catalog, gports: GluePorts, kill_switch: FakeKillSwitch, breaker: FakeBreaker, audit: FakeAudit,
        notifier: FakeNotifier, clock: FixedClock) -> Context:
    return Context(catalog=catalog, ports=gports, kill_switch=kill_switch, breaker=breaker, audit=audit,
                   notifier=notifier, clock=clock)


def freshness_incident(prefix: str = PREFIX) -> Incident:
    alarm = f"remedy-dev/landing-freshness/s3:{prefix}"
    return Incident(id=f"{alarm}@2026-11-25T10:05:00.000+0000", alarm_name=alarm, state="ALARM", previous_state="OK",
                    reason="Threshold Crossed: 1 out of the last 1 datapoints [75.0] was greater than 60.0",
                    changed_at=NOW, account="111111111111", region="eu-west-1", playbook="data_quality",
                    resource=f"s3:{prefix}")


def loaded_partition(gports: GluePorts, partition: str = PARTITION, passed: bool | None = False,
                     rules: tuple[str, ...] = ("row_count >= 1000",), state: str = "SUCCEEDED",
                     error: str = "") -> str:
    run_id = gports.glue.add_run(JOB, state, error=error, arguments={"--partition": partition})
    if passed is not None:
        gports.s3.put(BUCKET, f"staging/_quality/{JOB}/{partition}.json", NOW,
                      {"passed": passed, "failed_rules": list(rules)})
    return run_id


def auto(raw: dict[str, Any], destructive_ok: bool = True) -> Catalog:
    raw["guardrails"]["playbooks"]["data_quality"].update(
        mode="auto", auto_approve_destructive=["glue.rerun_partition"] if destructive_ok else [])
    return parse_catalog(raw, "bent")


def test_failed_quality_flags_wait_for_approval_with_the_exact_command(ctx: Context, gports: GluePorts,
                                                                       audit: FakeAudit,
                                                                       notifier: FakeNotifier) -> None:
    loaded_partition(gports)
    incident = freshness_incident()

    outcome = run(PLAYBOOK, incident, ctx)

    assert gports.glue.started(JOB) == []  # the dev catalog's data_quality mode is approve
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    (decision,) = outcome.decisions
    assert (decision.verdict, decision.rule, decision.command) == (Verdict.AWAITING_APPROVAL, "mode", COMMAND)
    assert decision.action.params["partition"] == PARTITION
    assert audit.kinds(incident.id) == ["incident", "plan", "decision", "outcome"]
    (subject, message), = notifier.published
    assert subject == "[remedy-dev] AWAITING_APPROVAL: data_quality on s3:landing/orders/"
    assert "ok  newest object s3://retail-datalake-dev/landing/orders/2026/11/25/10/part-0001.json" in message
    assert "ok  orders-stream is RUNNING" in message
    assert ("BAD sales-batch partition 2026/11/25/09: quality flags FAILED (row_count >= 1000) "
            "(staging/_quality/sales-batch/2026/11/25/09.json)") in message
    assert f"WAITING FOR YOU\n  glue.rerun_partition: {COMMAND}" in message
    assert "to approve, run the command above yourself" in message and incident.id in message


def test_in_auto_mode_the_destructive_rerun_still_waits_unless_the_catalog_allows_it(
        raw_catalog: dict[str, Any], ctx: Context, gports: GluePorts) -> None:
    ctx.catalog = auto(raw_catalog, destructive_ok=False)
    loaded_partition(gports)

    outcome = run(PLAYBOOK, freshness_incident(), ctx)

    assert gports.glue.started(JOB) == []
    assert (outcome.decisions[0].verdict, outcome.decisions[0].rule) == (Verdict.AWAITING_APPROVAL, "destructive")


def test_allowed_it_reruns_that_partition_only(raw_catalog: dict[str, Any], ctx: Context, gports: GluePorts) -> None:
    ctx.catalog = auto(raw_catalog)
    loaded_partition(gports, "2026/11/25/08", passed=True, rules=())
    loaded_partition(gports)

    outcome = run(PLAYBOOK, freshness_incident(), ctx)

    (new,) = gports.glue.started(JOB)
    assert new.arguments == {"--partition": PARTITION, "--job-bookmark-option": "job-bookmark-disable"}
    # RUNNING is not the data quality it was for: verified once the run SUCCEEDED and the flags pass.
    assert outcome.status is OutcomeStatus.ACTED
    assert outcome.verification.status is VerificationStatus.INCONCLUSIVE


@pytest.mark.parametrize(("passed", "expected"), [(True, VerificationStatus.VERIFIED),
                                                  (False, VerificationStatus.FAILED)])
def test_a_rerun_is_verified_by_the_partitions_quality_flags(raw_catalog: dict[str, Any], ctx: Context,
                                                             gports: GluePorts, passed: bool,
                                                             expected: VerificationStatus) -> None:
    ctx.catalog = auto(raw_catalog)
    loaded_partition(gports)
    gports.glue.start_state = "SUCCEEDED"
    outcome = run(PLAYBOOK, freshness_incident(), ctx)
    (new,) = gports.glue.started(JOB)
    gports.s3.put(BUCKET, f"staging/_quality/{JOB}/{PARTITION}.json", NOW,  # what the re-run wrote
                  {"passed": passed, "failed_rules": [] if passed else ["row_count >= 1000 (got 12)"]})

    verification = PLAYBOOK.verify(outcome.incident, outcome.results, ctx.catalog, gports)

    assert verification.status is expected
    assert verification.detail == (f"run {new.id} of {JOB} SUCCEEDED; quality flags of partition {PARTITION} passed"
                                   if passed else
                                   f"run {new.id} of {JOB} SUCCEEDED, but the quality flags of partition "
                                   f"{PARTITION} still fail (row_count >= 1000 (got 12); "
                                   f"staging/_quality/{JOB}/{PARTITION}.json)")


def test_a_transient_batch_failure_is_rerun_a_permanent_one_is_not(raw_catalog: dict[str, Any], ctx: Context,
                                                                   gports: GluePorts) -> None:
    ctx.catalog = auto(raw_catalog)
    loaded_partition(gports, "2026/11/25/08", passed=None, state="FAILED", error="NameError: name 'x'")
    loaded_partition(gports, PARTITION, passed=None, state="FAILED", error="ThrottlingException: Rate exceeded")

    outcome = run(PLAYBOOK, freshness_incident(), ctx)

    (new,) = gports.glue.started(JOB)
    assert new.arguments["--partition"] == PARTITION
    assert any("partition 2026/11/25/08 of sales-batch failed (script error): fix it first" in r
               for r in outcome.plan.recommendations)


def test_a_stopped_upstream_streaming_job_is_left_to_the_lag_playbook(ctx: Context, gports: GluePorts,
                                                                      audit: FakeAudit) -> None:
    gports.glue.stop_runs("orders-stream", [r.id for r in gports.glue.active_runs("orders-stream")])
    loaded_partition(gports)

    outcome = run(PLAYBOOK, freshness_incident(), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.NO_ACTION and outcome.decisions == []
    assert "the msk_consumer_lag playbook restarts it (alarm remedy-dev/consumer-lag/glue:orders-stream)" in \
        outcome.summary
    (upstream,) = [f for f in outcome.plan.findings if f.check == "upstream streaming job"]
    assert (upstream.ok, upstream.component) == (False, "glue:orders-stream")


def test_no_source_data_means_nothing_to_rerun(ctx: Context, gports: GluePorts) -> None:
    gports.s3.objects.clear()
    gports.s3.put(BUCKET, f"{PREFIX}2026/11/25/07/part-0000.json", NOW - timedelta(hours=3))
    loaded_partition(gports)

    outcome = run(PLAYBOOK, freshness_incident(), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.NO_ACTION
    assert "source data did not arrive" in outcome.summary and "topic orders" in outcome.summary
    # One listing, from the start of the freshness window (keys are laid out by hour).
    assert gports.s3.listings == [(BUCKET, PREFIX, f"{PREFIX}2026/11/25/09")]


def quality_incident(prefix: str = PREFIX) -> Incident:
    alarm = f"remedy-dev/quality-check-failures/s3:{prefix}"
    return Incident(id=f"{alarm}@2026-11-25T10:05:00.000+0000", alarm_name=alarm, state="ALARM", previous_state="OK",
                    reason="Threshold Crossed: 1 out of the last 1 datapoints [1.0] was greater than 0.0",
                    changed_at=NOW, account="111111111111", region="eu-west-1", playbook="data_quality",
                    resource=f"s3:{prefix}")


def test_the_quality_check_alarm_proposes_the_failed_partitions_rerun(ctx: Context, gports: GluePorts,
                                                                      notifier: FakeNotifier) -> None:
    loaded_partition(gports)

    outcome = run(PLAYBOOK, quality_incident(), ctx)

    assert gports.glue.started(JOB) == []  # approve mode: waits for a person
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    (decision,) = outcome.decisions
    assert (decision.verdict, decision.command, decision.action.params["partition"]) == (
        Verdict.AWAITING_APPROVAL, COMMAND, PARTITION)
    assert decision.action.reason.startswith(f"partition {PARTITION} of {JOB}: its quality flags failed")
    (subject, _), = notifier.published
    assert subject == "[remedy-dev] AWAITING_APPROVAL: data_quality on s3:landing/orders/"


def test_on_the_quality_check_alarm_a_quiet_landing_hour_does_not_stop_the_rerun(ctx: Context,
                                                                                  gports: GluePorts) -> None:
    gports.s3.objects.clear()  # nothing landed within the freshness window: the failed partition landed before
    loaded_partition(gports)

    outcome = run(PLAYBOOK, quality_incident(), ctx)

    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    assert next((f.check, f.ok) for f in outcome.plan.findings) == ("source data in landing", False)


def test_on_the_quality_check_alarm_a_stopped_stream_holds_the_rerun_by_the_lineage(ctx: Context,
                                                                                    gports: GluePorts) -> None:
    gports.glue.stop_runs("orders-stream", [r.id for r in gports.glue.active_runs("orders-stream")])
    loaded_partition(gports)

    outcome = run(PLAYBOOK, quality_incident(), ctx)

    assert gports.glue.started(JOB) == []
    (decision,) = outcome.decisions  # planned, and held: the stream upstream of the batch job is down
    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "lineage_hold"), decision
    assert "glue:orders-stream" in decision.reason


def test_on_the_quality_check_alarm_flags_passing_by_now_mean_nothing_to_do(ctx: Context, gports: GluePorts) -> None:
    loaded_partition(gports, passed=True, rules=())

    outcome = run(PLAYBOOK, quality_incident(), ctx)

    assert outcome.status is OutcomeStatus.NO_ACTION and outcome.decisions == []
    assert "returns to OK at the probe's next run" in outcome.summary


def test_passing_flags_mean_nothing_to_do(ctx: Context, gports: GluePorts) -> None:
    loaded_partition(gports, passed=True, rules=())

    outcome = run(PLAYBOOK, freshness_incident(), ctx)

    assert outcome.status is OutcomeStatus.NO_ACTION
    assert "nothing to re-run" in outcome.summary


def test_an_append_job_rerun_is_refused_and_the_audit_says_why(raw_catalog: dict[str, Any], ctx: Context,
                                                              gports: GluePorts, audit: FakeAudit) -> None:
    raw_catalog["glue_jobs"][2]["write_mode"] = "append"
    ctx.catalog = auto(raw_catalog)
    loaded_partition(gports)

    outcome = run(PLAYBOOK, freshness_incident(), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.REFUSED
    (decision,) = audit.of_kind("decision")
    assert (decision["verdict"], decision["rule"]) == ("REFUSED", "parameters")
    assert decision["reason"] == ("invalid parameters: unsafe re-run: sales-batch appends to analytics.fact_sales "
                                  "without a job bookmark: a re-run would load partition 2026/11/25/09 into "
                                  "analytics.fact_sales a second time")


def test_a_prefix_that_is_not_a_landing_prefix_changes_nothing(ctx: Context, gports: GluePorts) -> None:
    outcome = run(PLAYBOOK, freshness_incident("curated/"), ctx)

    assert outcome.status is OutcomeStatus.NO_ACTION
    assert "is not a landing prefix of the catalog" in outcome.summary


def test_the_alarms_of_the_incidents_own_component_do_not_hold_its_playbook(catalog: Catalog) -> None:
    """The freshness alarm's composite is on the same component as the alarm that called data_quality: it must
    not hold the re-run downstream of that prefix (functions.core.runtime), while a real upstream cause does."""
    from functions.core.runtime import _unhealthy_components
    from tests.unit.fakes import FakeAlarms

    alarms = FakeAlarms({ALARM: "ALARM", f"remedy-dev/composite-landing-freshness/s3:{PREFIX}": "ALARM",
                         "remedy-dev/msk-offline-partitions/msk:retail-msk-dev": "ALARM",
                         "remedy-dev/consumer-lag/glue:customers-stream": "OK"})

    assert _unhealthy_components(catalog, GluePorts(glue=FakeGlueRuns(), alarms=alarms), ALARM, f"s3:{PREFIX}") == {
        "msk:retail-msk-dev"}
