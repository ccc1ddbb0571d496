"""One playbook's function (infra.constructs.lambda_function.RemedyFunction: its own role holding exactly
the declared permissions, log group, async delivery settings) and the EventBridge rules that route its
alarms and events to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.catalog import Network
from infra.constructs.lambda_function import ASYNC_RETRIES, MAX_EVENT_AGE, RUNTIME, AsyncDelivery, RemedyFunction
from infra.permissions import Statement

__all__ = ["ASYNC_RETRIES", "MAX_EVENT_AGE", "RESERVED_CONCURRENCY", "RUNTIME", "AlarmRoute", "EventRoute",
           "PlaybookFunction"]

TIMEOUT = Duration.seconds(60)
# The blast radius: at most this many remediations of one playbook run at once, however many alarms fire.
# An alarm storm queues (Lambda keeps throttled asynchronous events and retries them within MAX_EVENT_AGE)
# instead of fanning out into as many concurrent changes; the circuit breaker then refuses the repeats one
# by one. Reserved, it is also never starved by other functions of the account.
RESERVED_CONCURRENCY = 5


class PlaybookFunction(RemedyFunction):
    """A playbook's function: invoked asynchronously by its routes, retried, then parked in the queue."""

    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], failure_queue: sqs.IQueue,
                 log_retention: logs.RetentionDays, retain_logs: bool, network: Network | None = None,
                 reserved_concurrency: int = RESERVED_CONCURRENCY):
        super().__init__(
            scope, construct_id, function_name=function_name, log_group_name=log_group_name, handler=handler,
            description=description, code=code, layers=layers, environment=environment, statements=statements,
            log_retention=log_retention, retain_logs=retain_logs,
            role_description=f"{function_name}: exactly what its playbook declares (infra/permissions.py)",
            timeout=TIMEOUT, delivery=AsyncDelivery(on_failure_arn=failure_queue.queue_arn),
            reserved_concurrency=reserved_concurrency, network=network)


class AlarmRoute(Construct):
    """CloudWatch Alarm State Change events whose alarm name starts with one of `alarm_name_prefixes`
    (functions.core.naming: <prefix>/<signal>/) go to `function`; undeliverable ones to the queue."""

    def __init__(self, scope: Construct, construct_id: str, *, rule_name: str, description: str,
                 alarm_name_prefixes: Sequence[str], function: lambda_.IFunction, failure_queue: sqs.IQueue):
        super().__init__(scope, construct_id)
        self.pattern: dict[str, Any] = {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [{"prefix": p} for p in alarm_name_prefixes]},
        }
        self.rule = events.Rule(
            self, "Rule",
            rule_name=rule_name,
            description=description,
            event_pattern=events.EventPattern(
                source=self.pattern["source"],
                detail_type=self.pattern["detail-type"],
                detail=self.pattern["detail"],
            ),
        )
        self.rule.add_target(targets.LambdaFunction(
            function,
            # EventBridge retries only failed deliveries (throttling, Lambda unavailable); the function's
            # own failures are Lambda's async retries above. Same 6 h horizon as the function's.
            retry_attempts=10,
            max_event_age=MAX_EVENT_AGE,
            dead_letter_queue=failure_queue,
        ))


class EventRoute(Construct):
    """An EventBridge rule (event pattern or schedule) to `function`; undeliverable events to the queue.
    Used for the routes that are not alarm state changes: Glue Job State Change events, lease checks."""

    def __init__(self, scope: Construct, construct_id: str, *, rule_name: str, description: str,
                 function: lambda_.IFunction, failure_queue: sqs.IQueue, pattern: dict[str, Any] | None = None,
                 schedule: str | None = None):
        super().__init__(scope, construct_id)
        if (pattern is None) == (schedule is None):
            raise ValueError("an event route has either a pattern or a schedule")
        self.pattern = pattern
        self.rule = events.Rule(
            self, "Rule",
            rule_name=rule_name,
            description=description,
            event_pattern=events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"],
                                              detail=pattern.get("detail")) if pattern else None,
            schedule=events.Schedule.expression(schedule) if schedule else None,
        )
        self.rule.add_target(targets.LambdaFunction(function, retry_attempts=10, max_event_age=MAX_EVENT_AGE,
                                                    dead_letter_queue=failure_queue))
