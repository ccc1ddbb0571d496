"""The lag probe's domain: Spark checkpoint files (offsets/<n>, commits/<n>), the newest committed batch, the lag
arithmetic per partition (new partitions, a topic recreated), msk-sourced groups, and what is published."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.core.catalog import Catalog, CatalogError, parse_catalog
from functions.probes.consumer_lag import (
    LagUnmeasurable,
    PartitionOffsets,
    batch_numbers,
    lag_measurements,
    lag_per_partition,
    measure,
    measure_job,
    parse_offsets_file,
    read_checkpoint,
)

AT = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
# What Spark 3.x writes for a Kafka source (OffsetSeqLog.serialize: version, metadata JSON, one line per source).
OFFSETS_7 = ('v1\n{"batchWatermarkMs":0,"batchTimestampMs":1764064800000,"conf":{"spark.sql.shuffle.partitions":'
             '"200"}}\n{"orders":{"0":1000,"1":2000,"2":3000}}')


class Store:
    """CheckpointPort over a dict of {bucket/key: text}; `deny` makes every call fail as S3 would."""

    def __init__(self, files: dict[str, str], deny: str = ""):
        self.files, self.deny = files, deny
        self.read_keys: list[str] = []

    def batch_ids(self, bucket: str, prefix: str) -> list[str]:
        if self.deny:
            raise LagUnmeasurable(f"s3://{bucket}/{prefix}: cannot list: {self.deny}")
        start = f"{bucket}/{prefix}"
        return [k[len(start):] for k in self.files if k.startswith(start) and "/" not in k[len(start):]]

    def read(self, bucket: str, key: str) -> str:
        self.read_keys.append(key)
        return self.files[f"{bucket}/{key}"]


class Brokers:
    def __init__(self, latest: dict[int, int], earliest: dict[int, int] | None = None,
                 committed: dict[str, dict[int, int]] | None = None):
        self.latest, self.earliest, self.committed = latest, earliest or {}, committed or {}

    def partition_offsets(self, topic: str) -> dict[int, PartitionOffsets]:
        return {p: PartitionOffsets(self.earliest.get(p, 0), o) for p, o in self.latest.items()}

    def committed_offsets(self, group: str, topic: str) -> dict[int, int]:
        return dict(self.committed.get(group, {}))


def orders(catalog: Catalog) -> Any:
    return catalog.glue_job("orders-stream")


def checkpoint_files(job: Any, batches: dict[int, str], commits: list[int]) -> dict[str, str]:
    root = f"{job.checkpoint_bucket}/{job.checkpoint_prefix}"
    files = {f"{root}offsets/{n}": text for n, text in batches.items()}
    files |= {f"{root}commits/{n}": 'v1\n{"nextBatchWatermarkMs":0}' for n in commits}
    files[f"{root}offsets/.8.0b1c.tmp"] = "half written"  # Spark's temp file: not a batch
    files[f"{root}metadata"] = '{"id":"q"}'  # beside the logs, not in them
    return files


def test_offsets_file_is_read_as_spark_writes_it() -> None:
    assert parse_offsets_file(OFFSETS_7, "orders", "x") == {0: 1000, 1: 2000, 2: 3000}


def test_other_sources_and_void_offsets_are_skipped() -> None:
    text = 'v1\n\n-\n{"returns":{"0":5}}\n{"orders":{"0":7}}'  # empty metadata, "-" = no offset for a source
    assert parse_offsets_file(text, "orders", "x") == {0: 7}


@pytest.mark.parametrize(("text", "reason"), [
    ("", "not a Spark offsets log entry"),
    ("v2\n{}\n{\"orders\":{\"0\":1}}", "newer than this probe reads"),
    ("v1\n{}", "incomplete"),
    ("v1\n{}\nnot json", "not JSON"),
    ("v1\n{}\n{\"orders\":{\"0\":-1}}", "has offset -1"),
    ("v1\n{}\n{\"orders\":[0, 1]}", "not a partition map"),
    ("v1\n{}\n{\"returns\":{\"0\":1}}", "no offsets for topic orders"),
])
def test_a_malformed_offsets_file_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(LagUnmeasurable, match=reason):
        parse_offsets_file(text, "orders", "s3://b/k")


def test_batch_files_are_the_numeric_names_only() -> None:
    assert batch_numbers(["0", "1", "12", ".12.abc.tmp", "12.crc", "metadata", "x1"]) == {0, 1, 12}


def test_the_newest_committed_batch_counts_not_the_planned_one(catalog: Catalog) -> None:
    job = orders(catalog)
    planned = 'v1\n{}\n{"orders":{"0":9000,"1":9000,"2":9000}}'
    store = Store(checkpoint_files(job, {6: OFFSETS_7, 7: OFFSETS_7, 8: planned}, commits=[6, 7]))
    checkpoint = read_checkpoint(job, store)
    assert (checkpoint.batch, checkpoint.planned) == (7, 8)
    assert checkpoint.offsets == {0: 1000, 1: 2000, 2: 3000}
    assert store.read_keys == [f"{job.checkpoint_prefix}offsets/7"]  # the planned batch is never read


def test_lag_is_latest_minus_checkpoint_summed(catalog: Catalog) -> None:
    job = orders(catalog)
    store = Store(checkpoint_files(job, {7: OFFSETS_7, 8: 'v1\n{}\n{"orders":{"0":1500}}'}, commits=[7]))
    result = measure_job(job, store, Brokers({0: 1500, 1: 2000, 2: 13_000}))
    assert result.measured and result.batch == 7
    assert result.per_partition == {0: 500, 1: 0, 2: 10_000}
    assert result.messages == 10_500
    assert "batch 8 is planned, not committed" in result.notes[0]


def test_a_new_partition_counts_from_its_earliest_offset() -> None:
    lag, notes = lag_per_partition({0: 100}, {0: PartitionOffsets(0, 150), 1: PartitionOffsets(40, 90)})
    assert lag == {0: 50, 1: 50}  # partition 1 is new: Spark reads it from the earliest offset, 40
    assert "partition 1 is not in the checkpoint" in notes[0]


def test_a_checkpoint_past_the_broker_is_no_backlog_and_is_said() -> None:
    lag, notes = lag_per_partition({0: 500, 3: 10}, {0: PartitionOffsets(0, 20)})
    assert lag == {0: 0}
    assert any("past the broker's latest 20" in n for n in notes)
    assert any("[3]" in n and "not on the brokers" in n for n in notes)


def test_no_committed_batch_is_unmeasured_not_zero(catalog: Catalog) -> None:
    job = orders(catalog)
    result = measure_job(job, Store(checkpoint_files(job, {0: OFFSETS_7}, commits=[])), Brokers({0: 1}))
    assert not result.measured and result.messages is None
    assert "1 planned batch(es), none committed" in result.reason


def test_access_denied_is_unmeasured_with_s3s_words(catalog: Catalog) -> None:
    job = orders(catalog)
    result = measure_job(job, Store({}, deny="AccessDenied: Access Denied"), Brokers({0: 1}))
    assert not result.measured and "AccessDenied" in result.reason


def test_an_msk_sourced_job_needs_a_committing_group(catalog: Catalog) -> None:
    job = catalog.glue_job("customers-stream")
    assert job.lag_source == "msk"
    silent = measure_job(job, Store({}), Brokers({}, committed={}))
    assert not silent.measured and "lag_source: checkpoint" in silent.reason
    committing = measure_job(job, Store({}), Brokers({}, committed={"glue-customers-stream": {0: 5, 1: 6}}))
    assert committing.measured and committing.messages is None  # MSK publishes the number, not the probe


def test_measurements_carry_exactly_the_alarms_dimension(catalog: Catalog) -> None:
    job = orders(catalog)
    store = Store(checkpoint_files(job, {7: OFFSETS_7}, commits=[7]))
    results = measure(catalog, store, Brokers({0: 1000, 1: 2000, 2: 3042},
                                              committed={"glue-customers-stream": {0: 1}}))
    published = {(m.name, m.dimensions, m.value) for m in lag_measurements(results, AT)}
    assert published == {("ConsumerLagMessages", (("JobName", "orders-stream"),), 42.0),
                         ("ConsumerLagUnmeasured", (("JobName", "orders-stream"),), 0.0),
                         ("ConsumerLagUnmeasured", (("JobName", "customers-stream"),), 0.0)}


def test_an_unmeasured_job_publishes_no_lag_and_a_one(catalog: Catalog) -> None:
    results = measure(catalog, Store({}, deny="NoSuchBucket"), Brokers({}, committed={}))
    published = {(m.name, dict(m.dimensions)["JobName"], m.value) for m in lag_measurements(results, AT)}
    assert published == {("ConsumerLagUnmeasured", "orders-stream", 1.0),
                         ("ConsumerLagUnmeasured", "customers-stream", 1.0)}


# -- the catalog's fields -------------------------------------------------------------------------------------------

def _job(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(j for j in data["glue_jobs"] if j["name"] == name)


def test_a_default_streaming_job_needs_its_checkpoint_location(raw_catalog: dict[str, Any]) -> None:
    del _job(raw_catalog, "orders-stream")["checkpoint_location"]
    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog)
    assert any("lag_source checkpoint (the default) needs checkpoint_location" in e for e in caught.value.errors)


@pytest.mark.parametrize(("edit", "message"), [
    ({"lag_source": "glue"}, "lag_source glue measures time: set lag_threshold_ms"),
    ({"checkpoint_location": "s3://b/no-trailing-slash"}, "checkpoint_location"),
    ({"checkpoint_location": "s3://B/prefix/"}, "checkpoint_location"),
])
def test_lag_source_fields_are_checked(raw_catalog: dict[str, Any], edit: dict[str, Any], message: str) -> None:
    _job(raw_catalog, "orders-stream").update(edit)
    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog)
    assert any(message in e for e in caught.value.errors), caught.value.errors


def test_checkpoint_location_splits_into_bucket_and_prefix(catalog: Catalog) -> None:
    job = orders(catalog)
    assert (job.checkpoint_bucket, job.checkpoint_prefix) == ("aws-glue-assets-111111111111-eu-west-1",
                                                              "temporary/orders-stream/checkpoint/")
