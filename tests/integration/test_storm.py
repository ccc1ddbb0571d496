"""Alarm storm: 1,000 events through the synthesized routing and the real handler — duplicates of the same
state change, alarms flapping OK <-> ALARM, events out of order, two pipelines at once. Exactly one
remediation per pipeline; every other event accounted for in the audit trail with its reason."""

from __future__ import annotations

import copy
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remedy.gameday.drill import Drill
from sandbox.alarms import _stamp
from sandbox.core import Sandbox

pytestmark = [pytest.mark.integration, pytest.mark.drill]

JOBS = ("orders-stream", "customers-stream")
TOTAL = 1_000


@pytest.fixture(scope="module")
def storm_sandbox(sandbox_env: Sandbox) -> Sandbox:
    return sandbox_env  # the worker's sandbox (tests/integration/conftest.py); the test resets it first


def at(event: dict[str, Any], state: str, when: datetime) -> dict[str, Any]:
    """The same alarm's event for another state change (a new incident unless `when` repeats)."""
    other = copy.deepcopy(event)
    other["detail"]["previousState"]["value"] = "ALARM" if state == "OK" else "OK"
    other["detail"]["state"]["value"] = state
    other["detail"]["state"]["timestamp"] = _stamp(when)
    return other


def storm(first_alarms: dict[str, dict[str, Any]], seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """(kind, event) pairs: the first ALARM of each pipeline, then duplicates, flaps, late OKs, strangers."""
    rng = random.Random(seed)
    events: list[tuple[str, dict[str, Any]]] = [("first", e) for e in first_alarms.values()]
    start = datetime.now(UTC)
    while len(events) < TOTAL:
        job = rng.choice(JOBS)
        base = first_alarms[job]
        roll = rng.random()
        if roll < 0.55:
            events.append(("duplicate", copy.deepcopy(base)))
        elif roll < 0.85:  # flapping inside the cooldown: a new state change every few seconds
            when = start + timedelta(seconds=len(events))
            events.append(("flap", at(base, rng.choice(["OK", "ALARM"]), when)))
        elif roll < 0.95:  # a stale OK from before the alarm, delivered late
            when = start - timedelta(minutes=10, seconds=len(events))
            events.append(("late-ok", at(base, "OK", when)))
        else:  # someone else's alarm on the default bus
            stranger = copy.deepcopy(base)
            stranger["detail"]["alarmName"] = f"other-team/cpu-{len(events)}"
            events.append(("stranger", stranger))
    head, tail = events[: len(first_alarms)], events[len(first_alarms):]
    rng.shuffle(tail)
    return head + tail


def test_a_storm_of_alarm_events_remediates_each_pipeline_once(storm_sandbox: Sandbox) -> None:
    sandbox = storm_sandbox
    sandbox.reset()
    d = Drill(sandbox)
    for job in JOBS:
        d.stop_streaming_job(job)
        d.consumer_lag(job, [30_000] * 5)
    first = {e.alarm_name.rsplit(":", 1)[1]: event for e, event in sandbox.evaluate_alarms(d.now)
             if "/consumer-lag/" in e.alarm_name}
    assert set(first) == set(JOBS)

    kinds: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for kind, event in storm(first):
        delivery = sandbox.deliver(event)
        kinds[kind] += 1
        if kind == "stranger":
            assert delivery.matched == [] and delivery.invocations == []
            continue
        (invocation,) = delivery.invocations
        assert invocation.error is None, invocation.error  # no crash, no retry loop
        statuses[invocation.result["status"]] += 1

    assert sum(kinds.values()) == TOTAL
    # Exactly one restart per pipeline, whatever the storm.
    for job in JOBS:
        runs = d.runs(job)
        assert [r["JobRunState"] for r in runs] == ["RUNNING", "STOPPED"], job
    actions = [r for r in d.audit("action")]
    assert len(actions) == len(JOBS)
    # Every duplicate answered from the idempotency record and recorded as such.
    assert len(d.audit("duplicate")) == statuses["DUPLICATE"] >= kinds["duplicate"]
    # Every later ALARM was a new incident, refused by the circuit breaker, with its reason on record.
    refused = [r["payload"] for r in d.audit("decision") if r["payload"]["verdict"] == "REFUSED"]
    assert refused and {r["rule"] for r in refused} == {"cooldown"}
    assert all("cooldown of 30 min" in r["reason"] for r in refused)
    # Every non-duplicate delivery ended in exactly one recorded outcome.
    assert len(d.audit("outcome")) == sum(n for s, n in statuses.items() if s != "DUPLICATE")
