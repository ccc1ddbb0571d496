"""Model-driven game day scenarios: a fault is a cause in the lake model (sandbox/lake.py), the sandbox's clock
moves a minute at a time, and the figures are read off what happened, in simulated minutes.

Each minute (`run_timeline`): the clock moves a minute; the fault happens at its minute; the model steps (producers
write, running jobs read, landing objects appear); the lag probe runs (its schedule: every minute); every five
minutes the freshness probe and the playbooks' scheduled checks run (their schedules: rate(5 minutes)); every
alarm is evaluated as CloudWatch does and each state change goes through EventBridge to whatever it routes to.
Nothing sleeps: an hour of the lake takes seconds.

With the service off, the alarms still page (their SNS actions: the monitoring the runbook already has) but no
event reaches a playbook and no scheduled check runs; a person acts `response_minutes` after the first page, as
the runbook says (check the job: start it if it is down, else give it more workers). That response time is an
assumption (a parameter), not a measurement.

The figures (`Figures`): time to detect (fault -> the watched alarm in ALARM), to the first action (the service's,
or the person's), to recovery (the runbook's levels: lag under the threshold and landing data fresher than the
freshness threshold, held to the end), peak lag, the stalest landing data and the oldest message not yet landed
(data at risk); and the detection floor: the minute the lag first crossed the threshold, plus the alarm's own
M-of-N x period (AWS documents no further latency for a metric published through the embedded metric format; it
advises M-of-N alarms for Lambda's log flush: 0 is counted here, which keeps the floor a lower bound).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from remedy.gameday.drill import Drill
from sandbox.alarms import evaluate
from sandbox.lake import LakeParams
from sandbox.lake_sandbox import LakeInSandbox

RESPONSE_MINUTES = 30  # assumed: from the page to a person acting on the runbook (a parameter, not a fact)
PROBE_PERIOD_MINUTES = 1  # the lag probe's schedule, rate(1 minute)
CHECKS_EVERY = 5  # the freshness probe's and the playbooks' checks' schedule, rate(5 minutes)
CHECKS = ("msk_consumer_lag-checks", "glue_job_failure-checks", "data_quality-checks")


@dataclass
class Point:
    minute: int
    lag: int  # the model's truth
    rate: float  # messages a minute producers write
    capacity: float  # messages a minute the job can read now
    workers: int  # of the current run (0: none)
    alarm: str  # the watched alarm's state after this minute's evaluation
    landing_age: float
    unlanded_age: float
    # What a `Watch` other than the consumer lag watches (None: the lag), and whether the runbook's levels held
    # this minute by the watch's own measure (None: the lag's levels, `lag_healthy`).
    value: float | None = None
    healthy: bool | None = None

    @property
    def watched(self) -> float:
        return float(self.lag) if self.value is None else self.value


@dataclass
class Mark:
    minute: int
    kind: str  # fault | alarm | page | action | person | recovered | closed
    text: str


@dataclass
class Figures:
    detect: int | None
    first_action: int | None
    recover: int | None
    peak_lag: int
    stalest_landing: float
    oldest_unlanded: float
    floor_detect: int | None
    detected_by: str | None  # alarm | event (the service acted on an event before the alarm could fire)
    floor: dict[str, Any]
    steps: list[str]
    peak: float | None = None  # the watched metric's peak (a watch other than the lag; the lag's is peak_lag)


@dataclass
class Timeline:
    scenario: str
    job: str
    alarm: str
    threshold: float
    freshness_minutes: float
    service: bool
    response_minutes: int
    fault_minute: int
    points: list[Point] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    figures: Figures | None = None
    metric: str = "consumer lag (messages)"  # what `threshold` and the points' watched value measure
    recovery: str = ""  # the runbook's levels the recovery is judged by, in words
    alarm_measures_it: bool = True  # the watched alarm measures the watched metric (else: no floor to detect)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Fault = Callable[[LakeInSandbox, Drill, bool], str]


def crash(error: str, job: str) -> Fault:
    """The job's run dies with `error`; Glue's `Glue Job State Change` FAILED event goes through EventBridge."""

    def inject(lake: LakeInSandbox, d: Drill, service: bool) -> str:
        from sandbox.glue_events import job_state_change_event

        run_id = lake.crash(job, error)
        if run_id and service:
            d.deliver(job_state_change_event(d.catalog.account_id, d.catalog.region, job, run_id, "FAILED", error,
                                             d.now))
        return f"{job} run {str(run_id)[:10]} FAILED: {error}"

    return inject


def burst(topic: str, factor: float, minutes: int) -> Fault:
    def inject(lake: LakeInSandbox, d: Drill, service: bool) -> str:
        lake.burst(topic, factor, minutes)
        return f"producers write {factor:g}x their rate to {topic} for {minutes} min (peak trading)"

    return inject


class Watch:
    """What a timeline watches, and what a person does about it: by default the consumer lag of the timeline's
    job against its consumer-lag alarm, recovered when the lag is under the threshold, the landing data fresh and
    the job reading (the lake-job-crash and lake-peak-burst scenarios). A subclass watches another metric with
    its own alarm, threshold and recovery level (remedy/gameday/batch.py: Redshift CPU, failed quality checks),
    and may step a model of its own each minute after the streaming model's."""

    metric = "consumer lag (messages)"

    def alarm(self, run: _Run) -> str:
        return f"{run.d.catalog.prefix}/consumer-lag/glue:{run.job}"

    def threshold(self, run: _Run) -> float:
        """The level the watched metric is judged against: the alarm's threshold, unless the watched metric is
        not what the alarm measures (`alarm_measures_it` False: no alarm of the service measures it)."""
        return float(run.spec["Threshold"])

    alarm_measures_it = True  # False: the floor to detect is not the alarm's window after a crossing
    # The lag probe each minute (its schedule). A watch whose fault leaves the streams alone may skip it: the lag
    # alarm keeps its state without datapoints (treat_missing_data ignore), and a third of a minute's cost goes.
    lag_probe = True

    def attach(self, run: _Run) -> None:
        """Called once the run's streaming model exists, before the first minute."""

    def step(self, run: _Run, minute: int) -> None:
        """This minute's own physics and probes, after the streaming model stepped and before the alarms."""

    def value(self, run: _Run) -> float | None:
        """The watched metric's truth now; None: the lag."""
        return None

    def healthy(self, run: _Run, point: Point) -> bool | None:
        """The runbook's levels this minute; None: the lag's (`lag_healthy`)."""
        return None

    def recovery(self, run: _Run) -> str:
        return f"lag under {run.threshold:,.0f}, landing fresher than {run.fresh:g} min"

    def person(self, run: _Run, minute: int) -> bool:
        """The runbook by hand, `response_minutes` after the page; True once done."""
        return _person(run.lake, run.d, run.job, minute, run.timeline)


