"""The one Lambda function construct every function of this service is built from (playbooks, probes,
procedure steps, maintenance jobs): the shared code asset and layers (Powertools), its own log group with
retention, its own role holding exactly the declared statements (cdk-nag acknowledgments for the wildcards
they explain), tracing, and, for functions invoked asynchronously, Lambda's retries, maximum event age and
on-failure destination. Callers keep only their specifics (role description, memory, timeout, delivery).

Children: Logs, Role, Policy, Function (and Vpc/Subnet*/FunctionGroup* when in a VPC): the logical ids of
the templates do not depend on which caller built the function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.core.catalog import Network
from infra.nag import acknowledge
from infra.permissions import Statement

RUNTIME = lambda_.Runtime.PYTHON_3_14
# EventBridge/Scheduler -> Lambda is asynchronous and at least once (duplicates are answered by idempotency).
ASYNC_RETRIES = 2  # a transient AWS error gets two more tries, seconds to minutes apart
MAX_EVENT_AGE = Duration.hours(6)  # Lambda's maximum: an event still queued after that goes to the queue


@jsii.implements(lambda_.IDestination)
class OnFailureArn:
    """On-failure destination by ARN (a queue's), without CDK's implicit grant: the SendMessage permission is
    one of the function's declared statements (infra.permissions), so the role holds nothing undeclared."""

    def __init__(self, arn: str):
        self._arn = arn

    def bind(self, scope: Construct, fn: lambda_.IFunction, *,
             type: lambda_.DestinationType) -> lambda_.DestinationConfig:  # jsii passes the struct as keywords
        del scope, fn, type
        return lambda_.DestinationConfig(destination=self._arn)


class AsyncDelivery:
    """Lambda's asynchronous invocation settings: retries of a failed invocation, how long an event may wait,
    and where it goes after that (None: nowhere, the next scheduled run replaces it)."""

    def __init__(self, *, retry_attempts: int = ASYNC_RETRIES, max_event_age: Duration = MAX_EVENT_AGE,
                 on_failure_arn: str | None = None):
        self.retry_attempts, self.max_event_age, self.on_failure_arn = retry_attempts, max_event_age, on_failure_arn

    def function_props(self) -> dict[str, Any]:
        return {"retry_attempts": self.retry_attempts, "max_event_age": self.max_event_age,
                "on_failure": OnFailureArn(self.on_failure_arn) if self.on_failure_arn else None}


def declared_policy(scope: Construct, role: iam.IRole, statements: Sequence[Statement]) -> iam.Policy:
    """The role's one policy: exactly `statements`; each wildcard acknowledged with the statement's reason."""
    policy = iam.Policy(scope, "Policy", statements=[s.to_iam() for s in statements], roles=[role])
    for statement in statements:
        for resource in statement.resources:
            if "*" in resource:
                acknowledge(policy, f"AwsSolutions-IAM5[Resource::{resource}]", statement.wildcard_reason)
    return policy


class RemedyFunction(Construct):
    """A function of the shared asset with its own log group and role. `delivery` None: invoked synchronously
    (Step Functions), the caller's Retry/Catch handle errors, no asynchronous invoke config.
    `reserved_concurrency` None: no reservation (the account's unreserved pool)."""

    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], log_retention: logs.RetentionDays,
                 retain_logs: bool, role_description: str, timeout: Duration, memory_mb: int = 256,
                 tracing: lambda_.Tracing = lambda_.Tracing.ACTIVE, delivery: AsyncDelivery | None = None,
                 reserved_concurrency: int | None = None, network: Network | None = None):
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs",
            log_group_name=log_group_name,  # the policy's logs statement names the same group
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=role_description)
        self.statements = list(statements)
        self.policy = declared_policy(self, self.role, self.statements)
        self.function = lambda_.Function(
            self, "Function",
            function_name=function_name,
            description=description[:256],  # Lambda's limit
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,  # the Powertools layer is the x86_64 build
            handler=handler,
            code=code,
            layers=list(layers),
            memory_size=memory_mb,
            timeout=timeout,
            tracing=tracing,
            log_group=self.log_group,
            environment=dict(environment),
            reserved_concurrent_executions=reserved_concurrency,
            # The role is complete as declared: CDK may not add to it (X-Ray, destination grants); the
            # statements carry what tracing and the destination need (tests/infra: declared == granted).
            role=self.role.without_policy_updates(),
            **(delivery.function_props() if delivery else {}),
            **(_vpc_settings(self, network) if network is not None else {}),
        )
        # Lambda checks the role can reach the destination when the invoke config is created.
        self.function.node.add_dependency(self.policy)


def _vpc_settings(scope: Construct, network: Network) -> dict[str, Any]:
    """The catalog's private subnets and the functions' security groups (imported, not created here)."""
    from aws_cdk import Annotations
    from aws_cdk import aws_ec2 as ec2

    vpc = ec2.Vpc.from_vpc_attributes(scope, "Vpc", vpc_id=network.vpc_id,
                                      availability_zones=network.availability_zones)
    subnets = [ec2.Subnet.from_subnet_attributes(scope, f"Subnet{i}", subnet_id=subnet,
                                                 availability_zone=network.availability_zones[
                                                     i % len(network.availability_zones)])
               for i, subnet in enumerate(network.private_subnet_ids)]
    for subnet in subnets:
        # Route tables matter to constructs that add routes; a function's placement needs only the subnet.
        Annotations.of(subnet).acknowledge_warning("@aws-cdk/aws-ec2:noSubnetRouteTableId",
                                                   "the function only runs in the subnet; no route is added")
    groups = [ec2.SecurityGroup.from_security_group_id(scope, f"FunctionGroup{i}", group, mutable=False)
              for i, group in enumerate(network.function_security_group_ids)]
    return {"vpc": vpc, "vpc_subnets": ec2.SubnetSelection(subnets=subnets), "security_groups": groups}
