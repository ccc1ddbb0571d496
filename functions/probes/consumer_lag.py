"""Consumer lag of the streaming jobs (runbook: "MSK consumer lag > 10,000 messages"), in messages.

A Glue streaming job is Spark Structured Streaming: it keeps its Kafka offsets in its checkpoint and commits
none to a consumer group, so MSK's consumer-group lag (SumOffsetLag) may not exist for it. For each job whose
catalog entry says `lag_source: checkpoint` (the default), this probe computes the lag itself:

    messages behind = sum over the topic's partitions of (brokers' latest offset - the job's offset)

where the job's offset is the one of its newest *committed* batch. Spark's checkpoint (its own format,
org.apache.spark.sql.execution.streaming.OffsetSeqLog and CommitLog) holds two logs of files named by batch
id (a decimal number; any other name in the directory is not a batch):

- `offsets/<n>`: written when batch n is planned, before it runs. Line 1 the version ("v1"), line 2 the
  batch's metadata JSON (may be empty), then one line per source of the query: that source's end offset for
  the batch as JSON, or "-" for a source without one. A Kafka source writes {"<topic>": {"<partition>":
  <offset>, ...}}: the next offset to read, so everything below it has been consumed.
- `commits/<n>`: written once batch n has been processed.

The newest `offsets/` entry may be planned but not (yet, or ever) processed: only an `offsets/<n>` with a
`commits/<n>` counts. A partition the topic has that the batch does not name (partitions added since) is
read by Spark from its earliest offset: all of it is behind.

Jobs with `lag_source: msk` are not measured here (MSK publishes their lag), but MSK publishes it only for a
group that has committed offsets: the probe checks that the group has, or the alarm could never fire.

A job whose lag cannot be measured (checkpoint missing, unreadable, malformed; brokers unreachable; an `msk`
group without committed offsets) is reported, never skipped: ConsumerLagUnmeasured = 1 for that job (its
alarm pages) and the reason in the probe's output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from functions.core.catalog import Catalog, GlueJob
from functions.probes.metrics import LAG_MESSAGES, LAG_UNMEASURED, Measurement

OFFSETS_LOG = "offsets"
COMMITS_LOG = "commits"
OFFSET_LOG_VERSION = 1  # OffsetSeqLog.VERSION in Spark 2.x and 3.x
_BATCH_FILE = re.compile(r"^[0-9]{1,19}$")  # HDFSMetadataLog.isBatchFile: the name parses as a Long


class LagUnmeasurable(Exception):
    """Why one job's lag cannot be measured; the message is the one line a person reads."""


@dataclass(frozen=True)
class PartitionOffsets:
    earliest: int  # the oldest offset the broker still has (log start)
    latest: int  # the offset the next message will get (log end, high watermark)


class CheckpointPort(Protocol):
    def batch_ids(self, bucket: str, prefix: str) -> list[str]:
        """The names of the files directly under s3://bucket/prefix (one log directory). Raises
        LagUnmeasurable when the listing itself fails (AccessDenied, no such bucket)."""
        ...

    def read(self, bucket: str, key: str) -> str:
        """The file's text. Raises LagUnmeasurable when it cannot be read."""
        ...


class OffsetsPort(Protocol):
    def partition_offsets(self, topic: str) -> dict[int, PartitionOffsets]:
        """Every partition of `topic` with its earliest and latest offsets. Raises LagUnmeasurable."""
        ...

    def committed_offsets(self, group: str, topic: str) -> dict[int, int]:
        """The offsets `group` has committed on `topic` (empty: none). Reads only; never joins the group.
        Raises LagUnmeasurable."""
        ...


@dataclass(frozen=True)
class Checkpoint:
    batch: int  # the newest committed batch
    offsets: dict[int, int]  # partition -> the job's next offset on the topic
    planned: int | None = None  # a newer batch planned but not committed (processing, or abandoned)


