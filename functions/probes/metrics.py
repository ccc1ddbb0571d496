"""What the probes publish: plain measurements, turned into EMF records by the publisher adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

NAMESPACE = "Remedy/DataLake"

LANDING_AGE = "LandingAgeMinutes"  # dimensions Bucket, Prefix
RUN_SUCCEEDED = "GlueJobRunSucceeded"  # dimension JobName
RUN_FAILED = "GlueJobRunFailed"  # dimension JobName
LAG_MESSAGES = "ConsumerLagMessages"  # dimension JobName: messages behind, from the job's Spark checkpoint
LAG_UNMEASURED = "ConsumerLagUnmeasured"  # dimension JobName: 1 when the job's lag could not be measured
# dimensions Bucket, Prefix (a landing prefix): the newest batch partitions read from it whose staging quality flags
# failed (functions.probes.quality)
QUALITY_FAILURES = "QualityCheckFailures"

# CloudWatch has no minutes unit: the name carries it.
UNITS = {LANDING_AGE: "None", RUN_SUCCEEDED: "Count", RUN_FAILED: "Count", LAG_MESSAGES: "Count",
         LAG_UNMEASURED: "Count", QUALITY_FAILURES: "Count"}


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    dimensions: tuple[tuple[str, str], ...]  # exactly these, in this order: the alarms match on all of them
    at: datetime

    @property
    def unit(self) -> str:
        return UNITS[self.name]
