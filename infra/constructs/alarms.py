"""Runbook alarms: one CloudWatch alarm per AlarmSpec, alarm and OK actions to the on-call topic."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.signals import AlarmSpec


class RunbookAlarms(Construct):
    """Renders alarm specs (infra.signals). EventBridge sees every state change of these alarms by name,
    so the name is the contract with the playbooks; the topic tells people both ways (ALARM and OK)."""

    def __init__(self, scope: Construct, construct_id: str, *, specs: Sequence[AlarmSpec], topic: sns.ITopic):
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cw.Alarm] = {}
        self.specs = list(specs)
        action = cw_actions.SnsAction(topic)
        for spec in self.specs:
            metric = cw.Metric(
                namespace=spec.metric.namespace,
                metric_name=spec.metric.name,
                dimensions_map=dict(spec.metric.dimensions),
                statistic=spec.metric.statistic,
                period=Duration.seconds(spec.metric.period_seconds),
            )
            alarm = cw.Alarm(
                # Stable id (signal + component): the alarm name is fixed, so a new logical id would fail
                # the replacement.
                self, f"{spec.signal}-{spec.component}".replace(":", "-"),
                alarm_name=spec.name,
                alarm_description=spec.description,
                metric=metric,
                threshold=spec.threshold,
                comparison_operator=cw.ComparisonOperator(_COMPARISONS[spec.comparison]),
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=cw.TreatMissingData(_MISSING[spec.treat_missing_data]),
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[spec.name] = alarm


# CloudFormation spellings -> CDK enum members (jsii enums are keyed by member name).
_COMPARISONS = {
    "GreaterThanThreshold": "GREATER_THAN_THRESHOLD",
    "GreaterThanOrEqualToThreshold": "GREATER_THAN_OR_EQUAL_TO_THRESHOLD",
    "LessThanThreshold": "LESS_THAN_THRESHOLD",
    "LessThanOrEqualToThreshold": "LESS_THAN_OR_EQUAL_TO_THRESHOLD",
}
_MISSING = {"breaching": "BREACHING", "notBreaching": "NOT_BREACHING", "ignore": "IGNORE", "missing": "MISSING"}


class AlarmDashboard(Construct):
    """A dashboard of alarm widgets (metric + threshold line), e.g. the runbook's 'MSK Metrics' board."""

    def __init__(self, scope: Construct, construct_id: str, *, dashboard_name: str,
                 alarms: Sequence[tuple[str, cw.Alarm]], columns: int = 2):
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        width = 24 // columns
        widgets: list[cw.IWidget] = [cw.AlarmWidget(alarm=alarm, title=title, width=width, height=6)
                                     for title, alarm in alarms]
        for start in range(0, len(widgets), columns):
            self.dashboard.add_widgets(*widgets[start:start + columns])
