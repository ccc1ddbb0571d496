"""Runbook: MSK Consumer Lag High, driven by the lake model: the fault is a cause (a job crash, a producer burst),
the lag and the landing data follow from it minute by minute, and the figures are measured (remedy.gameday.timeline).

Each scenario runs the fault twice on a fresh account: with the service, then with the service off (the page and
a person following the runbook `RESPONSE_MINUTES` later, an assumption). Both timelines go into the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from remedy.gameday.timeline import (
    RESPONSE_MINUTES,
    Fault,
    Mark,
    Timeline,
    Watch,
    _actions,
    _describe,
    burst,
    crash,
    run_timeline,
)
from sandbox.alarms import evaluate
from sandbox.lake import LakeParams

SECTION = "Common Issues / MSK Consumer Lag High (lake model)"
JOB = "orders-stream"
SLACK_MINUTES = 2  # detection may trail its floor by the alarm evaluation's alignment to the minute


def _both(d: Drill, name: str, fault: Fault, watch_factory: Callable[[], Watch] | None = None,
          **kwargs: object) -> tuple[Timeline, Timeline]:
    """The fault with the service, then on a fresh account without it. Both timelines are kept on the drill, and
    the service's audit trail as `d.service_audit` (the reset between the two forgets it)."""
    on = run_timeline(d, name, JOB, fault, service=True,  # type: ignore[arg-type]
                      watch=watch_factory() if watch_factory else None, **kwargs)
    d.service_audit = d.sandbox.audit()  # type: ignore[attr-defined]
    d.sandbox.reset()
    off_drill = Drill(d.sandbox, on_step=d.on_step)
    off = run_timeline(off_drill, name, JOB, fault, service=False,  # type: ignore[arg-type]
                       watch=watch_factory() if watch_factory else None, **kwargs)
    return keep_both(d, off_drill, on, off)


def keep_both(d: Drill, off_drill: Drill, on: Timeline, off: Timeline) -> tuple[Timeline, Timeline]:
    """The run without the service was a drill of its own (a fresh account): its steps and both timelines go on
    the scenario's drill, for the report."""
    d.steps.extend(off_drill.steps)
    timelines = getattr(d, "timelines", [])
    timelines.extend([on, off])
    d.timelines = timelines  # type: ignore[attr-defined]
    return on, off


@scenario("lake-job-crash", "Lake model: the orders stream crashes; detected by its alarm, restarted, the backlog "
                            "drained (with and without the service)", SECTION)
def lake_job_crash(d: Drill) -> None:
    on, off = _both(d, "lake-job-crash", crash("Lost executors: connection to broker b-1 reset", JOB))
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    d.expect("detected and restarted within the minute: Glue's FAILED event reached the Glue failure playbook (no "
             "alarm window)", f.detected_by == "event" and f.detect == 0 and f.first_action == 0,
             f"detected by {f.detected_by} at {f.detect}, acted at {f.first_action}")
    d.expect("without the service, the lag alarm went to ALARM from the model's lag within its floor + "
             f"{SLACK_MINUTES} min", g.detected_by == "alarm" and g.detect is not None and g.floor_detect is not None
             and g.detect <= g.floor_detect + SLACK_MINUTES, f"detected by {g.detected_by} at {g.detect}, floor "
                                                             f"{g.floor_detect}")
    d.expect("the service acted (a restart) and the lake recovered: lag under the threshold, landing fresh",
             f.first_action is not None and f.recover is not None and any("restart" in s for s in f.steps),
             "; ".join(f.steps))
    # The new run reads once it has started (LakeParams.startup_minutes), from the minute after the restart.
    startup = LakeParams().startup_minutes
    d.expect(f"recovered within the new run's startup ({startup:g} min) + 1 + {SLACK_MINUTES} min, before the "
             "backlog reached the lag threshold", f.recover is not None
             and f.recover <= startup + 1 + SLACK_MINUTES and f.peak_lag < on.threshold,
             f"recover {f.recover}, peak lag {f.peak_lag:,} (threshold {on.threshold:,.0f})")
    pages = [m.minute for m in off.marks if m.kind == "page"]
    d.expect(f"without the service, the person acts exactly the page + {RESPONSE_MINUTES} min (assumed response), "
             "not before", bool(pages) and g.first_action == pages[0] - off.fault_minute + RESPONSE_MINUTES,
             f"person at {g.first_action}, paged at {[p - off.fault_minute for p in pages]}")
    in_alarm = [p.alarm for p in off.points].count("ALARM")
    d.expect(f"without the service, the lag alarm stayed in ALARM while nobody acted (more than {RESPONSE_MINUTES} "
             "min)", in_alarm > RESPONSE_MINUTES, f"{in_alarm} min in ALARM")
    d.expect("the service recovers sooner than a person following the runbook, by more than the assumed response",
             f.recover is not None and (g.recover is None or g.recover > f.recover + RESPONSE_MINUTES),
             f"{f.recover} vs {g.recover} min")


