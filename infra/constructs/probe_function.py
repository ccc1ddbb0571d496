"""One probe's function (functions.probes): a RemedyFunction (its own role holding exactly
infra.permissions.probe_statements, log group, asynchronous delivery settings) and the EventBridge rule that
invokes it (a schedule or a pattern)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.lambda_function import AsyncDelivery, RemedyFunction
from infra.constructs.maintenance_jobs import PipLayer
from infra.permissions import Statement

# Only the lag probe talks Kafka: the client and AWS's MSK IAM signer, pure-Python wheels (boto3 and botocore,
# the signer's other dependencies, are the runtime's; its click is only for its command line). README
# "Libraries and why".
KAFKA_CLIENT_LAYER = ("kafka-python==3.0.12", "aws-msk-iam-sasl-signer-python==1.0.2")


class KafkaClientLayer(PipLayer):
    """A layer for the lag probe alone: the Kafka client and the MSK IAM signer, pip-installed locally."""

    def __init__(self, scope: Construct, construct_id: str, *, requirements: Sequence[str] = KAFKA_CLIENT_LAYER):
        super().__init__(scope, construct_id, requirements=requirements,
                         what="Kafka client and MSK IAM signer for the lag probe")


class ProbeFunction(RemedyFunction):
    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], log_retention: logs.RetentionDays,
                 retain_logs: bool, timeout: Duration, retry_attempts: int, max_event_age: Duration,
                 on_failure_arn: str | None = None, network: Any = None):
        super().__init__(
            scope, construct_id, function_name=function_name, log_group_name=log_group_name, handler=handler,
            description=description, code=code, layers=layers, environment=environment, statements=statements,
            log_retention=log_retention, retain_logs=retain_logs,
            role_description=f"{function_name}: exactly what the probe calls (infra/permissions.py)",
            timeout=timeout,  # traced like every function: its statements carry SendTraces
            delivery=AsyncDelivery(retry_attempts=retry_attempts, max_event_age=max_event_age,
                                   on_failure_arn=on_failure_arn),
            network=network)  # the lag probe: in the catalog's VPC, where the brokers are

    def on_schedule(self, *, rule_name: str, description: str, schedule: events.Schedule,
                    max_event_age: Duration) -> events.Rule:
        rule = events.Rule(self, "Schedule", rule_name=rule_name, description=description, schedule=schedule)
        rule.add_target(targets.LambdaFunction(self.function, retry_attempts=2, max_event_age=max_event_age))
        return rule

    def on_pattern(self, *, rule_name: str, description: str, pattern: events.EventPattern,
                   max_event_age: Duration, construct_id: str = "Events") -> events.Rule:
        rule = events.Rule(self, construct_id, rule_name=rule_name, description=description, event_pattern=pattern)
        # EventBridge retries only failed deliveries (throttling, Lambda unavailable); the function's own
        # failures are Lambda's async retries, then the on-failure destination.
        rule.add_target(targets.LambdaFunction(self.function, retry_attempts=10, max_event_age=max_event_age))
        return rule
