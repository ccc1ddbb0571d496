"""The lake model's batch and Redshift side (sandbox/lake_batch.py): schedules, loads, quality checks, CPU from load
and stale statistics; and a timeline that watches a metric other than the lag (remedy.gameday.timeline)."""

from __future__ import annotations

import pytest

from remedy.gameday.svg import timeline_svg
from remedy.gameday.timeline import Mark, Point, Timeline, figures
from remedy.recovery import markdown
from sandbox.lake_batch import BatchJobView, BatchModel, BatchParams, hourly_minute

JOB = BatchJobView("sales-batch", "orders-stream", "analytics.fact_sales", 15)
PARAMS = BatchParams(rows_per_message=0.01, load_minutes=5, cpu_idle=15, cpu_load=20, cpu_heavy_query=30,
                     stale_gain=5)


def _model() -> BatchModel:
    return BatchModel(PARAMS, [JOB])


def test_an_hourly_cron_runs_at_its_minute_and_anything_else_is_not_modelled() -> None:
    assert hourly_minute("cron(15 * * * ? *)") == 15
    assert hourly_minute("cron(0 6 1 * ? *)") is None
    assert hourly_minute("rate(1 hour)") is None and hourly_minute(None) is None


def test_a_run_starts_on_schedule_reads_the_previous_hour_and_loads_in_proportion() -> None:
    model = _model()
    model.land("orders-stream", "2026/12/02/11", 90_000)
    model.land("orders-stream", "2026/12/02/12", 5_000)  # this hour's: the next run's
    started, finished = model.step(14, "2026/12/02/11")
    assert started == [] and finished == []
    started, _ = model.step(15, "2026/12/02/11")
    assert [(r.job, r.partition) for r in started] == [("sales-batch", "2026/12/02/11")]
    assert len(model.loading()) == 1
    for minute in range(16, 20):
        assert model.step(minute, "2026/12/02/11") == ([], [])
    _, finished = model.step(20, "2026/12/02/11")  # load_minutes after its start
    assert [(r.rows, r.passed) for r in finished] == [(900, True)]
    assert model.loading() == [] and model.failing_partitions("sales-batch") == []


def test_malformed_records_land_only_while_the_fault_lasts_and_fail_the_check_until_a_rerun_passes() -> None:
    model = _model()
    model.corrupt_writes("orders-stream", 0.3, minutes=2)
    for minute in range(4):
        model.land("orders-stream", "p", 1_000)
        model.step(minute, "x")
    run = model.start(JOB, "p")
    for minute in range(5):
        model.step(minute, "x")
    assert (run.messages, run.malformed, run.rows) == (4_000, 600, 34)
    assert run.failed_rules == ["malformed_records = 0 (got 600 of 4,000)"]
    assert model.failing_partitions("sales-batch") == ["p"]
    model.repair("orders-stream", "p")
    model.start(JOB, "p")
    for minute in range(5):
        model.step(minute, "x")
    assert model.failing_partitions("sales-batch") == []  # the latest run of the partition decides


def test_cpu_follows_loads_and_a_heavy_query_costs_more_on_stale_statistics() -> None:
    model = _model()
    assert model.cpu({}) == 15
    model.heavy_query("analytics.fact_sales", minutes=10)
    assert model.cpu({"analytics.fact_sales": 0.0}) == 45  # fresh statistics: well under the 80 % alarm
    assert model.cpu({"analytics.fact_sales": 30.0}) == pytest.approx(15 + 30 * 2.5)  # stale: over it
    assert model.cpu({"analytics.dim_customer": 90.0}) == 45  # another table's statistics do not matter
    model.start(JOB, "p")
    assert model.cpu({"analytics.fact_sales": 100.0}) == 100  # capped
    for minute in range(10):
        model.step(minute, "x")
    assert model.cpu({"analytics.fact_sales": 30.0}) == 15  # the query ended, the load too


def _cpu_timeline(service: bool) -> Timeline:
    values = [40.0, 95.0, 95.0, 95.0, 95.0, 40.0, 40.0, 40.0]
    alarm = ["OK", "OK", "OK", "ALARM", "ALARM", "ALARM", "OK", "OK"]
    points = [Point(i + 1, 0, 2_000, 4_000, 2, alarm[i], 1.0, 0.0, value=v, healthy=v <= 80)
              for i, v in enumerate(values)]
    marks = [Mark(1, "fault", "stale statistics"), Mark(4, "alarm", "x -> ALARM"),
             Mark(5, "action", "redshift.analyze_tables (SUCCEEDED)")]
    return Timeline("lake-stale-stats", "orders-stream", "x", 80, 60, service, 30, 1, points, marks,
                    metric="Redshift CPU (%)", recovery="Redshift CPU at most 80 %")


def test_a_timeline_of_another_metric_is_judged_by_its_own_level_and_drawn_and_tabled() -> None:
    timeline = _cpu_timeline(service=True)
    f = timeline.figures = figures(timeline, {"Period": 300, "EvaluationPeriods": 3, "DatapointsToAlarm": 3})
    assert (f.detect, f.first_action, f.recover, f.peak) == (3, 4, 5, 95.0)
    assert f.floor_detect == 1 + 15 and f.peak_lag == 0  # crossed at +1, then 3 x 5 min
    svg = timeline_svg(timeline.as_dict())
    assert "Redshift CPU (%)" in svg and "threshold 80" in svg and "consumer lag" not in svg
    row = {"scenario": "lake-stale-stats", "service": "on", "metric": timeline.metric, **vars(f)}
    assert "| 95 (Redshift CPU (%)) |" in markdown([row])


def test_no_floor_is_drawn_when_no_alarm_measures_the_watched_metric() -> None:
    timeline = _cpu_timeline(service=False)
    timeline.alarm_measures_it = False
    f = figures(timeline, {"Period": 300, "EvaluationPeriods": 1})
    assert f.floor_detect is None and f.floor["threshold_crossed"] == 1
