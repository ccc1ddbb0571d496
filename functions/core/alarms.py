"""Alarm specs as data: which metric, which threshold, why. A playbook declares the alarms of its signals with
these (functions.playbooks), infra/signals.py declares the others and the composites, and the monitoring stack
renders them all (infra/constructs/alarms.py).

Plain dataclasses with no AWS and no project imports: playbook modules (which run in Lambda) and CDK both read
them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def _valid_period(seconds: int) -> int:
    if seconds not in (10, 20, 30) and (seconds < 60 or seconds % 60):
        raise ValueError(f"alarm period {seconds}s: CloudWatch accepts 10, 20, 30 or a multiple of 60")
    return seconds


@dataclass(frozen=True)
class MetricSpec:
    namespace: str
    name: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    statistic: str = "Average"
    period_seconds: int = 60

    def __post_init__(self) -> None:
        _valid_period(self.period_seconds)


@dataclass(frozen=True)
class MathSpec:
    """Metric math: `expression` over `metrics` (id -> metric; ids start with a lowercase letter)."""

    expression: str
    metrics: Mapping[str, MetricSpec]
    label: str
    period_seconds: int

    def __post_init__(self) -> None:
        _valid_period(self.period_seconds)
        for metric_id, metric in self.metrics.items():
            if not metric_id[:1].islower() or metric_id not in self.expression:
                raise ValueError(f"{self.label}: metric id {metric_id!r} must start lowercase and be used")
            if metric.period_seconds != self.period_seconds:
                raise ValueError(f"{self.label}: every metric is evaluated over the expression's period")


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    signal: str
    component: str
    description: str
    metric: MetricSpec | MathSpec
    threshold: float
    comparison: str  # CloudFormation ComparisonOperator, e.g. GreaterThanThreshold
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str  # breaching | notBreaching | ignore | missing
    title: str = ""  # dashboard widget title
    # Alarm and OK actions to the on-call topic. False for a symptom that pages through its composite
    # (its state changes still reach EventBridge: routing and the lineage hold read them).
    pages: bool = True

    @property
    def period_seconds(self) -> int:
        return self.metric.period_seconds


def metric(namespace: str, name: str, dimensions: Mapping[str, str], statistic: str, period: int) -> MetricSpec:
    return MetricSpec(namespace=namespace, name=name, dimensions=dict(dimensions), statistic=statistic,
                      period_seconds=period)
