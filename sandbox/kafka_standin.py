"""The streaming side of the data lake for the lag probe: the brokers' offsets (a stand-in behind the probe's own
OffsetsPort) and the streaming jobs' Spark checkpoints (real files in the emulated S3, in Spark's format).

    seed_streams(catalog, account)        # every topic partition at an offset, every checkpoint caught up
    set_lag(sandbox, job, messages)       # brokers and checkpoint moved so that the job is `messages` behind
    plan_batch(sandbox, job)              # the job plans its next batch (offsets/<n+1>) and never commits it
    commit_group(catalog, group, topic)   # a consumer group that commits (what MSK needs to publish its lag)

The probe reaches the stand-in through configuration, as it reaches MSK: LAG_OFFSETS_ADAPTER names
`offsets_adapter` (the sandbox adds it to every function's environment, ENV). Like MSK's IAM access control,
the stand-in authorises each request with the calling function's credentials against its role's synthesized
policy (sandbox.iam): kafka-cluster:Connect on the cluster, DescribeTopic on each topic read, DescribeGroup on
each group read; ARNs with the cluster's UUID as MSK builds them. A denial is the answer kafka-python gives
(an authorization error), which the production adapter turns into "unmeasured".

Spark's checkpoint format (org.apache.spark.sql.execution.streaming.OffsetSeqLog / CommitLog, checked against
apache/spark): offsets/<n> = "v1", the batch metadata JSON, one line per source ({"topic":{"0":offset}});
commits/<n> = "v1" and {"nextBatchWatermarkMs":0}. Batch ids are contiguous. set_lag writes the next batch id
(a planned, uncommitted batch at that id is replaced: an emulator's shortcut, Spark would re-run it as planned).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from functions.core.catalog import Catalog, GlueJob
from functions.probes.consumer_lag import COMMITS_LOG, OFFSETS_LOG, LagUnmeasurable, PartitionOffsets

ENV = {"LAG_OFFSETS_ADAPTER": "sandbox.kafka_standin:offsets_adapter"}
SEED_OFFSET = 50_000  # every partition's latest offset at seed time: a lake that has been running a while


@dataclass
class Brokers:
    """What the brokers know: per topic, per partition [earliest, latest]; per group, its committed offsets."""

    topics: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    groups: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)


BROKERS = Brokers()


# -- the checkpoint files (Spark's format) -----------------------------------------------------------------------

def offsets_file(batch: int, topic: str, offsets: dict[int, int], at_ms: int) -> str:
    metadata = {"batchWatermarkMs": 0, "batchTimestampMs": at_ms,
                "conf": {"spark.sql.shuffle.partitions": "200"}}
    source = {topic: {str(p): o for p, o in sorted(offsets.items())}}
    return "\n".join(["v1", json.dumps(metadata, separators=(",", ":")), json.dumps(source, separators=(",", ":"))])


COMMIT_FILE = 'v1\n{"nextBatchWatermarkMs":0}'


def _s3(sandbox_or_account: Any) -> Any:
    return sandbox_or_account.client("s3")


def _batches(s3: Any, job: GlueJob, log: str) -> set[int]:
    prefix = f"{job.checkpoint_prefix}{log}/"
    listed = s3.list_objects_v2(Bucket=job.checkpoint_bucket, Prefix=prefix).get("Contents", [])
    return {int(o["Key"][len(prefix):]) for o in listed if o["Key"][len(prefix):].isdigit()}


# Spark keeps the offset and commit logs of the last spark.sql.streaming.minBatchesToRetain batches (default 100)
# and deletes older entries as batches commit: a checkpoint never holds more than about that many of each.
MIN_BATCHES_TO_RETAIN = 100


def write_batch(s3: Any, job: GlueJob, batch: int, offsets: dict[int, int], committed: bool = True) -> None:
    at_ms = int(time.time() * 1000)
    s3.put_object(Bucket=job.checkpoint_bucket, Key=f"{job.checkpoint_prefix}{OFFSETS_LOG}/{batch}",
                  Body=offsets_file(batch, job.topic or "", offsets, at_ms).encode())
    if committed:
        s3.put_object(Bucket=job.checkpoint_bucket, Key=f"{job.checkpoint_prefix}{COMMITS_LOG}/{batch}",
                      Body=COMMIT_FILE.encode())
        purged = batch - MIN_BATCHES_TO_RETAIN
        if purged >= 0:  # each commit purges the entry that falls out of the window (one per batch)
            s3.delete_objects(Bucket=job.checkpoint_bucket, Delete={"Quiet": True, "Objects": [
                {"Key": f"{job.checkpoint_prefix}{log}/{purged}"} for log in (OFFSETS_LOG, COMMITS_LOG)]})


def committed_checkpoint(s3: Any, job: GlueJob) -> tuple[int, dict[int, int]]:
    """The newest committed batch and its offsets, read back from the files."""
    from functions.probes.consumer_lag import parse_offsets_file

    done = _batches(s3, job, OFFSETS_LOG) & _batches(s3, job, COMMITS_LOG)
    newest = max(done)
    body = s3.get_object(Bucket=job.checkpoint_bucket,
                         Key=f"{job.checkpoint_prefix}{OFFSETS_LOG}/{newest}")["Body"].read().decode()
    return newest, parse_offsets_file(body, job.topic or "", "seed")


# -- seeding and faults -------------------------------------------------------------------------------------------

def seed_streams(catalog: Catalog, account: Any) -> None:
    """Brokers with every topic partition at SEED_OFFSET; every checkpoint-sourced job caught up (batches 0 and
    1 committed at the latest offsets); every msk-sourced job's group committing, caught up."""
    BROKERS.topics = {t.name: {p: [0, SEED_OFFSET] for p in range(t.partitions)} for t in catalog.msk.topics}
    BROKERS.groups = {}
    s3 = _s3(account)
    buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for job in catalog.glue_jobs:
        if not job.streaming or not job.topic:
            continue
        if job.lag_source == "msk" and job.consumer_group:
            commit_group(catalog, job.consumer_group, job.topic)
        if job.lag_source != "checkpoint":
            continue
        if job.checkpoint_bucket not in buckets:
            s3.create_bucket(Bucket=job.checkpoint_bucket,
                             CreateBucketConfiguration={"LocationConstraint": catalog.region})
            buckets.add(job.checkpoint_bucket)
        latest = {p: o[1] for p, o in BROKERS.topics[job.topic].items()}
        write_batch(s3, job, 0, {p: max(o - 500, 0) for p, o in latest.items()})
        write_batch(s3, job, 1, latest)


