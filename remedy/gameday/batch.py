"""Timelines of the lake's batch and Redshift side (sandbox/lake_batch.py, in the account through
sandbox/lake_batch_sandbox.py): what they watch (`Watch` of remedy.gameday.timeline) and the faults that are
causes there.

- `RedshiftCpu`: AWS/Redshift CPUUtilization, which the model publishes each minute from the loads, the heavy
  queries and the stand-in's stats_off, against the redshift-cpu alarm; recovered when CPU is at most the
  threshold. A person following the runbook ("Redshift Performance Issues": check the queue, review WLM, analyze
  tables) runs the runbook's ANALYZE of the catalog tables.
- `FailedQuality`: the partitions of a batch job whose latest load failed its quality check (bad data in its
  table), against the alarm that routes to the data quality playbook: the landing-freshness alarm of the prefix
  the job reads, the only signal the service has for data quality (functions/playbooks/data_quality.py). That
  alarm measures the landing age, not the check: `alarm_measures_it` is False and the floor is not drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from remedy.gameday.timeline import Fault, Mark, Point, Watch
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


class FailedQuality(BatchWatch):
    metric = "partitions failing their quality check"
    alarm_measures_it = False

    def __init__(self, job: str, params: BatchParams | None = None):
        super().__init__(params)
        self.job = job

    def alarm(self, run: _Run) -> str:
        prefix = run.d.catalog.glue_job(self.job).reads_prefix
        return f"{run.d.catalog.prefix}/landing-freshness/s3:{prefix}"

    def threshold(self, run: _Run) -> float:
        return 0.0  # any partition loaded with failed checks is bad data in the table

    def value(self, run: _Run) -> float:
        return float(len(self.batch.model.failing_partitions(self.job)))

    def healthy(self, run: _Run, point: Point) -> bool:
        return point.watched <= 0

    def recovery(self, run: _Run) -> str:
        return f"every partition {self.job} loaded passes its quality check"

    def person(self, run: _Run, minute: int) -> bool:
        return True  # nothing pages for a failed check: no person is called (see the scenario)


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
