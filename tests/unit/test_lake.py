"""The lake model (sandbox/lake.py): producers, drain rates by workers, startup delay, bursts, data at risk; and the
figures drawn from a timeline (remedy.gameday.timeline.figures, remedy.gameday.svg, remedy.recovery)."""

from __future__ import annotations

import pytest

from remedy.gameday.svg import timeline_svg
from remedy.gameday.timeline import Mark, Point, Timeline, figures
from remedy.recovery import markdown
from sandbox.lake import DAILY_CURVE, LakeModel, LakeParams, RunView, curve

PARTITIONS = 12
FLAT = LakeParams(rates={"orders": 3_000.0}, per_slot=1_000.0, startup_minutes=2.0, start_hour=12.0)


def _model(params: LakeParams = FLAT) -> LakeModel:
    return LakeModel(params, {"orders": [0] * PARTITIONS}, {"orders-stream": ("orders", [0] * PARTITIONS)})


def _flat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sandbox.lake.curve", lambda hour: 1.0)


def test_the_daily_curve_averages_one_and_peaks_in_the_evening() -> None:
    assert sum(DAILY_CURVE) / 24 == pytest.approx(1.0, abs=0.02)
    assert max(range(24), key=lambda h: DAILY_CURVE[h]) == 19
    assert curve(12.5) == pytest.approx((DAILY_CURVE[12] + DAILY_CURVE[13]) / 2)


def test_producers_write_the_rate_spread_over_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model()
    for _ in range(10):
        model.step({"orders-stream": None})
    latest = model.topics["orders"].latest
    assert sum(latest) == 30_000 and max(latest) - min(latest) <= 1
    assert model.lag("orders-stream") == 30_000


def test_drain_rate_follows_task_slots_up_to_one_per_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model()
    for _ in range(10):  # 30,000 behind, nothing reading
        model.step({"orders-stream": None})
    # 2 G.1X workers: 1 executor x 4 vCPUs = 4 slots = 4,000 a minute, against 3,000 produced: drains 1,000/min.
    two = RunView(2, "G.1X", since_minute=-10)
    assert model.capacity("orders-stream", two) == 4_000
    before = model.lag("orders-stream")
    model.step({"orders-stream": two})
    assert before - model.lag("orders-stream") == 1_000
    # 4 workers: 12 slots, one per partition: 12,000 a minute; 10 workers: still 12 (a task per partition).
    assert model.capacity("orders-stream", RunView(4, "G.1X", -10)) == 12_000
    assert model.capacity("orders-stream", RunView(10, "G.1X", -10)) == 12_000


def test_a_started_run_reads_nothing_until_its_startup_time_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model()
    run = RunView(4, "G.1X", since_minute=0)
    model.step({"orders-stream": run})  # minute 1
    model.step({"orders-stream": run})  # minute 2: startup (2 min) just over
    assert model.lag("orders-stream") == 6_000 and model.streams["orders-stream"].last_write_minute == 0
    model.step({"orders-stream": run})  # minute 3: reads the whole backlog (12,000 capacity)
    assert model.lag("orders-stream") == 0 and model.landing_age("orders-stream") == 0


def test_a_burst_multiplies_the_rate_for_its_minutes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model()
    model.burst("orders", 5.0, 3)
    assert model.rate("orders") == 15_000
    for _ in range(3):
        model.step({"orders-stream": None})
    assert model.rate("orders") == 3_000 and model.lag("orders-stream") == 45_000


def test_data_at_risk_is_the_age_of_the_oldest_message_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model()
    for _ in range(5):
        model.step({"orders-stream": None})
    assert model.oldest_unlanded("orders-stream") == 5
    assert model.landing_age("orders-stream") == 5


def test_a_micro_batch_bigger_than_the_executors_memory_kills_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    # 1,000 messages per GB: 2 x G.1X = one 16 GB executor holds 16,000; 2 x G.2X holds 32,000.
    model = _model(LakeParams(rates={"orders": 3_000.0}, per_slot=1_000.0, memory_messages_per_gb=1_000.0))
    small, big = RunView(2, "G.1X", -10), RunView(2, "G.2X", -10)
    assert (model.memory(small), model.memory(big), model.memory(RunView(4, "G.1X", -10))) == (16_000, 32_000, 48_000)
    for _ in range(6):  # 18,000 behind, nothing reading
        model.step({"orders-stream": None})
    model.step({"orders-stream": small})  # the whole backlog (21,000) is one micro-batch: it does not fit
    assert "orders-stream" in model.failed and model.lag("orders-stream") == 21_000
    model.step({"orders-stream": big})  # 24,000 fits 32,000: it reads (8 slots x 1,000)
    assert model.failed == {} and model.lag("orders-stream") == 24_000 - 8_000


