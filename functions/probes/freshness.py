"""Data freshness (runbook: "Landing zone should have data within last hour"), measured per landing prefix.

For each prefix in the catalog's `s3.landing_prefixes`, the age in minutes of the newest object under it.
S3 lists keys in lexicographic order, not by time, so the newest object is only known after the whole
prefix has been listed (the adapter pages through ListObjectsV2).

A prefix with no object at all is reported with the age NO_OBJECT_AGE_MINUTES instead of no datapoint:
"no data" is as stale as landing data gets, and it must trip the same alarm with a datapoint a person can
read. A missing datapoint keeps a different meaning: the probe did not run (the alarm ignores that, see
infra/signals.py), so the two cases never look alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from functions.core.catalog import Catalog
from functions.probes.metrics import LANDING_AGE, Measurement

# A year: far above any freshness threshold, and on a graph obviously not a measured age.
NO_OBJECT_AGE_MINUTES = 365 * 24 * 60.0


@dataclass(frozen=True)
class NewestObject:
    key: str
    last_modified: datetime
    scanned: int  # objects listed to find it (the cost of the measurement)


class ListingPort(Protocol):
    def newest_object(self, bucket: str, prefix: str) -> NewestObject | None:
        """The most recently modified object under `prefix`, or None when there is none."""
        ...


@dataclass(frozen=True)
class PrefixFreshness:
    bucket: str
    prefix: str
    newest: NewestObject | None
    age_minutes: float
    threshold_minutes: int

    @property
    def stale(self) -> bool:
        return self.age_minutes > self.threshold_minutes

    def summary(self) -> dict[str, object]:
        return {"bucket": self.bucket, "prefix": self.prefix, "age_minutes": self.age_minutes,
                "stale": self.stale, "newest_key": self.newest.key if self.newest else None,
                "newest_at": self.newest.last_modified.isoformat() if self.newest else None,
                "scanned": self.newest.scanned if self.newest else 0}


def age_minutes(newest: NewestObject | None, now: datetime) -> float:
    if newest is None:
        return NO_OBJECT_AGE_MINUTES
    # An object stamped after `now` (clock skew between S3 and Lambda) is brand new, not negative-aged.
    return round(max(0.0, (now - newest.last_modified).total_seconds() / 60), 2)


def measure_landing(catalog: Catalog, listing: ListingPort, now: datetime) -> list[PrefixFreshness]:
    bucket = catalog.s3.name
    threshold = catalog.thresholds.landing_freshness_minutes
    results = []
    for prefix in catalog.s3.landing_prefixes:
        newest = listing.newest_object(bucket, prefix)
        results.append(PrefixFreshness(bucket=bucket, prefix=prefix, newest=newest,
                                       age_minutes=age_minutes(newest, now), threshold_minutes=threshold))
    return results


def freshness_measurements(results: list[PrefixFreshness], now: datetime) -> list[Measurement]:
    """One LandingAgeMinutes per prefix, dimensions Bucket and Prefix (what the freshness alarm names)."""
    return [Measurement(name=LANDING_AGE, value=r.age_minutes,
                        dimensions=(("Bucket", r.bucket), ("Prefix", r.prefix)), at=now) for r in results]
