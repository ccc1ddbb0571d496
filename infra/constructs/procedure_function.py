"""One procedure step's function: its own role (exactly the declared grants), its log group, tracing on.
Step Functions invokes it synchronously, so it has no asynchronous retry or on-failure destination: the
state's Retry and Catch are its error handling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.playbook_function import RUNTIME
from infra.nag import acknowledge
from infra.permissions import Statement

TIMEOUT = Duration.seconds(120)  # a Data API statement may take tens of seconds; the state waits a bit longer


class ProcedureStepFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], log_retention: logs.RetentionDays,
                 retain_logs: bool):
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=log_group_name, retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"{function_name}: exactly what its step declares (functions/procedures)")
        self.statements = list(statements)
        self.policy = iam.Policy(self, "Policy", statements=[s.to_iam() for s in self.statements], roles=[self.role])
        for statement in self.statements:
            for resource in statement.resources:
                if "*" in resource:
                    acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{resource}]", statement.wildcard_reason)
        self.function = lambda_.Function(
            self, "Function",
            function_name=function_name, description=description[:256], runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64, handler=handler, code=code, layers=list(layers),
            memory_size=256, timeout=TIMEOUT, tracing=lambda_.Tracing.ACTIVE, log_group=self.log_group,
            environment=dict(environment),
            role=self.role.without_policy_updates(),  # the role is complete as declared
        )
        self.function.node.add_dependency(self.policy)
