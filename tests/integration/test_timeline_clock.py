"""A lake timeline's minute is one minute for the model and for CloudWatch, however long the minute takes to work
through. The sandbox's clock is wall time plus an offset, so it runs on while a minute is stepped (the model
publishes, handlers run); the alarms are evaluated at the drill's `now`. A minute whose work crossed a wall-clock
minute boundary used to stamp the brokers' datapoints into the next period: the window the alarm read had a hole,
and a broker alarm that had to stay in ALARM went OK for five minutes (seen once in a fresh-clone game day, on a
loaded host: lake-broker-offline)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from remedy.gameday.drill import Drill
from remedy.gameday.scenarios.lake import LakeFaults, _alarm_spans, _broker_alarms, broker_offline
from remedy.gameday.timeline import run_timeline
from sandbox import clock
from sandbox.lake_sandbox import LakeInSandbox

pytestmark = pytest.mark.integration


def test_a_broker_alarm_stays_in_alarm_while_minutes_take_seconds_of_wall_time(sandbox, monkeypatch) -> None:
    d = Drill(sandbox)
    # Start a second before a wall-clock minute ends, the worst moment: any work in the minute crosses it.
    at = clock.now()
    d.now = datetime.fromtimestamp((int(at.timestamp()) // 60 + 2) * 60 - 1, UTC)
    clock.advance_to(d.now)
    real_step, minutes = LakeInSandbox.step, itertools.count()

    def slow_step(lake: LakeInSandbox) -> None:
        if next(minutes) % 2:
            clock.advance(5)  # every other minute takes 5 s of wall time before the model publishes (a loaded host)
        real_step(lake)

    monkeypatch.setattr(LakeInSandbox, "step", slow_step)
    under = _broker_alarms(d)[0]
    back: dict[str, int] = {}
    timeline = run_timeline(d, "clock", "orders-stream", broker_offline(2, 12, back), service=False,
                            max_minutes=16, watch=LakeFaults(also=(under,)))
    spans = _alarm_spans(timeline, under)
    assert len(spans) == 1, spans  # one stretch in ALARM: no period of the broker's window lost to a boundary
    start, end = spans[0]
    assert start - timeline.fault_minute <= 5 + 2 and end >= back["minute"], (spans, back)
    assert d.now - clock.now() < timedelta(seconds=30)
