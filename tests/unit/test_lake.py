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
