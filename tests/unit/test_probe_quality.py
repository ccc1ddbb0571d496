"""The staging quality flags counted per landing prefix (functions/probes/quality.py): which flags are read, what
counts as failed, the metric the quality-check-failures alarm reads. Pure: the S3 port is an in-memory fake."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from functions.core.catalog import Catalog
from functions.probes.adapters import EmfPublisher
from functions.probes.metrics import NAMESPACE, QUALITY_FAILURES
from functions.probes.quality import (
    LOOKBACK_HOURS,
    PARTITIONS_CHECKED,
    batch_jobs_by_prefix,
    flags_prefix,
    measure_quality,
    parse_flags,
    quality_measurements,
)
from tests.unit.conftest import NOW


class FakeFlags:
    """S3 as ListObjectsV2 and GetObject see it: keys in lexicographic order, after StartAfter, under Prefix."""

    def __init__(self, objects: dict[str, str]):
        self.objects = objects
        self.listed: list[tuple[str, str, str]] = []
        self.read_keys: list[str] = []

    def keys(self, bucket: str, prefix: str, start_after: str) -> list[str]:
        self.listed.append((bucket, prefix, start_after))
        return sorted(k for k in self.objects if k.startswith(prefix) and k > start_after)

    def read(self, bucket: str, key: str) -> str | None:
        self.read_keys.append(key)
        return self.objects.get(key)


def hour(hours_ago: int) -> str:
    return (NOW - timedelta(hours=hours_ago)).strftime("%Y/%m/%d/%H")


def flags(passed: bool, *rules: str) -> str:
    return json.dumps({"passed": passed, "failed_rules": list(rules)})


def key(catalog: Catalog, job: str, partition: str) -> str:
    return catalog.s3.quality_flags_key(job, partition)


def test_only_the_landing_prefixes_a_batch_job_reads_are_counted(catalog: Catalog) -> None:
    by_prefix = {p: [j.name for j in jobs] for p, jobs in batch_jobs_by_prefix(catalog).items()}
    assert by_prefix == {"landing/orders/": ["sales-batch"], "landing/customers/": ["customer-scd-batch"]}
    assert flags_prefix(catalog, "sales-batch") == "staging/_quality/sales-batch/"


def test_a_failed_partition_among_the_newest_is_counted_for_the_prefix_its_job_reads(catalog: Catalog) -> None:
    fake = FakeFlags({
        key(catalog, "sales-batch", hour(1)): flags(True),
        key(catalog, "sales-batch", hour(2)): flags(False, "malformed_records = 0 (got 310 of 1,030)"),
        key(catalog, "sales-batch", hour(3)): flags(True),
        key(catalog, "customer-scd-batch", hour(1)): flags(True),
    })
    results = {r.prefix: r for r in measure_quality(catalog, fake, NOW)}
    assert {p: r.failures for p, r in results.items()} == {"landing/orders/": 1, "landing/customers/": 0}
    assert results["landing/orders/"].summary()["failed"] == [
        f"sales-batch {hour(2)}: malformed_records = 0 (got 310 of 1,030)"]
    assert quality_measurements(list(results.values()), NOW)[0].dimensions == (
        ("Bucket", catalog.s3.name), ("Prefix", "landing/orders/"))


def test_listed_from_the_lookback_only_and_the_newest_partitions_read(catalog: Catalog) -> None:
    old = key(catalog, "sales-batch", hour(LOOKBACK_HOURS + 1))
    recent = [key(catalog, "sales-batch", hour(h)) for h in range(1, PARTITIONS_CHECKED + 3)]
    fake = FakeFlags({old: flags(False, "stale"), **{k: flags(True) for k in recent}})
    fake.objects[recent[-1]] = flags(False, "too old to count")  # the 5th newest: beyond what the playbook reruns
    [orders] = [r for r in measure_quality(catalog, fake, NOW) if r.prefix == "landing/orders/"]
    where = "staging/_quality/sales-batch/"
    assert (catalog.s3.name, where, where + hour(LOOKBACK_HOURS)) in fake.listed
    assert [c.partition for c in orders.checks] == [hour(h) for h in range(1, PARTITIONS_CHECKED + 1)]
    assert orders.failures == 0 and old not in fake.read_keys and recent[-1] not in fake.read_keys


def test_a_rerun_whose_flags_pass_brings_the_count_back_to_zero(catalog: Catalog) -> None:
    failed = key(catalog, "sales-batch", hour(1))
    fake = FakeFlags({failed: flags(False, "row_count >= 1000 (got 212)")})
    assert next(r.failures for r in measure_quality(catalog, fake, NOW)) == 1
    fake.objects[failed] = flags(True)  # the batch job writes the partition's flags again
    assert next(r.failures for r in measure_quality(catalog, fake, NOW)) == 0


@pytest.mark.parametrize(("text", "passed", "rules"), [
    (flags(True), True, ()),
    (flags(False), False, ()),
    (json.dumps({"passed": "true"}), False, ()),  # only JSON true passes
    (json.dumps({"failed_rules": ["x"]}), False, ("x",)),  # no verdict is not a pass
    ("{not json", False, ("quality flags are not JSON",)),
    ("[]", False, ("quality flags are not a JSON object",)),
    (json.dumps({"passed": False, "failed_rules": "not a list"}), False, ()),
])
def test_only_flags_that_say_passed_true_pass(text: str, passed: bool, rules: tuple[str, ...]) -> None:
    assert parse_flags(text) == (passed, rules)


def test_flags_gone_between_listing_and_reading_are_skipped_not_failed(catalog: Catalog) -> None:
    gone = key(catalog, "sales-batch", hour(1))

    class Vanishing(FakeFlags):
        def read(self, bucket: str, key: str) -> str | None:
            return None if key == gone else super().read(bucket, key)

    fake = Vanishing({gone: flags(False, "x"), key(catalog, "sales-batch", hour(2)): flags(True)})
    [orders] = [r for r in measure_quality(catalog, fake, NOW) if r.prefix == "landing/orders/"]
    assert (orders.failures, [c.partition for c in orders.checks]) == (0, [hour(2)])


def test_no_flags_at_all_is_zero_failures_published(catalog: Catalog) -> None:
    results = measure_quality(catalog, FakeFlags({}), NOW)
    assert [(m.name, m.value) for m in quality_measurements(results, NOW)] == [(QUALITY_FAILURES, 0.0)] * 2


def test_the_count_shares_the_freshness_record_of_its_prefix_as_a_count(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "remedy")
    fake = FakeFlags({key(catalog, "sales-batch", hour(1)): flags(False, "x")})
    EmfPublisher().publish(quality_measurements(measure_quality(catalog, fake, NOW), NOW))
    records: list[dict[str, Any]] = [json.loads(line) for line in capsys.readouterr().out.splitlines()
                                     if line.startswith("{")]
    by_prefix = {r["Prefix"]: r for r in records}
    [directive] = by_prefix["landing/orders/"]["_aws"]["CloudWatchMetrics"]
    assert (directive["Namespace"], directive["Dimensions"]) == (NAMESPACE, [["Bucket", "Prefix"]])
    assert directive["Metrics"] == [{"Name": QUALITY_FAILURES, "Unit": "Count"}]
    assert by_prefix["landing/orders/"][QUALITY_FAILURES] in (1.0, [1.0]) and "service" not in records[0]


def test_the_quality_probe_code_needs_no_aws_sdk() -> None:
    from pathlib import Path

    import functions.probes.quality as quality

    assert "boto" not in Path(quality.__file__).read_text(encoding="utf-8")
