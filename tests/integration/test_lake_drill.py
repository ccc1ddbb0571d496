"""The lake model drives the sandbox (issue 16, "Time"): a crash of the orders stream is a cause; the service's
real path detects it, acts and the lake recovers within the floor plus some slack; with the service off the first
action waits for the page plus the assumed response time. Simulated minutes: the drill takes seconds."""

from __future__ import annotations

import pytest

from remedy.gameday.drill import Drill
from remedy.gameday.timeline import RESPONSE_MINUTES, burst, crash, run_timeline
from sandbox.core import Sandbox

pytestmark = [pytest.mark.integration, pytest.mark.drill]
JOB = "orders-stream"
SLACK = 2


def test_a_crash_is_detected_acted_on_and_recovered_and_without_the_service_waits_for_a_person(
        sandbox: Sandbox) -> None:
    on = run_timeline(Drill(sandbox), "crash", JOB, crash("Lost executors", JOB), service=True)
    f = on.figures
    assert f is not None
    # Glue's FAILED event reaches the Glue failure playbook at once: restarted in the fault's minute.
    assert (f.detected_by, f.detect, f.first_action) == ("event", 0, 0)
    # The new run reads after its startup (2 min): levels held from then on.
    assert f.recover is not None and f.recover <= 2 + 1 + SLACK
    assert f.peak_lag < on.threshold  # the restart came before the backlog reached the threshold

    sandbox.reset()
    off = run_timeline(Drill(sandbox), "crash", JOB, crash("Lost executors", JOB), service=False)
    g = off.figures
    assert g is not None and g.detected_by == "alarm"
    assert g.floor_detect is not None and g.detect is not None and g.detect <= g.floor_detect + SLACK
    pages = [m.minute for m in off.marks if m.kind == "page"]
    assert pages and g.first_action == pages[0] - off.fault_minute + RESPONSE_MINUTES
    assert g.recover is not None and g.recover > f.recover + RESPONSE_MINUTES
    assert [p.alarm for p in off.points].count("ALARM") > RESPONSE_MINUTES  # in ALARM while nobody acted


def test_a_burst_is_scaled_by_the_catalogs_step_and_more_workers_drain_faster(sandbox: Sandbox) -> None:
    timeline = run_timeline(Drill(sandbox), "burst", JOB, burst("orders", 5.0, 20), service=True)
    f = timeline.figures
    assert f is not None and f.detected_by == "alarm" and f.floor_detect is not None
    assert f.detect is not None and f.detect <= f.floor_detect + SLACK
    assert any("scale_streaming_job 2 -> 4 workers" in step for step in f.steps), f.steps
    workers = [p.workers for p in timeline.points]
    assert workers[0] == 2 and workers[-1] == 4
    assert f.recover is not None
