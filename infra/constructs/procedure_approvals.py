"""The approvals table: one item per question a procedure asks on call (incident id + procedure#state), with
the task token the state machine waits on, what it is about, and who answered what (the CLI reads it)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


class ApprovalsTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, table_name: str, retain: bool):
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self, "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name="incident_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="approval", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expires_at",  # answered questions go 90 days after their deadline
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=retain,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
