"""The runbook's alarms as data: which metric, which threshold, why. The monitoring stack renders these.

Each signal is one function from the catalog to alarm specs; `alarm_specs` lists them all. A new runbook
alarm (Glue job failures, Redshift CPU, landing-zone freshness) is one more function here plus its signal
in functions.core.naming.SIGNALS (alarm_name refuses unknown signals, so the two cannot drift apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.core.catalog import Catalog
from functions.core.naming import alarm_name


@dataclass(frozen=True)
class MetricSpec:
    namespace: str
    name: str
    dimensions: dict[str, str] = field(default_factory=dict)
    statistic: str = "Average"
    period_seconds: int = 60


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    signal: str
    component: str
    description: str
    metric: MetricSpec
    threshold: float
    comparison: str  # CloudFormation ComparisonOperator, e.g. GreaterThanThreshold
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str  # breaching | notBreaching | ignore | missing
    title: str = ""  # dashboard widget title


def consumer_lag_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Runbook 'Key Metrics to Monitor' 1: MSK consumer lag < 10,000 messages, per streaming pipeline."""
    specs = []
    for job in catalog.glue_jobs:
        if not job.streaming or job.consumer_group is None or job.topic is None:
            continue  # lag is measured per consumer group: a job without one has nothing to watch
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, "consumer-lag", f"glue:{job.name}"),
            signal="consumer-lag",
            component=f"glue:{job.name}",
            description=(f"MSK consumer lag of {job.consumer_group} on topic {job.topic} (Glue streaming job "
                         f"{job.name}). Runbook: Monitoring / Alarms: MSK consumer lag > "
                         f"{catalog.thresholds.consumer_lag_messages:,}; remediated by playbook "
                         f"msk_consumer_lag"),
            metric=MetricSpec(
                namespace="AWS/Kafka",
                # Total lag over the topic's partitions: what the runbook's "< 10,000 messages" counts.
                name="SumOffsetLag",
                dimensions={"Cluster Name": catalog.msk.cluster_name, "Consumer Group": job.consumer_group,
                            "Topic": job.topic},
                # The worst point of each minute: a backlog that drains within the minute still counts.
                statistic="Maximum",
                # MSK publishes consumer lag once a minute; a shorter period only adds empty datapoints.
                period_seconds=60,
            ),
            threshold=catalog.thresholds.consumer_lag_messages,
            # "Should be < 10,000": the threshold itself is still healthy.
            comparison="GreaterThanThreshold",
            # Look at the last 5 minutes...
            evaluation_periods=5,
            # ...and alarm when 3 of them are over: a sustained backlog (~3 min to detect), not one burst.
            datapoints_to_alarm=3,
            # MSK reports lag only for groups with committed offsets: no datapoint is no evidence of a
            # backlog, and must neither page nor restart a job (a stopped consumer's lag keeps reporting).
            treat_missing_data="notBreaching",
            title=f"Consumer lag: {job.consumer_group} on {job.topic} ({job.name})",
        ))
    return specs


def alarm_specs(catalog: Catalog) -> list[AlarmSpec]:
    """Every alarm the monitoring stack creates."""
    return [*consumer_lag_alarms(catalog)]