@scenario("lake-peak-burst", "Lake model: peak trading, producers at 5x for 40 min; the stream is scaled up by the "
                             "catalog's step (with and without the service)", SECTION)
def lake_peak_burst(d: Drill) -> None:
    on, off = _both(d, "lake-peak-burst", burst("orders", 5.0, 40), max_minutes=180)
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    d.expect("the lag alarm went to ALARM within its floor + "
             f"{SLACK_MINUTES} min", f.detected_by == "alarm" and f.detect is not None and f.floor_detect is not None
             and f.detect <= f.floor_detect + SLACK_MINUTES, f"detected by {f.detected_by} at {f.detect}, floor "
                                                             f"{f.floor_detect}")
    job = d.catalog.glue_job(JOB)
    scaled = f"{job.min_workers} -> {job.min_workers + d.catalog.guardrails.scale_step_workers} workers"
    workers = [p.workers for p in on.points]
    d.expect(f"the service scaled the running job up by the catalog's step, {scaled}, once (more workers drain "
             "faster)", [s.split(": ", 1)[1] for s in f.steps] == [f"glue.scale_streaming_job {scaled} (SUCCEEDED)"]
             and f"{workers[0]} -> {workers[-1]} workers" == scaled,
             f"{'; '.join(f.steps) or 'no action'}; workers {workers[0]} at the start, {workers[-1]} at the end")
    d.expect("the lake recovered with the service, sooner than with a person",
             f.recover is not None and (g.recover is None or f.recover < g.recover), f"{f.recover} vs {g.recover}")


# -- faults as causes on the streaming side: out of memory, a role losing S3 access, a broker offline ------------

# Assumed, not measured (docs/recovery.md, parameters): the minutes from the service's notification naming the cause
# to a person acting on it (with the service the person is told what is wrong; without it they find it after the
# page and RESPONSE_MINUTES, reading the logs).
TOLD_MINUTES = 10
# Assumed: micro-batch messages one GB of executor memory holds (sandbox.lake.LakeParams.memory_messages_per_gb).
OOM_PARAMS = LakeParams(memory_messages_per_gb=1_400.0)
OFFLINE_BROKER = 2
OFFLINE_MINUTES = 20  # assumed: until MSK has replaced (or restarted) the broker and its replicas caught up


