"""Timelines of the lake's batch and Redshift side (sandbox/lake_batch.py, in the account through
sandbox/lake_batch_sandbox.py): what they watch (`Watch` of remedy.gameday.timeline) and the faults that are
causes there.

- `RedshiftCpu`: AWS/Redshift CPUUtilization, which the model publishes each minute from the loads, the heavy
  queries and the stand-in's stats_off, against the redshift-cpu alarm; recovered when CPU is at most the
  threshold. A person following the runbook ("Redshift Performance Issues": check the queue, review WLM, analyze
  tables) runs the runbook's ANALYZE of the catalog tables.
- `FailedQuality`: the partitions of a batch job whose latest load failed its quality check (bad data in its
  table), against the quality-check-failures alarm of the prefix the job reads (the freshness probe counts the
  failed staging quality flags, functions/probes/quality.py; the alarm routes to the data quality playbook, which
  proposes the partition's re-run and waits for approval). Recovered when every partition the job loaded passes.
  The re-run passes only over good data: whoever re-runs first has the producers replay the malformed records
  (runbook: check source data), which the model does at once (`BatchModel.repair`). With the service, a person
  approves `approval_minutes` (assumed) after the service's notification; without it, the page and a person
  re-running `RESPONSE_MINUTES` (assumed) later.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from remedy.gameday.timeline import Fault, Mark, Point, Watch, _actions, _describe
from sandbox.lake_batch import BatchParams
from sandbox.lake_batch_sandbox import BatchInSandbox

if TYPE_CHECKING:
    from remedy.gameday.drill import Drill
    from remedy.gameday.timeline import _Run
    from sandbox.lake_sandbox import LakeInSandbox


class BatchWatch(Watch):
    lag_probe = False  # the batch side's faults leave the streams alone: their lag alarms keep their state

    def __init__(self, params: BatchParams | None = None):
        self.params = params or BatchParams()
        self._batch: BatchInSandbox | None = None

    @property
    def batch(self) -> BatchInSandbox:
        if self._batch is None:
            raise RuntimeError("the watch is not attached to a timeline yet")
        return self._batch

    def attach(self, run: _Run) -> None:
        self._batch = BatchInSandbox(run.d.sandbox, run.lake, self.params)

    def step(self, run: _Run, minute: int) -> None:
        self.batch.step()


class RedshiftCpu(BatchWatch):
    metric = "Redshift CPU (%)"

    def alarm(self, run: _Run) -> str:
        return f"{run.d.catalog.prefix}/redshift-cpu/redshift:{run.d.catalog.redshift.cluster_id}"

    def value(self, run: _Run) -> float:
        return self.batch.cpu

    def healthy(self, run: _Run, point: Point) -> bool:
        return point.watched <= run.threshold

    def recovery(self, run: _Run) -> str:
        return f"Redshift CPU at most {run.threshold:g} %"

    def person(self, run: _Run, minute: int) -> bool:
        """Runbook 'Redshift Performance Issues' by hand: 1. check the query queue (nothing queued), 2. review WLM
        (nothing to change), 3. analyze tables: the runbook's ANALYZE of the catalog's tables."""
        tables = [f"{t.schema_name}.{t.name}" for t in run.d.catalog.redshift.tables]
        for table in tables:
            schema, name = table.split(".", 1)
            self.batch.standin.execute(f'ANALYZE "{schema}"."{name}"')
        text = f"a person runs ANALYZE {', '.join(tables)} (runbook: analyze tables)"
        run.timeline.marks.append(Mark(minute, "person", text))
        run.d.say("inject", f"minute {minute}: {text}")
        return True


# Assumed, not measured (docs/recovery.md, parameters): minutes from the service's notification of a proposed
# re-run (the failed rule, the exact command, how to approve) to a person approving it.
APPROVAL_MINUTES = 10
APPROVER = "alice"  # on the dev catalog's approvers list (OnCall)


class FailedQuality(BatchWatch):
    metric = "partitions failing their quality check"

    def __init__(self, job: str, params: BatchParams | None = None, approval_minutes: int = APPROVAL_MINUTES):
        super().__init__(params)
        self.job = job
        self.approval_minutes = approval_minutes
        self.told_at: int | None = None  # minute the service's AWAITING_APPROVAL notification arrived
        self.approval: str | None = None  # its approval id (ap-...)
        self.approved_at: int | None = None
        self.reruns_before_approval: int | None = None  # runs of the job nobody's schedule started, until then
        self.answer: dict[str, Any] = {}  # what `remedy incident approve` answered
        self.audit: list[dict[str, Any]] = []  # the service's audit trail, as of the last minute (kept for the
        # scenario: the account is reset before the timeline without the service)

    def alarm(self, run: _Run) -> str:
        prefix = run.d.catalog.glue_job(self.job).reads_prefix
        return f"{run.d.catalog.prefix}/quality-check-failures/s3:{prefix}"

    def value(self, run: _Run) -> float:
        return float(len(self.batch.model.failing_partitions(self.job)))

    def healthy(self, run: _Run, point: Point) -> bool:
        return point.watched <= 0

    def recovery(self, run: _Run) -> str:
        return f"every partition {self.job} loaded passes its quality check"

    def step(self, run: _Run, minute: int) -> None:
        super().step(run, minute)
        if run.service:
            self._approve(run, minute)
            self.audit = run.d.sandbox.audit()

    def _replay(self, run: _Run, minute: int, who: str) -> list[str]:
        """Runbook 'Data Quality Issues' 3, check source data: the producers replay the malformed records of the
        failing partitions (their fix), so that a re-run reads good data."""
        view = next(j for j in self.batch.model.jobs if j.name == self.job)
        failing = self.batch.model.failing_partitions(self.job)
        for partition in failing:
            self.batch.model.repair(view.stream, partition)
        text = f"{who} has the producers replay the malformed records of {', '.join(failing)} (check source data)"
        run.timeline.marks.append(Mark(minute, "person", text))
        run.d.say("inject", f"minute {minute}: {text}")
        return failing

    def _approve(self, run: _Run, minute: int) -> None:
        from remedy.commands import incident
        from sandbox.people import answering

        d = run.d
        if self.told_at is None:
            told = [n for n in d.notifications() if "AWAITING_APPROVAL: data_quality on s3:" in n["subject"]]
            found = re.search(r"remedy incident approve (ap-[0-9a-f]{10})", told[0]["message"]) if told else None
            if found is None:
                return
            self.told_at, self.approval = minute, found.group(1)
            run.timeline.marks.append(Mark(minute, "page", f"on call told by the service: {told[0]['subject']}"))
            d.say("note", f"minute {minute}: the re-run waits for approval; {APPROVER} approves at minute "
                          f"{minute + self.approval_minutes} (assumed)")
        if self.approved_at is not None or minute < self.told_at + self.approval_minutes or not self.approval:
            return
        self.reruns_before_approval = len(self.batch.adopted)
        self._replay(run, minute, APPROVER)
        self.approved_at = minute
        self.answer = incident.approve(d.sandbox.client, d.catalog, self.approval, reason="producers replayed "
                                       "the malformed records", **answering(d.sandbox, APPROVER))
        text = f"{APPROVER} approves {self.approval}: {self.answer.get('decision')}"
        run.timeline.marks.append(Mark(minute, "person", text))
        d.say("answer", f"minute {minute}: {text}")
        found = _actions(d)  # the re-run the approval carried out, marked at its minute
        run.timeline.marks += [Mark(minute, "action", _describe(r)) for r in found[run.actions_seen:]]
        run.actions_seen = len(found)

    def person(self, run: _Run, minute: int) -> bool:
        """Runbook 'Data Quality Issues' by hand, after the page: check the staging flags (the failing
        partitions), check source data (the producers replay it), re-run the batch job for each partition."""
        job = run.d.catalog.glue_job(self.job)
        for partition in self._replay(run, minute, "a person"):
            run.d.sandbox.client("glue").start_job_run(JobName=job.name, Arguments={
                job.partition_argument: partition, "--job-bookmark-option": "job-bookmark-disable"})
            text = f"a person re-runs {job.name} for partition {partition} (runbook: re-run batch jobs)"
            run.timeline.marks.append(Mark(minute, "person", text))
            run.d.say("inject", f"minute {minute}: {text}")
        return True


def stale_statistics(watch: BatchWatch, table: str, hours: int, query_minutes: int) -> Fault:
    """`hours` hourly loads of `table` landed since its last ANALYZE (automatic analyze deferred under load), then
    a heavy query on it starts and keeps running (a dashboard refreshing) for `query_minutes`."""

    def inject(lake: LakeInSandbox, d: Drill, service: bool) -> str:
        batch = watch.batch
        job = next(j for j in batch.model.jobs if j.table == table)
        topic = lake.jobs[job.stream].topic or ""
        messages = sum(lake.model.rate(topic, float(-m)) for m in range(1, hours * 60 + 1))
        rows = round(messages * watch.params.rows_per_message)
        batch.load(table, rows)
        batch.model.heavy_query(table, query_minutes)
        off = batch.stats_off().get(table, 0.0)
        return (f"{hours} hourly loads of {table} ({rows:,} stand-in rows) landed without ANALYZE: stats_off "
                f"{off:.1f}%; a heavy query on {table} keeps running for {query_minutes} min")

    return inject


def corrupted_partition(watch: BatchWatch, stream: str, share: float, minutes: int) -> Fault:
    """For `minutes`, `share` of the records `stream` lands are malformed (a producer's bad deploy): the landing
    partition of that hour is corrupt."""

    def inject(lake: LakeInSandbox, d: Drill, service: bool) -> str:
        watch.batch.model.corrupt_writes(stream, share, minutes)
        return (f"{share:.0%} of the records {stream} lands are malformed for {minutes} min (partition "
                f"{watch.batch.partition(d.now)})")

    return inject
