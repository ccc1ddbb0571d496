"""The lake model's batch and Redshift side drives the sandbox (issue 16, "Time"): stale statistics plus a heavy
query raise the Redshift CPU the alarm watches and the service's real ANALYZE brings it down; a corrupted landing
partition fails sales-batch's quality check, the quality-check alarm sees it and the data quality playbook's re-run
waits for approval, then passes. The service's timelines only (the game day scenarios run both): a few seconds
each."""

from __future__ import annotations

import pytest

from remedy.gameday.batch import FailedQuality, RedshiftCpu, corrupted_partition, stale_statistics
from remedy.gameday.drill import Drill
from remedy.gameday.scenarios.lake_batch import BATCH, SLACK_MINUTES, STREAM, TABLE, _at_minute_of_hour
from remedy.gameday.scenarios.redshift import cluster
from remedy.gameday.timeline import run_timeline
from sandbox.catalog_variant import catalog_variant
from sandbox.core import Sandbox
from sandbox.redshift_wiring import stats_off

pytestmark = [pytest.mark.integration, pytest.mark.drill]


def test_stale_statistics_raise_cpu_past_the_alarm_and_the_playbooks_analyze_brings_it_down(
        sandbox: Sandbox) -> None:
    sandbox.reset()
    d = Drill(sandbox)
    standin = cluster(d)
    _at_minute_of_hour(d, 5)
    watch = RedshiftCpu()
    with catalog_variant(sandbox, "redshift_performance", mode="auto"):
        timeline = run_timeline(d, "stale", STREAM, stale_statistics(watch, TABLE, hours=6, query_minutes=240),
                                watch=watch, max_minutes=45, settle_minutes=3)
    f = timeline.figures
    assert f is not None and f.peak is not None and f.peak > timeline.threshold
    assert f.detected_by == "alarm" and f.floor_detect is not None and f.detect is not None
    assert f.detect <= f.floor_detect + SLACK_MINUTES
    analyzed = [r["payload"]["changed"].get("tables") for r in sandbox.audit() if r["kind"] == "action"]
    assert analyzed == [["analytics.fact_sales"]]  # exactly the stale table, once
    assert (stats_off(standin, "analytics", "fact_sales") or 0.0) < d.catalog.thresholds.stats_off_percent
    assert f.first_action is not None and f.recover is not None and f.recover <= f.first_action + 1


def test_a_corrupted_partition_trips_the_quality_alarm_and_the_approved_rerun_over_replayed_data_passes(
        sandbox: Sandbox) -> None:
    sandbox.reset()
    d = Drill(sandbox)
    _at_minute_of_hour(d, 55)
    watch = FailedQuality(BATCH, approval_minutes=2)
    timeline = run_timeline(d, "corrupt", STREAM, corrupted_partition(watch, STREAM, share=0.3, minutes=3),
                            watch=watch, max_minutes=60, settle_minutes=5)
    f = timeline.figures
    assert f is not None
    [corrupt] = {p for _, _, p, _ in watch.batch.adopted}
    flags = sandbox.client("s3").get_object(Bucket=d.catalog.s3.name, Key=d.catalog.s3.quality_flags_key(
        BATCH, corrupt))["Body"].read()
    assert b'"passed": true' in flags  # the re-run wrote the partition's flags again, over the replayed records
    assert f.detected_by == "alarm" and f.floor_detect is not None and f.detect is not None
    assert f.detect <= f.floor_detect + SLACK_MINUTES
    decisions = [r["payload"] for r in sandbox.audit() if r["kind"] == "decision"]
    assert [(x["verdict"], x["action"]["params"]["partition"]) for x in decisions] == [
        ("AWAITING_APPROVAL", corrupt), ("ALLOWED", corrupt)]
    assert watch.told_at is not None and watch.approved_at == watch.told_at + 2 and watch.reruns_before_approval == 0
    assert f.recover is not None and f.first_action is not None and f.first_action <= f.recover
    assert [r["payload"]["status"] for r in sandbox.audit() if r["kind"] == "verification"] == ["VERIFIED"]
    assert timeline.points[-1].alarm == "OK"
