"""One playbook's function: its own role (exactly the declared permissions), log group, async delivery
settings and the EventBridge rule that routes its alarms to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.core.catalog import Network
from infra.nag import acknowledge
from infra.permissions import Statement

RUNTIME = lambda_.Runtime.PYTHON_3_14
# EventBridge -> Lambda is asynchronous and at least once (duplicates are answered by idempotency).
ASYNC_RETRIES = 2  # a transient AWS error gets two more tries, seconds to minutes apart
MAX_EVENT_AGE = Duration.hours(6)  # Lambda's maximum: an event still queued after that goes to the queue


@jsii.implements(lambda_.IDestination)
class _QueueOnFailure:
    """On-failure destination without CDK's implicit grant: the SendMessage permission is one of the
    function's declared statements (infra.permissions), so the role holds nothing undeclared."""

    def __init__(self, queue: sqs.IQueue):
        self._queue = queue

    def bind(self, scope: Construct, fn: lambda_.IFunction, *,
             type: lambda_.DestinationType) -> lambda_.DestinationConfig:  # jsii passes the struct as keywords
        del scope, fn, type
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


class PlaybookFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], failure_queue: sqs.IQueue,
                 log_retention: logs.RetentionDays, retain_logs: bool, network: Network | None = None):
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs",
            log_group_name=log_group_name,  # the policy's logs statement names the same group
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: exactly what its playbook declares (infra/permissions.py)",
        )
        self.statements = list(statements)
        self.policy = iam.Policy(
            self, "Policy",
            statements=[s.to_iam() for s in self.statements],
            roles=[self.role],
        )
        for statement in self.statements:
            for resource in statement.resources:
                if "*" in resource:
                    acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{resource}]", statement.wildcard_reason)
        self.function = lambda_.Function(
            self, "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,  # the Powertools layer below is the x86_64 build
            handler=handler,
            code=code,
            layers=list(layers),
            memory_size=256,
            timeout=Duration.seconds(60),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment=dict(environment),
            # The role is complete as declared: CDK may not add to it (X-Ray, destination grants).
            role=self.role.without_policy_updates(),
            retry_attempts=ASYNC_RETRIES,
            max_event_age=MAX_EVENT_AGE,
            on_failure=_QueueOnFailure(failure_queue),
            **(_vpc_settings(self, network) if network else {}),
        )
        # Lambda checks the role can reach the destination when the invoke config is created.
        self.function.node.add_dependency(self.policy)


def _vpc_settings(scope: Construct, network: Network) -> dict[str, Any]:
    """The catalog's private subnets and the functions' security groups (imported, not created here)."""
    from aws_cdk import aws_ec2 as ec2

    vpc = ec2.Vpc.from_vpc_attributes(scope, "Vpc", vpc_id=network.vpc_id,
                                      availability_zones=network.availability_zones)
    subnets = [ec2.Subnet.from_subnet_attributes(scope, f"Subnet{i}", subnet_id=subnet,
                                                 availability_zone=network.availability_zones[
                                                     i % len(network.availability_zones)])
               for i, subnet in enumerate(network.private_subnet_ids)]
    from aws_cdk import Annotations

    for subnet in subnets:
        # Route tables matter to constructs that add routes; a function's placement needs only the subnet.
        Annotations.of(subnet).acknowledge_warning("@aws-cdk/aws-ec2:noSubnetRouteTableId",
                                                   "the function only runs in the subnet; no route is added")
    groups = [ec2.SecurityGroup.from_security_group_id(scope, f"FunctionGroup{i}", group, mutable=False)
              for i, group in enumerate(network.function_security_group_ids)]
    return {"vpc": vpc, "vpc_subnets": ec2.SubnetSelection(subnets=subnets), "security_groups": groups}


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
