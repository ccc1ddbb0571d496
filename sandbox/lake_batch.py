"""The batch and Redshift side of the lake model (sandbox/lake.py is the streaming side): pure physics, no AWS.

Each simulated minute (`BatchModel.step`):

- what each streaming job landed this minute is counted into its landing partition (the lake's hour, as the
  catalog's landing_partition_format names it); a share of it may be malformed (the corrupted-partition fault);
- a batch job starts on its catalog schedule (an hourly `cron(M * * * ? *)`: at minute M of every hour) and runs
  `load_minutes`: it reads the previous hour's landing partition, writes curated, loads its Redshift table (rows
  in proportion to the messages it read) and judges the partition: its quality check passes when no record is
  malformed (the staging quality flags the data quality playbook reads);
- Redshift's CPU follows what runs on it: the lake's ordinary queries, each load while it runs, and each heavy
  query in force, whose cost grows with the stale statistics of the table it reads (a plan built on stale row
  counts picks the wrong join order and distribution: `1 + stale_gain x stats_off / 100` times its cost on fresh
  statistics).

The model does not hold stats_off: the table's statistics are the Redshift stand-in's (SVV_TABLE_INFO), which
the loads really move and a real ANALYZE really resets; whoever steps the model hands them in
(sandbox/lake_batch_sandbox.py reads them from the stand-in). Its numbers are parameters (`BatchParams`), chosen
so that a heavy query on fresh statistics leaves the cluster well under the 80 % alarm and the same query on a
table whose statistics are a few loads old does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HOURLY = re.compile(r"^cron\((\d{1,2}) \* \* \* \? \*\)$")


def hourly_minute(schedule: str | None) -> int | None:
    """The minute of the hour an hourly EventBridge cron runs at (`cron(15 * * * ? *)` -> 15); None for any
    other schedule (the model runs hourly batch jobs only)."""
    match = HOURLY.match(schedule or "")
    return int(match.group(1)) if match and int(match.group(1)) < 60 else None


@dataclass(frozen=True)
class BatchParams:
    # Stand-in rows a landed message becomes: the stand-in is a scaled copy of the warehouse (2,000 seeded sales
    # rows), so one row stands for a thousand orders and a load stays a fraction of a second of PostgreSQL.
    rows_per_message: float = 0.001
    # Minutes a batch run takes from its start to the end of its load (read landing, write curated, COPY).
    load_minutes: float = 5.0
    # Redshift CPU %: the lake's ordinary queries; each load while it runs; a heavy query on fresh statistics.
    cpu_idle: float = 15.0
    cpu_load: float = 20.0
    cpu_heavy_query: float = 30.0
    # How much more a heavy query costs per unit of stale statistics (stats_off / 100).
    stale_gain: float = 5.0


@dataclass
class Partition:
    messages: int = 0
    malformed: int = 0


@dataclass
class BatchRun:
    job: str
    partition: str  # the landing partition it reads (e.g. 2026/12/02/11)
    started: float  # model minute
    ends: float
    messages: int = 0
    malformed: int = 0
    rows: int = 0
    done: bool = False

    @property
    def passed(self) -> bool:
        return self.malformed == 0

    @property
    def failed_rules(self) -> list[str]:
        return [] if self.passed else [f"malformed_records = 0 (got {self.malformed:,} of {self.messages:,})"]


@dataclass(frozen=True)
class BatchJobView:
    name: str
    stream: str  # the streaming job whose landing prefix it reads
    table: str  # schema.table it loads
    minute: int  # of the hour it starts at


@dataclass
class HeavyQuery:
    table: str
    start: float
    end: float


@dataclass
class BatchModel:
    params: BatchParams
    jobs: list[BatchJobView]
    partitions: dict[tuple[str, str], Partition] = field(default_factory=dict)  # (stream, partition) -> landed
    runs: list[BatchRun] = field(default_factory=list)
    heavy: list[HeavyQuery] = field(default_factory=list)
    corrupt: dict[str, tuple[float, float]] = field(default_factory=dict)  # stream -> (malformed share, until)
    minute: float = 0.0

    # -- faults -------------------------------------------------------------------------------------------------

    def heavy_query(self, table: str, minutes: float) -> None:
        """A heavy query on `table` runs from now for `minutes` (a dashboard that refreshes continuously)."""
        self.heavy.append(HeavyQuery(table, self.minute, self.minute + minutes))

    def corrupt_writes(self, stream: str, share: float, minutes: float) -> None:
        """For `minutes` from now, `share` of what `stream` lands is malformed (a producer's bad deploy)."""
        self.corrupt[stream] = (share, self.minute + minutes)

    # -- the minute ---------------------------------------------------------------------------------------------

    def land(self, stream: str, partition: str, messages: int) -> None:
        """`stream` landed `messages` into `partition` this minute."""
        if messages <= 0:
            return
        landed = self.partitions.setdefault((stream, partition), Partition())
        landed.messages += messages
        share, until = self.corrupt.get(stream, (0.0, 0.0))
        # Landed over the minute that ends at self.minute + 1 (land is called before step moves the minute).
        if self.minute < until:
            landed.malformed += round(messages * share)

    def step(self, hour_minute: int, previous_partition: str) -> tuple[list[BatchRun], list[BatchRun]]:
        """One minute passes; `hour_minute` is the clock's minute of the hour at its end and `previous_partition`
        the landing partition of the hour before. Returns the runs started and the runs finished this minute."""
        self.minute += 1
        started = [self.start(job, previous_partition) for job in self.jobs if job.minute == hour_minute]
        finished = []
        for run in self.runs:
            if not run.done and self.minute >= run.ends:
                self._finish(run)
                finished.append(run)
        return started, finished

    def start(self, job: BatchJobView, partition: str) -> BatchRun:
        """A run of `job` over `partition` (its schedule, or a re-run)."""
        run = BatchRun(job.name, partition, self.minute, self.minute + self.params.load_minutes)
        self.runs.append(run)
        return run

    def _finish(self, run: BatchRun) -> None:
        job = next(j for j in self.jobs if j.name == run.job)
        landed = self.partitions.get((job.stream, run.partition), Partition())
        run.messages, run.malformed = landed.messages, landed.malformed
        run.rows = round((landed.messages - landed.malformed) * self.params.rows_per_message)
        run.done = True

    def repair(self, stream: str, partition: str) -> None:
        """The malformed records of a landing partition are replaced by good ones (the producers' replay)."""
        landed = self.partitions.get((stream, partition))
        if landed is not None:
            landed.malformed = 0

    # -- what the runbook's levels read -------------------------------------------------------------------------

    def loading(self) -> list[BatchRun]:
        return [r for r in self.runs if not r.done]

    def cpu(self, stats_off: dict[str, float]) -> float:
        """Redshift CPU % this minute, given each table's stats_off (% as SVV_TABLE_INFO reports it)."""
        p = self.params
        value = p.cpu_idle + p.cpu_load * len(self.loading())
        for query in self.heavy:
            if query.start <= self.minute < query.end:
                value += p.cpu_heavy_query * (1 + p.stale_gain * stats_off.get(query.table, 0.0) / 100)
        return round(min(value, 100.0), 1)

    def failing_partitions(self, job: str) -> list[str]:
        """The partitions whose latest run of `job` failed its quality check: bad data in the table."""
        latest: dict[str, BatchRun] = {}
        for run in self.runs:
            if run.job == job and run.done:
                latest[run.partition] = run
        return sorted(p for p, r in latest.items() if not r.passed)