class LakeFaults(Watch):
    """The consumer lag, as the default watch, plus what these faults need each minute: the runs the model ended
    (out of memory, a write denied) are Glue's FAILED runs, whose `Glue Job State Change` event reaches the
    service when it is on; alarms besides the lag's evaluated every minute (`also`); and a person who acts
    `told_minutes` after the service's first notification (`told`, with the service) or after the page (`person`,
    without it). Holds the lineage rule made are marked."""

    def __init__(self, person: Callable[[Any, int], bool] | None = None,
                 told: Callable[[Any, int], bool] | None = None, also: tuple[str, ...] = (),
                 told_minutes: int = TOLD_MINUTES):
        self._by_hand, self._told, self.also, self.told_minutes = person, told, also, told_minutes
        self.states: dict[str, str] = {}
        self.told_at: int | None = None
        self.told_done = False
        self.holds_seen = 0

    def step(self, run: Any, minute: int) -> None:
        from sandbox.glue_events import job_state_change_event

        d = run.d
        for job, run_id, error in run.lake.failures:
            shown = error if len(error) <= 120 else f"{error[:50]} … {error[-66:]}"
            text = f"{job} run {run_id[:10]} FAILED: {shown}"
            run.timeline.marks.append(Mark(minute, "fault", text))
            d.say("inject", f"minute {minute}: {text}")
            if run.service:
                d.deliver(job_state_change_event(d.catalog.account_id, d.catalog.region, job, run_id, "FAILED",
                                                 error, d.now))
        self._also(run, minute)
        if run.service:
            self._marks(run, minute)
            self._told_person(run, minute)

    def _also(self, run: Any, minute: int) -> None:
        d = run.d
        stale = [a for a in self.also if evaluate(run.cloudwatch, a, d.sandbox.deployment.alarms[a], d.now,
                                                  current=self.states.get(a, "INSUFFICIENT_DATA")).state
                 != self.states.get(a, "INSUFFICIENT_DATA")]
        if not stale:
            return
        for evaluation, event in d.sandbox.evaluate_alarms(d.now):
            name = evaluation.alarm_name
            if name in self.also or name == run.alarm:
                self.states[name] = evaluation.state
                if name == run.alarm:
                    run.state = evaluation.state
                run.timeline.marks.append(Mark(minute, "alarm", f"{name} -> {evaluation.state}"))
                d.say("alarm", f"minute {minute}: {name}: {evaluation.previous} -> {evaluation.state}")
            if run.service:
                d.deliver(event)

    def _marks(self, run: Any, minute: int) -> None:
        found = _actions(run.d)
        run.timeline.marks += [Mark(minute, "action", _describe(r)) for r in found[run.actions_seen:]]
        run.actions_seen = len(found)
        holds = _holds(run.d)
        for record in holds[self.holds_seen:]:
            decision = record["payload"]
            action = decision.get("action", {})
            text = f"held: {action.get('name', 'action')} REFUSED ({decision.get('reason', '')})"
            run.timeline.marks.append(Mark(minute, "hold", text))
            run.d.say("note", f"minute {minute}: {text}")
        self.holds_seen = len(holds)

    def _told_person(self, run: Any, minute: int) -> None:
        if self._told is None or self.told_done:
            return
        if self.told_at is None:
            told = [n for n in run.d.notifications() if run.job in n["message"]]
            if not told:
                return
            self.told_at = minute
            run.timeline.marks.append(Mark(minute, "page", f"on call told by the service: {told[0]['subject']}"))
            run.d.say("note", f"minute {minute}: on call told the cause; a person acts at minute "
                              f"{minute + self.told_minutes} (assumed)")
        if minute >= self.told_at + self.told_minutes:
            self.told_done = self._told(run, minute)

    def person(self, run: Any, minute: int) -> bool:
        return self._by_hand(run, minute) if self._by_hand else super().person(run, minute)


def _holds(d: Drill) -> list[dict[str, Any]]:
    return [r for r in d.sandbox.audit() if r["kind"] == "decision"
            and r["payload"].get("verdict") == "REFUSED" and r["payload"].get("rule") == "lineage_hold"]


def _say_person(run: Any, minute: int, text: str) -> None:
    run.timeline.marks.append(Mark(minute, "person", text))
    run.d.say("inject", f"minute {minute}: {text}")


# -- out of memory ---------------------------------------------------------------------------------------------

def _bigger_worker_type(data: dict[str, Any]) -> None:
    """orders-stream may retry an out-of-memory run on G.2X, as the dev catalog already allows sales-batch."""
    next(j for j in data["glue_jobs"] if j["name"] == JOB).update(allow_worker_type_upgrade=True,
                                                                    max_worker_type="G.2X")


