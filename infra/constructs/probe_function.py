"""One probe's function (functions.probes): its own role (exactly infra.permissions.probe_statements), log
group, asynchronous delivery settings and the EventBridge rule that invokes it (a schedule or a pattern)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.playbook_function import RUNTIME
from infra.nag import acknowledge
from infra.permissions import Statement


@jsii.implements(lambda_.IDestination)
class _OnFailureArn:
    """On-failure destination by ARN, without CDK's implicit grant: the SendMessage permission is one of the
    probe's declared statements, so the role holds nothing undeclared."""

    def __init__(self, arn: str):
        self._arn = arn

    def bind(self, scope: Construct, fn: lambda_.IFunction, *,
             type: lambda_.DestinationType) -> lambda_.DestinationConfig:  # jsii passes the struct as keywords
        del scope, fn, type
        return lambda_.DestinationConfig(destination=self._arn)


class ProbeFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], log_retention: logs.RetentionDays,
                 retain_logs: bool, timeout: Duration, retry_attempts: int, max_event_age: Duration,
                 on_failure_arn: str | None = None):
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
            description=f"{function_name}: exactly what the probe calls (infra/permissions.py)",
        )
        self.statements = list(statements)
        self.policy = iam.Policy(self, "Policy", statements=[s.to_iam() for s in self.statements], roles=[self.role])
        for statement in self.statements:
            for resource in statement.resources:
                if "*" in resource:
                    acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{resource}]", statement.wildcard_reason)
        self.function = lambda_.Function(
            self, "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,  # the Powertools layer is the x86_64 build
            handler=handler,
            code=code,
            layers=list(layers),
            memory_size=256,
            timeout=timeout,
            log_group=self.log_group,
            environment=dict(environment),
            # No X-Ray: a probe makes one or two read calls; tracing would add xray:* on Resource "*".
            tracing=lambda_.Tracing.DISABLED,
            # The role is complete as declared: CDK may not add to it.
            role=self.role.without_policy_updates(),
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            on_failure=_OnFailureArn(on_failure_arn) if on_failure_arn else None,
        )
        # Lambda checks the role can reach the destination when the invoke config is created.
        self.function.node.add_dependency(self.policy)

    def on_schedule(self, *, rule_name: str, description: str, schedule: events.Schedule,
                    max_event_age: Duration) -> events.Rule:
        rule = events.Rule(self, "Schedule", rule_name=rule_name, description=description, schedule=schedule)
        rule.add_target(targets.LambdaFunction(self.function, retry_attempts=2, max_event_age=max_event_age))
        return rule

    def on_pattern(self, *, rule_name: str, description: str, pattern: events.EventPattern,
                   max_event_age: Duration) -> events.Rule:
        rule = events.Rule(self, "Events", rule_name=rule_name, description=description, event_pattern=pattern)
        # EventBridge retries only failed deliveries (throttling, Lambda unavailable); the function's own
        # failures are Lambda's async retries, then the on-failure destination.
        rule.add_target(targets.LambdaFunction(self.function, retry_attempts=10, max_event_age=max_event_age))
        return rule
