"""The lake model drives the sandbox (issue 16, "Time"): a crash of the orders stream is a cause; the service's
real path detects it, acts and the lake recovers within the floor plus some slack; with the service off the first
action waits for the page plus the assumed response time. Simulated minutes: the drill takes seconds. The streaming
faults (out of memory, a role losing S3 access, a broker offline) run their game day scenario's service timeline
only (the scenarios run the service-off one too)."""

from __future__ import annotations

import json

import pytest

from remedy.gameday.drill import Drill
from remedy.gameday.scenarios.lake import (
    OFFLINE_BROKER,
    OFFLINE_MINUTES,
    OOM_PARAMS,
    TOLD_MINUTES,
    LakeFaults,
    _alarm_spans,
    _bigger_worker_type,
    _broker_alarms,
    _restore_write,
    _start_on_g2x,
    broker_offline,
    revoke_write,
)
from remedy.gameday.timeline import RESPONSE_MINUTES, burst, crash, run_timeline
from sandbox.catalog_variant import catalog_variant
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


def _actions(sandbox: Sandbox) -> list[dict[str, object]]:
    return [r["payload"] for r in sandbox.audit() if r["kind"] == "action"]


def test_out_of_memory_is_retried_on_a_bigger_worker_type_and_recovers_before_a_person_could_act(
        sandbox: Sandbox) -> None:
    with catalog_variant(sandbox, edit=_bigger_worker_type):
        timeline = run_timeline(Drill(sandbox), "oom", JOB, burst("orders", 4.0, 4), service=True, params=OOM_PARAMS,
                                max_minutes=80, watch=LakeFaults(person=_start_on_g2x))
    f = timeline.figures
    assert f is not None
    oom = [m for m in timeline.marks if m.kind == "fault" and "exit code 1" in m.text]
    assert oom, "the burst's micro-batch did not run the stream out of memory"
    retried = [a for a in _actions(sandbox) if a["action"]["name"] == "glue.restart_job"]  # type: ignore[index]
    assert [a["action"]["params"].get("worker_type") for a in retried] == ["G.2X"]  # type: ignore[index]
    # Without the service nothing starts before the page + RESPONSE_MINUTES: the service's recovery comes first.
    assert f.recover is not None and f.recover < RESPONSE_MINUTES


def test_a_role_losing_s3_write_is_named_not_rerun_and_recovers_once_a_person_restores_the_grant(
        sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    timeline = run_timeline(d, "s3-access", JOB, revoke_write(JOB), service=True, max_minutes=90,
                            watch=LakeFaults(person=_restore_write, told=_restore_write))
    f = timeline.figures
    assert f is not None
    denied = [m.minute for m in timeline.marks if m.kind == "fault" and "AccessDenied" in m.text]
    assert denied
    missing = f"may not s3:PutObject on {d.catalog.s3.name}/{d.catalog.glue_job(JOB).writes_prefix}*"
    assert missing in json.dumps(sandbox.audit())
    assert not [a for a in _actions(sandbox) if "restart" in str(a["action"])]  # AccessDenied is not transient
    told = [m.minute for m in timeline.marks if m.kind == "page" and "told" in m.text]
    assert told == [denied[0]] and f.first_action == told[0] + TOLD_MINUTES - timeline.fault_minute
    assert f.recover is not None and f.recover > f.first_action


def test_a_broker_offline_holds_the_lag_playbook_while_its_alarm_is_in_alarm_and_the_lake_recovers(
        sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    under, offline, controller = _broker_alarms(d)
    back: dict[str, int] = {}
    timeline = run_timeline(d, "broker", JOB, broker_offline(OFFLINE_BROKER, OFFLINE_MINUTES, back), service=True,
                            max_minutes=40, watch=LakeFaults(also=(under, offline, controller)))
    f = timeline.figures
    assert f is not None
    # The sum over the brokers has its value while broker 2 publishes nothing: 5 of 5 minutes, then ALARM until
    # the broker is back.
    [(start, end)] = _alarm_spans(timeline, under)
    assert start - timeline.fault_minute <= 5 + SLACK and end >= back["minute"]
    lag = [m.minute for m in timeline.marks if m.kind == "alarm" and m.text == f"{timeline.alarm} -> ALARM"]
    assert lag and start <= lag[0] <= end  # the lag playbook was asked while the broker alarm was in ALARM
    assert _actions(sandbox) == []  # no restart, no scale-up
    holds = [r["payload"] for r in sandbox.audit() if r["kind"] == "decision"
             and r["payload"].get("rule") == "lineage_hold"]
    assert holds and all(h["verdict"] == "REFUSED" and f"msk:{d.catalog.msk.cluster_name}" in h["reason"]
                         for h in holds)
    ok = [m.minute for m in timeline.marks if m.kind == "alarm" and m.text == f"{under} -> OK"]
    assert ok and back["minute"] <= ok[0] <= back["minute"] + SLACK
    assert f.recover is not None