def _start_on_g2x(run: Any, minute: int) -> bool:
    """The runbook by hand after an out-of-memory failure: the logs say java.lang.OutOfMemoryError (Glue Job
    Failures 1-2), so the job is started as the runbook's Scaling section shows (8 x G.2X; within its maximum)."""
    d, job = run.d, run.job
    glue = d.sandbox.client("glue")
    if any(r["JobRunState"] in ("STARTING", "RUNNING", "WAITING", "STOPPING") for r in
           glue.get_job_runs(JobName=job)["JobRuns"]):
        return _person_default(run, minute)
    workers = min(8, d.catalog.glue_job(job).max_workers)
    glue.start_job_run(JobName=job, NumberOfWorkers=workers, WorkerType="G.2X")
    _say_person(run, minute, f"a person starts {job} with {workers} x G.2X (runbook: Scale Glue Jobs; the log "
                             f"says OutOfMemoryError)")
    return True


def _person_default(run: Any, minute: int) -> bool:
    return Watch().person(run, minute)


@scenario("lake-job-oom", "Lake model: a flash sale (4x for 4 min) makes the orders stream's micro-batch too big "
                          "for its memory; the run dies of out of memory and is retried on a bigger worker type "
                          "(with and without the service)", SECTION)
def lake_job_oom(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant

    d.say("inject", f"catalog variant: glue_jobs[{JOB}] allow_worker_type_upgrade true, max_worker_type G.2X")
    with catalog_variant(d.sandbox, edit=_bigger_worker_type):
        on, off = _both(d, "lake-job-oom", burst("orders", 4.0, 4), params=OOM_PARAMS, max_minutes=80,
                        watch_factory=lambda: LakeFaults(person=_start_on_g2x))
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    oom = [m for m in on.marks if m.kind == "fault" and "exit code 1" in m.text]
    d.expect("the model ran the stream out of memory: its run FAILED with Glue's 'Command failed with exit code 1'",
             len(oom) >= 1, "; ".join(m.text for m in oom) or "no out-of-memory failure")
    outcomes = [r["payload"] for r in d.service_audit if r["kind"] == "action"]  # type: ignore[attr-defined]
    retried = [o for o in outcomes if o.get("action", {}).get("name") == "glue.restart_job"]
    types = [o.get("action", {}).get("params", {}).get("worker_type") for o in retried]
    d.expect("the Glue failure playbook classified it out of memory (from the error log) and retried it on G.2X, "
             "once (the audit trail's restart names worker_type G.2X)", types == ["G.2X"],
             f"restarts' worker types {types}; " + ("; ".join(f.steps) or "no action"))
    d.expect("the lake recovered with the service, sooner than with a person",
             f.recover is not None and (g.recover is None or f.recover < g.recover), f"{f.recover} vs {g.recover}")
    d.expect(f"with the service, recovered before a person paged could even act ({RESPONSE_MINUTES} min, assumed)",
             f.recover is not None and f.recover < RESPONSE_MINUTES, f"recover {f.recover}")
    gone = [m for m in off.marks if m.kind == "fault" and "exit code 1" in m.text]
    person = [m.minute for m in off.marks if m.kind == "person"]
    d.expect("without the service, the stream stayed down from its out-of-memory failure until the person acted",
             bool(gone) and bool(person) and all(p.workers == 0 for p in off.points if gone[0].minute <= p.minute
                                                 < person[0]), f"failed at {[m.minute for m in gone]}, person at "
                                                               f"{person}")


# -- a job role losing S3 access -------------------------------------------------------------------------------

def revoke_write(job: str) -> Fault:
    def inject(lake: Any, d: Drill, service: bool) -> str:
        role = lake.revoke_write(job)
        prefix = d.catalog.glue_job(job).writes_prefix
        return f"role {role} of {job} loses s3:PutObject on {prefix}* (its other grants kept)"

    return inject


def _restore_write(run: Any, minute: int) -> bool:
    """Put s3:PutObject back on the role (the grant the playbook named, or the person found in the logs), then
    start the job if nothing runs: the recommendation's re-run."""
    d, job = run.d, run.job
    run.lake.grant_write(job)
    glue = d.sandbox.client("glue")
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    started = ""
    if not any(r["JobRunState"] in ("STARTING", "RUNNING", "WAITING", "STOPPING") for r in runs):
        glue.start_job_run(JobName=job)
        started = f" and starts {job}"
    _say_person(run, minute, f"a person grants s3:PutObject back to {job}'s role{started}")
    return True


@scenario("lake-s3-access-lost", "Lake model: the orders stream's role loses s3:PutObject on its landing prefix; "
                                 "the next micro-batch's write is denied, the run FAILS, landing goes stale; the "
                                 "service names the missing grant and does not re-run (with and without it)", SECTION)
def lake_s3_access_lost(d: Drill) -> None:
    on, off = _both(d, "lake-s3-access-lost", revoke_write(JOB), max_minutes=90,
                    watch_factory=lambda: LakeFaults(person=_restore_write, told=_restore_write))
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    denied = [m for m in on.marks if m.kind == "fault" and "AccessDenied" in m.text]
    d.expect("the next micro-batch's write was denied: the run FAILED with S3's AccessDenied (403)",
             bool(denied), "; ".join(m.text for m in denied) or "no denied write")
    audit = json.dumps(d.service_audit)  # type: ignore[attr-defined]
    missing = f"may not s3:PutObject on {d.catalog.s3.name}/{d.catalog.glue_job(JOB).writes_prefix}*"
    d.expect("the Glue failure playbook simulated the role's policy and named the missing action",
             missing in audit, missing)
    # The audit trail, not the timeline's steps: those are read at the minutes alarms change and every five.
    retries = [o for o in (r["payload"] for r in d.service_audit if r["kind"] == "action")  # type: ignore[attr-defined]
               if "restart" in json.dumps(o.get("action"))]
    d.expect("the service did not re-run the job while the grant was missing (AccessDenied is not transient): no "
             "restart in its audit trail", retries == [], "; ".join(json.dumps(o.get("action")) for o in retries)
             or "no restart by the service")
    told = [m.minute for m in on.marks if m.kind == "page" and "told" in m.text]
    d.expect(f"with the service, on call was told the cause at once and a person restored the grant "
             f"{TOLD_MINUTES} min later (assumed)", bool(denied) and told == [denied[0].minute]
             and f.first_action == told[0] + TOLD_MINUTES - on.fault_minute, f"told at {told}, acted at "
                                                                             f"{f.first_action}")
    d.expect("the lake recovered only after the person restored the grant",
             f.recover is not None and f.first_action is not None and f.recover > f.first_action,
             f"recover {f.recover}, grant restored at {f.first_action}")
    d.expect("the lake recovered with the service sooner than with the page and a person "
             f"{RESPONSE_MINUTES} min later", f.recover is not None and g.recover is not None
             and f.recover < g.recover, f"{f.recover} vs {g.recover}")


# -- a broker going offline -------------------------------------------------------------------------------------

def broker_offline(broker: int, minutes: int, back: dict[str, int] | None = None) -> Fault:
    """`back`, when given, gets the timeline minute the broker is back ("minute": the model's outage end; the
    model's minute is the timeline's after each step)."""
    def inject(lake: Any, d: Drill, service: bool) -> str:
        lake.broker_offline(broker, minutes)
        if back is not None:
            back["minute"] = int(lake.model.outages[-1].end)
        return (f"MSK broker {broker} of {d.catalog.msk.cluster_name} goes offline for {minutes} min (its "
                f"partitions' leadership moves to in-sync replicas)")

    return inject


def _broker_alarms(d: Drill) -> tuple[str, ...]:
    component = f"msk:{d.catalog.msk.cluster_name}"
    return tuple(f"{d.catalog.prefix}/{signal}/{component}"
                 for signal in ("msk-under-replicated", "msk-offline-partitions", "msk-controller"))


def _alarm_spans(timeline: Timeline, alarm: str) -> list[tuple[int, int]]:
    """(from, to) minutes `alarm` was in ALARM (to: the end when it did not leave it)."""
    spans, since = [], None
    for m in timeline.marks:
        if m.kind == "alarm" and m.text.startswith(f"{alarm} -> "):
            if m.text.endswith("-> ALARM"):
                since = m.minute
            elif since is not None:
                spans.append((since, m.minute))
                since = None
    if since is not None:
        spans.append((since, timeline.points[-1].minute if timeline.points else since))
    return spans


@scenario("lake-broker-offline", "Lake model: one MSK broker goes offline; leadership moves, partitions are "
                                 "under-replicated, the stream stalls and the lag rises; the lineage hold keeps the "
                                 "lag playbook from restarting or scaling it while the broker alarm is in ALARM",
          SECTION)
def lake_broker_offline(d: Drill) -> None:
    under, offline, controller = _broker_alarms(d)
    back: dict[str, int] = {}
    on, off = _both(d, "lake-broker-offline", broker_offline(OFFLINE_BROKER, OFFLINE_MINUTES, back), max_minutes=40,
                    watch_factory=lambda: LakeFaults(also=(under, offline, controller)))
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    spans = _alarm_spans(on, under)
    # The sum over the brokers has a value while one publishes nothing (metric math counts its missing value as 0):
    # the online brokers' under-replicated partitions breach from the fault's minute, 5 of 5 minutes later ALARM.
    d.expect("the under-replicated partitions alarm went to ALARM from the brokers' metrics (5 of 5 minutes) and "
             "stayed in ALARM while the broker was offline",
             len(spans) == 1 and spans[0][0] - on.fault_minute <= 5 + SLACK_MINUTES and spans[0][1] >= back["minute"],
             f"in ALARM {spans}, broker back at minute {back.get('minute')}")
    lag_alarm = [m.minute for m in on.marks if m.kind == "alarm" and m.text == f"{on.alarm} -> ALARM"]
    d.expect("the stalled stream's lag crossed the threshold and its alarm went to ALARM while the broker alarm was "
             "in ALARM: the lag playbook was asked", bool(lag_alarm) and len(spans) == 1
             and spans[0][0] <= lag_alarm[0] <= spans[0][1], f"lag alarm in ALARM at {lag_alarm}, broker alarm "
                                                              f"{spans}")
    acted = [m for m in on.marks if m.kind == "action" and any(a <= m.minute <= b for a, b in spans)]
    d.expect("the lag playbook made no restart and no scale-up while the broker alarm was in ALARM",
             bool(spans) and acted == [],
             "; ".join(m.text for m in acted) or "no action")
    actions = [r["payload"] for r in d.service_audit if r["kind"] == "action"]  # type: ignore[attr-defined]
    d.expect("no action at all in the service's audit trail (the stream resumed by itself once the broker was back)",
             actions == [], "; ".join(json.dumps(a.get("action")) for a in actions) or "no action")
    holds = [r["payload"] for r in d.service_audit if r["kind"] == "decision"  # type: ignore[attr-defined]
             and r["payload"].get("rule") == "lineage_hold"]
    d.expect("the hold is in the audit trail: REFUSED by lineage_hold, naming the cluster",
             bool(holds) and all(h["verdict"] == "REFUSED" and f"msk:{d.catalog.msk.cluster_name}" in h["reason"]
                                 for h in holds), holds[0]["reason"] if holds else "no hold recorded")
    ok = [m.minute for m in on.marks if m.kind == "alarm" and m.text == f"{under} -> OK"]
    d.expect(f"the broker back, its replicas caught up: the under-replicated alarm went back to OK within "
             f"{SLACK_MINUTES} min (the first minute its brokers publish 0)",
             bool(ok) and back["minute"] <= ok[0] <= back["minute"] + SLACK_MINUTES,
             f"OK at {ok}, broker back at minute {back['minute']}")
    d.expect("the lake recovered by itself once the stream resumed (nothing for a consumer-side action to fix)",
             f.recover is not None and g.recover is not None, f"{f.recover} with, {g.recover} without the service")
