"""Runbook alarms: one CloudWatch alarm per AlarmSpec and one composite alarm per CompositeSpec
(infra.signals); alarm and OK actions to the on-call topic wherever the spec pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.signals import AlarmSpec, CompositeSpec, MathSpec, MetricSpec


def metric(spec: MetricSpec) -> cw.Metric:
    return cw.Metric(
        namespace=spec.namespace,
        metric_name=spec.name,
        dimensions_map=dict(spec.dimensions),
        statistic=spec.statistic,
        period=Duration.seconds(spec.period_seconds),
    )


def metric_or_math(spec: MetricSpec | MathSpec) -> cw.IMetric:
    if isinstance(spec, MetricSpec):
        return metric(spec)
    return cw.MathExpression(
        expression=spec.expression,
        using_metrics={metric_id: metric(m) for metric_id, m in spec.metrics.items()},
        label=spec.label,
        period=Duration.seconds(spec.period_seconds),
    )


def _logical_id(signal: str, component: str) -> str:
    # Stable id (signal + component): the alarm name is fixed, so a new logical id would fail the replacement.
    return f"{signal}-{component}".replace(":", "-").replace("/", "-").rstrip("-")


class RunbookAlarms(Construct):
    """Renders alarm and composite specs. EventBridge sees every state change of these alarms by name, so
    the name is the contract with the playbooks; the topic tells people both ways (ALARM and OK)."""

    def __init__(self, scope: Construct, construct_id: str, *, specs: Sequence[AlarmSpec],
                 topic: sns.ITopic, composites: Sequence[CompositeSpec] = ()):
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cw.Alarm] = {}
        self.composites: dict[str, cw.CompositeAlarm] = {}
        self.specs = list(specs)
        self.composite_specs = list(composites)
        action = cw_actions.SnsAction(topic)
        for spec in self.specs:
            alarm = cw.Alarm(
                self, _logical_id(spec.signal, spec.component),
                alarm_name=spec.name,
                alarm_description=spec.description,
                metric=metric_or_math(spec.metric),
                threshold=spec.threshold,
                comparison_operator=cw.ComparisonOperator(_COMPARISONS[spec.comparison]),
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=cw.TreatMissingData(_MISSING[spec.treat_missing_data]),
            )
            if spec.pages:
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
            self.alarms[spec.name] = alarm
        self.known = known = _Known(self, self.alarms)  # and, read by ARN, the alarms of other stacks
        for composite in self.composite_specs:
            rule = _rule(composite, known)
            suppressor = self.composites[composite.suppressor] if composite.suppressor else None
            alarm_c = cw.CompositeAlarm(
                self, _logical_id(composite.signal, composite.component),
                composite_alarm_name=composite.name,
                alarm_description=composite.description,
                alarm_rule=rule,
                actions_suppressor=suppressor,
                actions_suppressor_wait_period=Duration.seconds(composite.wait_seconds) if suppressor else None,
                actions_suppressor_extension_period=(Duration.seconds(composite.extension_seconds)
                                                     if suppressor else None),
            )
            if composite.pages:
                alarm_c.add_alarm_action(action)
                alarm_c.add_ok_action(action)
            self.composites[composite.name] = alarm_c
            known[composite.name] = alarm_c


class _Known(dict[str, cw.IAlarm]):
    """This construct's alarms; an alarm of another stack (infra/monitoring_split.py) by its ARN, built from its
    fixed name: no export, nothing pinned."""

    def __init__(self, scope: Construct, own: Mapping[str, cw.IAlarm]):
        super().__init__(own)
        self.scope = scope

    def __missing__(self, name: str) -> cw.IAlarm:
        stack = Stack.of(self.scope)
        imported = cw.Alarm.from_alarm_arn(
            self.scope, f"Read-{_logical_id('alarm', name)}",
            f"arn:aws:cloudwatch:{stack.region}:{stack.account}:alarm:{name}")
        self[name] = imported
        return imported


def _rule(spec: CompositeSpec, known: Mapping[str, cw.IAlarm]) -> cw.IAlarmRule:
    """ALARM of any of the spec's alarms, or (at_least > 1) of all of some `at_least` of them, or (terms) the OR
    of the spec's ANDs."""
    if spec.terms:
        return cw.AlarmRule.any_of(*[cw.AlarmRule.all_of(*[cw.AlarmRule.from_alarm(known[name], cw.AlarmState.ALARM)
                                                           for name in term]) for term in spec.terms])
    states = [cw.AlarmRule.from_alarm(known[name], cw.AlarmState.ALARM) for name in spec.alarms]
    if spec.at_least <= 1:
        return cw.AlarmRule.any_of(*states)
    return cw.AlarmRule.any_of(*[cw.AlarmRule.all_of(*group) for group in combinations(states, spec.at_least)])


# CloudFormation spellings -> CDK enum members (jsii enums are keyed by member name).
_COMPARISONS = {
    "GreaterThanThreshold": "GREATER_THAN_THRESHOLD",
    "GreaterThanOrEqualToThreshold": "GREATER_THAN_OR_EQUAL_TO_THRESHOLD",
    "LessThanThreshold": "LESS_THAN_THRESHOLD",
    "LessThanOrEqualToThreshold": "LESS_THAN_OR_EQUAL_TO_THRESHOLD",
}
_MISSING = {"breaching": "BREACHING", "notBreaching": "NOT_BREACHING", "ignore": "IGNORE", "missing": "MISSING"}
