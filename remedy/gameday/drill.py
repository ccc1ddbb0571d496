"""What a scenario works with: fault injection into the sandbox, the alarm → event → route → handler
loop, and expectations checked against the state of the emulated account (never against return codes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.core import Delivery, Sandbox


@dataclass
class Step:
    kind: str  # inject | alarm | route | handler | expect | note
    text: str
    ok: bool | None = None  # for expectations


@dataclass
class Drill:
    sandbox: Sandbox
    on_step: Callable[[Step], None] = lambda step: None
    steps: list[Step] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    inbox_url: str = ""
    inbox: list[dict[str, str]] = field(default_factory=list)
    _read: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})

    def __post_init__(self) -> None:
        self.catalog = self.sandbox.catalog
        self._open_inbox()

    # -- narration ------------------------------------------------------------------------------------

    def say(self, kind: str, text: str, ok: bool | None = None) -> None:
        step = Step(kind, text, ok)
        self.steps.append(step)
        self.on_step(step)

    def expect(self, label: str, ok: bool, detail: str = "") -> bool:
        self.say("expect", f"{label}" + (f" — {detail}" if detail else ""), ok=bool(ok))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return all(s.ok for s in self.steps if s.kind == "expect") and any(s.kind == "expect" for s in self.steps)

    # -- time -----------------------------------------------------------------------------------------

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    # -- the event path -------------------------------------------------------------------------------

    def fire(self) -> list[Delivery]:
        """Evaluate every synthesized alarm at `now`; deliver each state change through EventBridge."""
        deliveries = []
        changes = self.sandbox.evaluate_alarms(self.now)
        if not changes:
            self.say("alarm", "no alarm changed state")
        for evaluation, event in changes:
            self.say("alarm", f"{evaluation.alarm_name}: {evaluation.previous} -> {evaluation.state} "
                              f"(datapoints {_points(evaluation.datapoints)})")
            deliveries.append(self.deliver(event))
        return deliveries

    def deliver(self, event: dict[str, Any]) -> Delivery:
        delivery = self.sandbox.deliver(event)
        if not delivery.matched:
            self.say("route", "no rule matched")
        for invocation in delivery.invocations:
            self.say("route", f"rule {', '.join(delivery.matched)} -> {invocation.function}")
            if invocation.error:
                self.say("handler", f"failed after {invocation.attempts} attempts: {invocation.error}")
                continue
            result = invocation.result or {}
            self.outcomes.append(result)
            self.say("handler", f"{result.get('status')}: {result.get('summary') or result.get('reason', '')}")
        return delivery

    # -- faults and observations ----------------------------------------------------------------------

    def runs(self, job: str) -> list[dict[str, Any]]:
        """The job's runs, newest first, as GetJobRuns reports them."""
        return list(self.sandbox.client("glue").get_job_runs(JobName=job)["JobRuns"])

    def active_runs(self, job: str) -> list[dict[str, Any]]:
        return [r for r in self.runs(job) if r["JobRunState"] in ("STARTING", "RUNNING", "WAITING")]

    def stop_streaming_job(self, job: str, error: str = "") -> None:
        glue = self.sandbox.client("glue")
        active = [r["Id"] for r in self.active_runs(job)]
        if active:
            glue.batch_stop_job_run(JobName=job, JobRunIds=active)
        if error:
            backend = self.sandbox.account.glue_backend()
            for run in backend.get_job(job).job_runs:
                if run.job_run_id in active:
                    run.status, run.error_message = "FAILED", error
        self.say("inject", f"streaming job {job} stopped" + (f" ({error})" if error else ""))

    def end_run(self, job: str, state: str, error: str = "", run_id: str | None = None) -> Delivery:
        """End a run (the newest active one unless `run_id`) in `state`, as Glue would, and deliver the
        `Glue Job State Change` event Glue emits for it through EventBridge."""
        from sandbox.glue_events import job_state_change_event

        backend = self.sandbox.account.glue_backend()
        runs = backend.get_job(job).job_runs
        run = next((r for r in reversed(runs) if r.job_run_id == run_id or
                    (run_id is None and r.status in ("STARTING", "RUNNING", "WAITING"))), None)
        if run is None:
            raise ValueError(f"no {'run ' + run_id if run_id else 'active run'} of {job} to end")
        run.status, run.error_message = state, error or None
        self.say("inject", f"run {run.job_run_id[:10]} of {job} ended {state}" + (f": {error}" if error else ""))
        event = job_state_change_event(self.catalog.account_id, self.catalog.region, job, run.job_run_id, state,
                                       error, self.now)
        return self.deliver(event)

    def start_run(self, job: str, arguments: dict[str, str] | None = None) -> str:
        run_id = self.sandbox.client("glue").start_job_run(JobName=job, Arguments=arguments or {})["JobRunId"]
        self.say("inject", f"run {run_id[:10]} of {job} started" + (f" with {arguments}" if arguments else ""))
        return str(run_id)

    def consumer_lag(self, job_name: str, values: list[float]) -> None:
        """What MSK publishes for the job's consumer group: one SumOffsetLag value a minute up to `now`."""
        job = self.catalog.glue_job(job_name)
        dims = {"Cluster Name": self.catalog.msk.cluster_name, "Consumer Group": job.consumer_group or "",
                "Topic": job.topic or ""}
        self.sandbox.put_metric("AWS/Kafka", "SumOffsetLag", dims, values, end=self.now)
        self.say("inject", f"consumer lag of {job.consumer_group} on {job.topic}: {_points(values)}")

    def set_kill_switch(self, on: bool) -> None:
        self.sandbox.client("ssm").put_parameter(Name=self.catalog.guardrails.kill_switch_parameter,
                                                 Value="on" if on else "off", Type="String", Overwrite=True)
        self.say("inject", f"kill switch {self.catalog.guardrails.kill_switch_parameter} set {'on' if on else 'off'}")

    def audit(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.audit() if kind is None or r["kind"] == kind]

    # -- the on-call inbox: an SQS queue subscribed to the on-call topic ------------------------------

    def _open_inbox(self) -> None:
        sqs, sns = self.sandbox.client("sqs"), self.sandbox.client("sns")
        self.inbox_url = sqs.create_queue(QueueName="gameday-on-call-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                     if t["TopicArn"].endswith(f":{self.catalog.notifications.on_call_topic}"))
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    def _drain(self) -> None:
        sqs = self.sandbox.client("sqs")
        while True:
            batch = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return
            for message in batch:
                body = json.loads(message["Body"])
                self.inbox.append({"subject": body.get("Subject", ""), "message": body.get("Message", "")})
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])

    def _unread(self, page: bool) -> list[dict[str, str]]:
        self._drain()
        mine = [m for m in self.inbox if m["subject"].startswith("[") != page]
        seen = self._read[page]
        self._read[page] = len(mine)
        return mine[seen:]

    def notifications(self) -> list[dict[str, str]]:
        """The playbooks' notifications received since the last call: [{'subject':..., 'message':...}]."""
        return self._unread(page=False)

    def pages(self) -> list[dict[str, str]]:
        """Alarm notifications (CloudWatch alarm actions on the on-call topic) since the last call."""
        return self._unread(page=True)


def _points(values: list[float | None]) -> str:
    return "[" + ", ".join("-" if v is None else f"{v:,.0f}" for v in values) + "]"