@dataclass(frozen=True)
class JobLag:
    job: str
    source: str  # the catalog's lag_source
    messages: int | None  # None: not measured here (msk), or unmeasurable (then `reason`)
    reason: str = ""  # why it could not be measured
    batch: int | None = None
    per_partition: dict[int, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def measured(self) -> bool:
        return not self.reason

    def summary(self) -> dict[str, object]:
        return {"job": self.job, "lag_source": self.source, "messages": self.messages, "measured": self.measured,
                "reason": self.reason, "batch": self.batch,
                "per_partition": {str(p): v for p, v in sorted(self.per_partition.items())},
                "notes": list(self.notes)}


def batch_numbers(names: list[str]) -> set[int]:
    """Batch ids among a log directory's file names (Spark's temp and checksum files are not batches)."""
    return {int(name) for name in names if _BATCH_FILE.match(name)}


def parse_offsets_file(text: str, topic: str, where: str) -> dict[int, int]:
    """The Kafka source's offsets of `topic` in one `offsets/<n>` file (format: module docstring)."""
    lines = text.split("\n")
    version = lines[0].strip() if lines else ""
    if not re.fullmatch(r"v[0-9]+", version):
        raise LagUnmeasurable(f"{where}: not a Spark offsets log entry (first line {version[:20]!r}, expected "
                              f"'v{OFFSET_LOG_VERSION}')")
    if int(version[1:]) > OFFSET_LOG_VERSION:
        raise LagUnmeasurable(f"{where}: offsets log version {version} is newer than this probe reads "
                              f"(v{OFFSET_LOG_VERSION})")
    if len(lines) < 3:
        raise LagUnmeasurable(f"{where}: incomplete offsets log entry (no source line)")
    for raw in lines[2:]:
        line = raw.strip()
        if not line or line == "-":  # "-": a source without an offset in this batch
            continue
        try:
            source = json.loads(line)
        except json.JSONDecodeError:
            raise LagUnmeasurable(f"{where}: a source line is not JSON: {line[:60]!r}") from None
        if isinstance(source, dict) and topic in source:
            return _partition_offsets(source[topic], topic, where)
        # else: another source of the query (another topic, or not Kafka)
    raise LagUnmeasurable(f"{where}: no offsets for topic {topic} (does the job read it?)")


def _partition_offsets(partitions: object, topic: str, where: str) -> dict[int, int]:
    if not isinstance(partitions, dict) or not partitions:
        raise LagUnmeasurable(f"{where}: offsets of topic {topic} are not a partition map")
    offsets: dict[int, int] = {}
    for partition, offset in partitions.items():
        if not str(partition).isdigit() or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise LagUnmeasurable(f"{where}: topic {topic} partition {partition!r} has offset {offset!r}")
        offsets[int(partition)] = offset
    return offsets


def read_checkpoint(job: GlueJob, store: CheckpointPort) -> Checkpoint:
    """The job's newest committed batch and its offsets on the job's topic."""
    bucket, prefix = job.checkpoint_bucket, job.checkpoint_prefix
    planned = batch_numbers(store.batch_ids(bucket, f"{prefix}{OFFSETS_LOG}/"))
    committed = batch_numbers(store.batch_ids(bucket, f"{prefix}{COMMITS_LOG}/"))
    done = planned & committed
    if not done:
        what = "no batch" if not planned else f"{len(planned)} planned batch(es), none committed"
        raise LagUnmeasurable(f"checkpoint {job.checkpoint_location}: {what} (has the job ever completed a "
                              f"batch with this checkpointLocation?)")
    newest = max(done)
    key = f"{prefix}{OFFSETS_LOG}/{newest}"
    offsets = parse_offsets_file(store.read(bucket, key), job.topic or "", f"s3://{bucket}/{key}")
    pending = max(planned) if max(planned) > newest else None
    return Checkpoint(batch=newest, offsets=offsets, planned=pending)


def lag_per_partition(checkpoint: dict[int, int], brokers: dict[int, PartitionOffsets]) -> tuple[dict[int, int],
                                                                                                list[str]]:
    """Messages behind per partition of the topic as the brokers know it, and notes on what did not fit."""
    lag: dict[int, int] = {}
    notes: list[str] = []
    for partition, offsets in sorted(brokers.items()):
        if partition not in checkpoint:
            # Added after the batch was planned: Spark reads a new partition from its earliest offset.
            lag[partition] = max(offsets.latest - offsets.earliest, 0)
            notes.append(f"partition {partition} is not in the checkpoint yet (new): counted from its earliest "
                         f"offset")
            continue
        behind = offsets.latest - checkpoint[partition]
        if behind < 0:
            # The job is ahead of the broker: the topic was recreated or truncated. Not a backlog.
            notes.append(f"partition {partition}: checkpoint offset {checkpoint[partition]} is past the broker's "
                         f"latest {offsets.latest} (topic recreated?): counted as 0")
        lag[partition] = max(behind, 0)
    gone = sorted(set(checkpoint) - set(brokers))
    if gone:
        notes.append(f"partition(s) {gone} of the checkpoint are not on the brokers: ignored")
    return lag, notes


def measure_job(job: GlueJob, store: CheckpointPort, brokers: OffsetsPort) -> JobLag:
    """One streaming job's lag (checkpoint) or the check that MSK can publish it (msk)."""
    try:
        if job.lag_source == "msk":
            committed = brokers.committed_offsets(job.consumer_group or "", job.topic or "")
            if not committed:
                raise LagUnmeasurable(f"consumer group {job.consumer_group} has no committed offsets on topic "
                                      f"{job.topic}: MSK publishes no SumOffsetLag for it and the lag alarm cannot "
                                      f"fire (set lag_source: checkpoint for this job)")
            return JobLag(job=job.name, source=job.lag_source, messages=None,
                          notes=(f"consumer group {job.consumer_group} commits offsets on {len(committed)} "
                                 f"partition(s): MSK publishes its lag",))
        checkpoint = read_checkpoint(job, store)
        per_partition, notes = lag_per_partition(checkpoint.offsets, brokers.partition_offsets(job.topic or ""))
    except LagUnmeasurable as error:
        return JobLag(job=job.name, source=job.lag_source, messages=None, reason=str(error))
    if checkpoint.planned is not None:
        notes.insert(0, f"batch {checkpoint.planned} is planned, not committed: measured from batch "
                        f"{checkpoint.batch}")
    return JobLag(job=job.name, source=job.lag_source, messages=sum(per_partition.values()),
                  batch=checkpoint.batch, per_partition=per_partition, notes=tuple(notes))


def probed_jobs(catalog: Catalog) -> list[GlueJob]:
    """The streaming jobs this probe looks at: checkpoint-sourced ones, and msk-sourced ones (their group)."""
    return [job for job in catalog.glue_jobs if job.streaming and job.lag_source in ("checkpoint", "msk")]


def measure(catalog: Catalog, store: CheckpointPort, brokers: OffsetsPort) -> list[JobLag]:
    return [measure_job(job, store, brokers) for job in probed_jobs(catalog)]


def lag_measurements(results: list[JobLag], at: datetime) -> list[Measurement]:
    """Per job (dimension JobName, what the alarms name): ConsumerLagMessages when measured from the
    checkpoint, and ConsumerLagUnmeasured 1 or 0 for every probed job."""
    out = []
    for result in results:
        dims = (("JobName", result.job),)
        if result.messages is not None:
            out.append(Measurement(LAG_MESSAGES, float(result.messages), dims, at))
        out.append(Measurement(LAG_UNMEASURED, 0.0 if result.measured else 1.0, dims, at))
    return out