def lag_healthy(point: Point, threshold: float, freshness_minutes: float) -> bool:
    return point.lag <= threshold and point.landing_age <= freshness_minutes and point.capacity > 0


def run_timeline(d: Drill, scenario: str, job: str, fault: Fault, *, service: bool = True,
                 response_minutes: int = RESPONSE_MINUTES, fault_minute: int = 2, max_minutes: int = 150,
                 settle_minutes: int = 10, params: LakeParams | None = None,
                 watch: Watch | None = None) -> Timeline:
    """Run the lake minute by minute until it has recovered and stayed so for `settle_minutes` (or `max_minutes`)."""
    run = _Run(d, scenario, job, service, response_minutes, fault_minute, params, watch or Watch())
    recovered_since: int | None = None
    hurt = False
    for minute in range(1, max_minutes + 1):
        point = run.minute(minute, fault)
        healthy = (lag_healthy(point, run.threshold, run.fresh) if point.healthy is None else point.healthy)
        if minute >= fault_minute and not healthy:
            hurt, recovered_since = True, None
        elif hurt and healthy:
            recovered_since = recovered_since or minute
            if minute - recovered_since >= settle_minutes and run.state == "OK":
                break
    return run.finish()


def _next_minute(d: Drill) -> None:
    """Move the drill and the sandbox's clock to the first second of the next minute. The model stamps what it
    publishes with the sandbox's clock, which is wall time plus an offset and so runs on while a minute is worked
    through (the model steps, handlers run, a function may wait on the clock); the alarms are evaluated at the
    drill's `now`. Starting each minute at its first second leaves 59 s of work before the two could name
    different minutes (an empty period in an alarm's window: tests/integration/test_timeline_clock.py)."""
    from sandbox import clock

    latest = max(d.now, clock.now())
    d.now = datetime.fromtimestamp((int(latest.timestamp()) // 60 + 1) * 60 + 1, UTC)
    d.advance(0)


class _Run:
    """One timeline's minutes: the clock, the fault, the model, the probes, the alarms, the service or the person."""

    def __init__(self, d: Drill, scenario: str, job: str, service: bool, response_minutes: int, fault_minute: int,
                 params: LakeParams | None, watch: Watch):
        catalog = d.catalog
        self.d, self.job, self.service, self.watch = d, job, service, watch
        _next_minute(d)
        self.alarm = watch.alarm(self)
        self.spec = d.sandbox.deployment.alarms[self.alarm]
        self.lake = LakeInSandbox(d.sandbox, params)
        self.topic = self.lake.jobs[job].topic or ""
        self.fresh = float(catalog.thresholds.landing_freshness_minutes)
        self.threshold = watch.threshold(self)
        watch.attach(self)
        self.timeline = Timeline(scenario, job, self.alarm, self.threshold, self.fresh, service, response_minutes,
                                 fault_minute, metric=watch.metric, recovery=watch.recovery(self),
                                 alarm_measures_it=watch.alarm_measures_it)
        schedules = {r.name for r in d.sandbox.deployment.schedules}
        self.checks = [f"{catalog.prefix}-{n}" for n in CHECKS if f"{catalog.prefix}-{n}" in schedules]
        self.state = _state(d, self.alarm)
        self.cloudwatch = d.sandbox.client("cloudwatch")
        self.paged_at: int | None = None
        self.person_done = False
        self.actions_seen = len(_actions(d))
        d.say("note", f"lake model: {job} on {self.topic}, service {'ON' if service else 'OFF'}"
                      + ("" if service else f" (a person acts {response_minutes} min after the page: assumed)"))

    def minute(self, minute: int, fault: Fault) -> Point:
        d, timeline = self.d, self.timeline
        _next_minute(d)
        if minute == timeline.fault_minute:
            text = fault(self.lake, d, self.service)
            timeline.marks.insert(0, Mark(minute, "fault", text))
            d.say("inject", f"minute {minute}: {text}")
        self.lake.step()
        base = datetime.fromtimestamp((int(d.now.timestamp()) // 60) * 60, UTC)
        if self.watch.lag_probe:
            d.run_lag_probe(base + timedelta(seconds=1))
        self.watch.step(self, minute)
        if minute % CHECKS_EVERY == 0:
            self._scheduled()
        changes = self._alarms(minute)
        if not self.service:
            self._person(minute)
        elif changes or minute % CHECKS_EVERY == 0 or minute == timeline.fault_minute:
            found = _actions(d)
            timeline.marks += [Mark(minute, "action", _describe(r)) for r in found[self.actions_seen:]]
            self.actions_seen = len(found)
        self.lake.observe_runs()
        model, run = self.lake.model, self.lake.current_run(self.job)
        point = Point(minute, model.lag(self.job), round(model.rate(self.topic)), model.capacity(self.job, run),
                      run.workers if run else 0, self.state, round(model.landing_age(self.job), 1),
                      round(model.oldest_unlanded(self.job), 1), self.watch.value(self))
        point.healthy = self.watch.healthy(self, point)
        timeline.points.append(point)
        return point

    def _scheduled(self) -> None:
        """The five-minute schedules: the freshness probe, and with the service the playbooks' checks."""
        d = self.d
        d.sandbox.run_schedules(d.now, [f"{d.catalog.prefix}-probe-freshness"])
        if not self.service:
            return
        for delivery in d.sandbox.run_schedules(d.now, self.checks):
            for invocation in delivery.invocations:
                if invocation.error:
                    d.say("handler", f"{delivery.matched[0]} failed: {invocation.error}")

    def _alarms(self, minute: int) -> list[Any]:
        # CloudWatch evaluates every alarm each minute. Here the watched alarm is evaluated each minute and every
        # alarm (composites, pages, the five-minute freshness and failure alarms) when it would change state and
        # every five minutes: exact for the alarms these faults move, and a fifth of the calls.
        d = self.d
        if minute % CHECKS_EVERY and evaluate(self.cloudwatch, self.alarm, self.spec, d.now,
                                              current=self.state).state == self.state:
            return []
        changes = d.sandbox.evaluate_alarms(d.now)
        for evaluation, event in changes:
            if evaluation.alarm_name == self.alarm:
                self.state = evaluation.state
                self.timeline.marks.append(Mark(minute, "alarm", f"{self.alarm} -> {evaluation.state}"))
                d.say("alarm", f"minute {minute}: {self.alarm}: {evaluation.previous} -> {evaluation.state}")
            if self.service:
                d.deliver(event)
        return changes

    def _person(self, minute: int) -> None:
        d, wait = self.d, self.timeline.response_minutes
        if self.paged_at is None and any(p["subject"].startswith("ALARM:") for p in d.pages()):
            self.paged_at = minute
            self.timeline.marks.append(Mark(minute, "page", "on call paged"))
            d.say("note", f"minute {minute}: on call paged; a person acts at minute {minute + wait}")
        if self.paged_at is not None and not self.person_done and minute >= self.paged_at + wait:
            self.person_done = self.watch.person(self, minute)

    def finish(self) -> Timeline:
        timeline = self.timeline
        f = timeline.figures = figures(timeline, self.spec)
        if f.recover is not None:
            timeline.marks.append(Mark(timeline.fault_minute + f.recover, "recovered", timeline.recovery))
        self.d.say("note", f"figures (minutes after the fault): detect {f.detect}, first action {f.first_action}, "
                           f"recover {f.recover}; floor to detect {f.floor_detect}; peak lag {f.peak_lag:,}; oldest "
                           f"unlanded {f.oldest_unlanded:g} min; steps: {'; '.join(f.steps) or 'none'}")
        return timeline


def _state(d: Drill, alarm: str) -> str:
    found = d.sandbox.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    return str(found[0]["StateValue"]) if found else "INSUFFICIENT_DATA"


def _actions(d: Drill) -> list[dict[str, Any]]:
    return [r for r in d.sandbox.audit() if r["kind"] == "action"]


def _describe(record: dict[str, Any]) -> str:
    payload = record.get("payload", {})
    action = payload.get("action", {}) if isinstance(payload.get("action"), dict) else {}
    name = action.get("name") or payload.get("name") or "action"
    params = action.get("params", {})
    workers = (f" {params['from_workers']} -> {params['to_workers']} workers" if "from_workers" in params
               else f" with {params['to_workers']} workers" if "to_workers" in params else "")
    return f"{name}{workers} ({payload.get('status', '?')})"


def _person(lake: LakeInSandbox, d: Drill, job: str, minute: int, timeline: Timeline) -> bool:
    """The runbook by hand: 1. check the job's status: down -> start it; 2. running -> more workers (stop it,
    start it with two more once stopped: a running Glue job keeps its worker count). True once done."""
    glue = d.sandbox.client("glue")
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    if any(r["JobRunState"] == "STOPPING" for r in runs):
        return False  # wait for the stop to finish
    active = [r for r in runs if r["JobRunState"] in ("STARTING", "RUNNING", "WAITING")]
    catalog_job = d.catalog.glue_job(job)
    stopped_by_person = any(m.kind == "person" and "stop" in m.text for m in timeline.marks)
    if not active:
        workers = catalog_job.min_workers + (d.catalog.guardrails.scale_step_workers if stopped_by_person else 0)
        glue.start_job_run(JobName=job, NumberOfWorkers=workers, WorkerType=catalog_job.worker_type)
        text = f"a person starts {job} with {workers} workers (runbook: check the job's status)"
        timeline.marks.append(Mark(minute, "person", text))
        d.say("inject", f"minute {minute}: {text}")
        return True
    if lake.model.lag(job) > timeline.threshold and not stopped_by_person:
        glue.batch_stop_job_run(JobName=job, JobRunIds=[active[0]["Id"]])
        text = f"a person stops {job} to restart it with more workers (runbook: increase worker count)"
        timeline.marks.append(Mark(minute, "person", text))
        d.say("inject", f"minute {minute}: {text}")
        return False
    return True


def figures(timeline: Timeline, spec: dict[str, Any]) -> Figures:
    fault = timeline.fault_minute
    after = [p for p in timeline.points if p.minute >= fault]
    alarm_at = next((m.minute for m in timeline.marks if m.kind == "alarm" and m.text.endswith("ALARM")), None)
    acted_at = next((m.minute for m in timeline.marks if m.kind in ("action", "person")), None)
    # Detected: the watched alarm in ALARM, or earlier the service acting on an event (Glue's FAILED run reaches
    # the Glue failure playbook through EventBridge within seconds: no alarm window to wait for).
    detected_by = "alarm" if alarm_at is not None else None
    if timeline.service and acted_at is not None and (alarm_at is None or acted_at < alarm_at):
        alarm_at, detected_by = acted_at, "event"
    # Recovered: from this minute to the end the runbook's levels hold and the job reads again (a stream that is
    # down is not recovered while its backlog is still under the threshold). Counted once the fault has shown:
    # the lag crossed the threshold, or the job stopped reading.
    def healthy(p: Point) -> bool:
        if p.healthy is not None:  # a watch of another metric judged its own levels
            return p.healthy
        return lag_healthy(p, timeline.threshold, timeline.freshness_minutes)

    hurt = next((i for i, p in enumerate(after) if not healthy(p)), None)
    recover = None
    if hurt is not None:
        for point in after[hurt:]:
            if all(healthy(p) for p in after[after.index(point):]):
                recover = point.minute - fault
                break
    crossed = next((p.minute for p in after if p.watched > timeline.threshold), None)
    period = int(spec.get("Period", 60)) / 60
    needed = int(spec.get("DatapointsToAlarm", spec["EvaluationPeriods"]))
    window = needed * period
    floor_detect = (None if crossed is None or not timeline.alarm_measures_it
                    else math.ceil(crossed - fault) + math.ceil(window))
    steps = [f"{m.minute - fault:+d} min: {m.text}" for m in timeline.marks if m.kind in ("action", "person")]
    return Figures(
        detect=None if alarm_at is None else alarm_at - fault,
        first_action=None if acted_at is None else acted_at - fault,
        recover=recover,
        peak_lag=max((p.lag for p in after), default=0),
        stalest_landing=max((p.landing_age for p in after), default=0.0),
        oldest_unlanded=max((p.unlanded_age for p in after), default=0.0),
        floor_detect=floor_detect,
        detected_by=detected_by,
        floor={"threshold_crossed": None if crossed is None else crossed - fault,
               "alarm_window_minutes": window,
               "alarm": f"{needed} of {spec['EvaluationPeriods']} x {int(period * 60)} s",
               "probe_period_minutes": PROBE_PERIOD_MINUTES,
               "metric_latency_minutes": 0,
               "latency_source": "none documented by AWS for EMF metrics (CloudWatch user guide, 'Setting alarms "
                                 "on metrics created with the embedded metric format')"},
        steps=steps,
        peak=None if all(p.value is None for p in after) else max(p.watched for p in after),
    )