def commit_group(catalog: Catalog, group: str, topic: str) -> None:
    """`group` commits its offsets on `topic` (caught up): MSK can publish its lag."""
    BROKERS.groups.setdefault(group, {})[topic] = {p: o[1] for p, o in BROKERS.topics[topic].items()}


def forget_group(group: str) -> None:
    """`group` has no committed offsets (a Spark job's group: MSK publishes no lag for it)."""
    BROKERS.groups.pop(group, None)


def set_lag(sandbox: Any, job: GlueJob, messages: int) -> dict[int, int]:
    """Producers write and/or the job commits a batch so that the job is `messages` behind, spread over the
    topic's partitions. Offsets only grow: the brokers' latest never goes back, nor does the checkpoint."""
    s3 = _s3(sandbox)
    batch, committed = committed_checkpoint(s3, job)
    partitions = BROKERS.topics[job.topic or ""]
    count = len(partitions)
    wanted = {p: messages // count + (1 if i < messages % count else 0) for i, p in enumerate(sorted(partitions))}
    moved = dict(committed)
    for p, behind in wanted.items():
        start = committed.get(p, partitions[p][0])
        latest = max(partitions[p][1], start + behind)
        partitions[p][1] = latest  # producers wrote up to here
        moved[p] = latest - behind  # the job has read up to here
    if moved != committed:
        write_batch(s3, job, batch + 1, moved)  # the job processed a batch up to `moved`
    return wanted


def plan_batch(sandbox: Any, job: GlueJob) -> int:
    """The job plans its next batch up to the brokers' latest offsets (offsets/<n+1>) and gets stuck in it:
    no commits/<n+1>. Returns the planned batch id."""
    s3 = _s3(sandbox)
    batch, _ = committed_checkpoint(s3, job)
    latest = {p: o[1] for p, o in BROKERS.topics[job.topic or ""].items()}
    write_batch(s3, job, batch + 1, latest, committed=False)
    return batch + 1


# -- the adapter the probe is configured with ----------------------------------------------------------------------

def _cluster_arn(catalog: Catalog) -> str:
    from moto.kafka.models import kafka_backends

    for cluster in kafka_backends[catalog.account_id][catalog.region].clusters.values():
        if cluster.cluster_name == catalog.msk.cluster_name:
            return str(cluster.arn)
    raise LagUnmeasurable(f"MSK cluster {catalog.msk.cluster_name} not found (ListClustersV2)")


class StandInOffsets:
    """OffsetsPort on the stand-in brokers, authorised like MSK IAM access control (module docstring)."""

    def __init__(self, catalog: Catalog, key: str):
        self._catalog = catalog
        self._key = key
        arn = _cluster_arn(catalog)  # arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>
        self._cluster, self._uuid = arn.split(":cluster/", 1)[1].split("/", 1)
        self._base = arn.split(":cluster/", 1)[0]
        self._authorize("kafka-cluster:Connect", arn, "Connect")

    def _authorize(self, action: str, arn: str, operation: str) -> None:
        from sandbox import iam
        from sandbox.iam_policy import Request

        who = iam.principal(self._key)
        if who is None:
            return  # not a deployed function (a test or a person with the sandbox's key): as the admin
        denial = iam.decide(who, Request(action, (arn,), {}), "kafka-cluster", operation)
        if denial is not None:
            # What kafka-python raises for a denied request (MSK answers an authorization error code).
            raise LagUnmeasurable(f"brokers: {operation} failed: AuthorizationFailedError: {denial.message}")

    def close(self) -> None:
        return None

    def partition_offsets(self, topic: str) -> dict[int, PartitionOffsets]:
        self._authorize("kafka-cluster:DescribeTopic", f"{self._base}:topic/{self._cluster}/{self._uuid}/{topic}",
                        "Metadata")
        if topic not in BROKERS.topics:
            raise LagUnmeasurable(f"brokers: topic {topic} not found (or DescribeTopic denied)")
        return {p: PartitionOffsets(earliest=o[0], latest=o[1]) for p, o in BROKERS.topics[topic].items()}

    def committed_offsets(self, group: str, topic: str) -> dict[int, int]:
        self._authorize("kafka-cluster:DescribeGroup", f"{self._base}:group/{self._cluster}/{self._uuid}/{group}",
                        "OffsetFetch")
        self._authorize("kafka-cluster:DescribeTopic", f"{self._base}:topic/{self._cluster}/{self._uuid}/{topic}",
                        "OffsetFetch")
        return dict(BROKERS.groups.get(group, {}).get(topic, {}))


def offsets_adapter(catalog: Catalog, clients: Any) -> StandInOffsets:
    """The factory LAG_OFFSETS_ADAPTER names in the sandbox: signs as the function, like the MSK IAM signer."""
    del clients  # the brokers are not an AWS API
    return StandInOffsets(catalog, os.environ.get("AWS_ACCESS_KEY_ID", ""))
