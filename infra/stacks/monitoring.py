"""MonitoringStack (<prefix>-monitoring): the runbook's alarms and the MSK dashboard."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from functions.core.catalog import Catalog
from infra import names
from infra.constructs.alarms import AlarmDashboard, RunbookAlarms
from infra.signals import alarm_specs, consumer_lag_alarms


class MonitoringStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        # The topic lives in the remediation stack under a fixed name: referenced by ARN (the app adds the
        # stack dependency) instead of a cross-stack export that would pin it.
        topic = sns.Topic.from_topic_arn(self, "OnCallTopic", names.topic_arn(catalog))
        self.alarms = RunbookAlarms(self, "RunbookAlarms", specs=alarm_specs(catalog), topic=topic)
        lag = [(spec.title, self.alarms.alarms[spec.name]) for spec in consumer_lag_alarms(catalog)]
        if lag:
            # Runbook "CloudWatch Dashboards / MSK Metrics: consumer lag", one widget per pipeline.
            AlarmDashboard(self, "MskDashboard", dashboard_name=f"{catalog.prefix}-msk", alarms=lag)
