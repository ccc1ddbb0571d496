"""Failed data quality checks (runbook "Data Quality Issues": 1. check staging zone data quality flags), counted
per landing prefix.

Every batch job that reads a landing prefix leaves one staging quality flags object per partition it loaded, at
`<quality_flags_prefix><job>/<partition>.json`, `{"passed": bool, "failed_rules": [...]}` (the catalog's
convention, written again by each run of the partition). For each landing prefix read by a batch job, the probe
counts the newest PARTITIONS_CHECKED partitions of those jobs whose flags did not pass: what the data quality
playbook examines and re-runs (functions/playbooks/data_quality.py), so the alarm on the count and the playbook it
calls look at the same partitions, and the count falls back to 0 when the re-run's flags pass.

Partitions are hourly (or daily) by the catalog's landing_partition_format, whose keys sort by time: the flags
are listed from the start of LOOKBACK_HOURS only (one request, whatever the history under staging), and the
newest keys are the newest partitions.

A landing prefix that no batch job reads has no flags to count: nothing is published for it (no datapoint, and no
alarm is declared for it). Flags that are not a JSON object with `"passed": true` count as failed: a partition
whose check cannot be read as passed is not known to be good.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from functions.core.catalog import Catalog, GlueJob
from functions.probes.metrics import QUALITY_FAILURES, Measurement

# The newest partitions of each batch job whose flags are counted; the data quality playbook examines the same
# number of its newest runs' partitions (it imports this), so what the alarm counts is what the playbook re-runs.
PARTITIONS_CHECKED = 3
# Flags listed from this far back: a day of hourly partitions (24 keys) is one ListObjectsV2 page, and a batch job
# that has not loaded anything for a day has no recent partition to judge (its runs are the Glue alarms' concern).
LOOKBACK_HOURS = 24


class FlagsPort(Protocol):
    def keys(self, bucket: str, prefix: str, start_after: str) -> list[str]:
        """Every key under `prefix` after `start_after` (lexicographic order, as S3 lists them)."""
        ...

    def read(self, bucket: str, key: str) -> str | None:
        """The object's text, or None when it is gone (deleted between the listing and the read)."""
        ...


@dataclass(frozen=True)
class PartitionCheck:
    job: str
    partition: str
    key: str
    passed: bool
    failed_rules: tuple[str, ...]


@dataclass(frozen=True)
class PrefixQuality:
    bucket: str
    prefix: str  # the landing prefix the jobs read
    jobs: tuple[str, ...]
    checks: tuple[PartitionCheck, ...]  # the newest partitions of each job, newest first per job

    @property
    def failures(self) -> int:
        return sum(1 for c in self.checks if not c.passed)

    def summary(self) -> dict[str, object]:
        return {"bucket": self.bucket, "prefix": self.prefix, "jobs": list(self.jobs), "failures": self.failures,
                "failed": [f"{c.job} {c.partition}: {', '.join(c.failed_rules) or 'no rule named'}"
                           for c in self.checks if not c.passed],
                "checked": [f"{c.job} {c.partition}" for c in self.checks]}


def batch_jobs_by_prefix(catalog: Catalog) -> dict[str, list[GlueJob]]:
    """Each landing prefix that batch jobs read, with those jobs (catalog order); prefixes no batch job reads are
    left out."""
    found: dict[str, list[GlueJob]] = {}
    for prefix in catalog.s3.landing_prefixes:
        jobs = [j for j in catalog.glue_jobs if not j.streaming and j.reads_prefix == prefix]
        if jobs:
            found[prefix] = jobs
    return found


def flags_prefix(catalog: Catalog, job: str) -> str:
    """Where `job`'s flags are, one object per partition (catalog.s3.quality_flags_key without the partition)."""
    return catalog.s3.quality_flags_key(job, "").removesuffix(".json")


def parse_flags(text: str | None) -> tuple[bool, tuple[str, ...]]:
    """(passed, the rules named as failed) from a flags object's text."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return False, ("quality flags are not JSON",)
    if not isinstance(data, dict):
        return False, ("quality flags are not a JSON object",)
    raw = data.get("failed_rules")
    rules = tuple(str(r)[:120] for r in (raw if isinstance(raw, list) else []) if r)[:10]
    return data.get("passed") is True, rules


def measure_quality(catalog: Catalog, flags: FlagsPort, now: datetime) -> list[PrefixQuality]:
    bucket = catalog.s3.name
    since = (now - timedelta(hours=LOOKBACK_HOURS)).strftime(catalog.s3.landing_partition_format)
    results = []
    for prefix, jobs in batch_jobs_by_prefix(catalog).items():
        checks: list[PartitionCheck] = []
        for job in jobs:
            where = flags_prefix(catalog, job.name)
            keys = [k for k in flags.keys(bucket, where, where + since) if k.endswith(".json")]
            for key in sorted(keys, reverse=True)[:PARTITIONS_CHECKED]:
                text = flags.read(bucket, key)
                if text is None:
                    continue  # rewritten or removed meanwhile: the next run reads it again
                passed, rules = parse_flags(text)
                partition = key[len(where):].removesuffix(".json")
                checks.append(PartitionCheck(job.name, partition, key, passed, rules))
        results.append(PrefixQuality(bucket, prefix, tuple(j.name for j in jobs), tuple(checks)))
    return results


def quality_measurements(results: list[PrefixQuality], now: datetime) -> list[Measurement]:
    """One QualityCheckFailures per landing prefix read by a batch job, dimensions Bucket and Prefix (what the
    quality-check-failures alarm names)."""
    return [Measurement(name=QUALITY_FAILURES, value=float(r.failures),
                        dimensions=(("Bucket", r.bucket), ("Prefix", r.prefix)), at=now) for r in results]