def test_memory_is_not_modelled_unless_a_figure_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model()
    for _ in range(30):
        model.step({"orders-stream": None})
    model.step({"orders-stream": RunView(2, "G.1X", -10)})
    assert model.memory(RunView(2, "G.1X", -10)) is None and model.failed == {}


def test_a_broker_offline_moves_leadership_after_the_failover_and_under_replicates_until_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model()  # 12 partitions on 3 brokers, replication factor 3: broker 2 leads partitions 1, 4, 7, 10
    healthy = model.broker_metrics()
    assert healthy == {"offline_partitions": 0, "under_replicated": {1: 0, 2: 0, 3: 0},
                       "controllers": {1: 1, 2: 0, 3: 0}}
    model.broker_offline(2, 5)
    during = model.broker_metrics()  # within the failover: broker 2's partitions have no leader
    assert during["offline_partitions"] == 4 and 2 not in during["under_replicated"]
    assert model.leader(1) is None and model.leader(0) == 1
    model.step({"orders-stream": None})  # a minute on: leadership moved to the next in-sync replica
    after = model.broker_metrics()
    assert after["offline_partitions"] == 0 and model.leader(1) == 3
    assert sum(after["under_replicated"].values()) == 12  # every partition has a replica on broker 2
    assert sum(after["controllers"].values()) == 1
    for _ in range(4):
        model.step({"orders-stream": None})
    assert model.broker_metrics() == healthy  # back: in sync again, preferred leaders


def test_a_broker_offline_stalls_the_consumer_for_its_stall_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    _flat(monkeypatch)
    model = _model(LakeParams(rates={"orders": 3_000.0}, per_slot=1_000.0, broker_stall_minutes=3.0))
    run = RunView(4, "G.1X", -10)
    model.broker_offline(2, 20)
    for _ in range(3):
        model.step({"orders-stream": run})
    assert model.lag("orders-stream") == 9_000 and model.streams["orders-stream"].last_write_minute == 0
    model.step({"orders-stream": run})  # the stall is over: 12 slots read the backlog and the minute's writes
    assert model.lag("orders-stream") == 0


def _timeline(service: bool = True) -> Timeline:
    lags = [0, 4_000, 12_000, 20_000, 26_000, 18_000, 9_000, 2_000, 0, 0]
    states = ["OK", "OK", "OK", "OK", "ALARM", "ALARM", "ALARM", "ALARM", "OK", "OK"]
    points = [Point(i + 1, lag, 3_000, 0 if 1 <= i <= 4 else 4_000, 2, state, 0.0, float(i))
              for i, (lag, state) in enumerate(zip(lags, states, strict=True))]
    marks = [Mark(1, "fault", "orders-stream FAILED"), Mark(5, "alarm", "x -> ALARM"),
             Mark(5, "action", "glue.restart_streaming_job (SUCCEEDED)")]
    return Timeline("lake-job-crash", "orders-stream", "x", 10_000, 60, service, 30, 1, points, marks)


def test_figures_read_detection_action_recovery_and_the_floor() -> None:
    timeline = _timeline()
    f = figures(timeline, {"Period": 60, "EvaluationPeriods": 5, "DatapointsToAlarm": 3, "Threshold": 10_000})
    assert (f.detect, f.first_action, f.detected_by) == (4, 4, "alarm")
    assert f.recover == 6  # minute 7: lag 9,000 and reading, held to the end
    assert f.floor["threshold_crossed"] == 2 and f.floor_detect == 2 + 3  # crossed, then 3 of 5 x 60 s
    assert f.peak_lag == 26_000 and f.steps == ["+4 min: glue.restart_streaming_job (SUCCEEDED)"]


def test_the_timeline_is_drawn_as_inline_svg_and_the_table_as_markdown() -> None:
    timeline = _timeline()
    timeline.figures = figures(timeline, {"Period": 60, "EvaluationPeriods": 5, "DatapointsToAlarm": 3})
    svg = timeline_svg(timeline.as_dict())
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "http" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "threshold 10,000" in svg and "ALARM" in svg and "fault (min 1)" in svg and "action (min 5)" in svg
    row = {"scenario": "lake-job-crash", "service": "on", "passed": True, **vars(timeline.figures)}
    table = markdown([row])
    assert "| lake-job-crash | on | 4 (alarm) | 4 | 6 | 5 (crossed at 2 + 3 of 5 x 60 s) | 26,000 |" in table
