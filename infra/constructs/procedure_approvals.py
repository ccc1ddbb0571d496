"""The approvals table: one item per question a procedure asks on call (incident id + procedure#state): what it
is about, who started the run, who answered what (the CLI reads it). The task token the state machine waits on
is in a table of its own, keyed the same, that only the approval step writes and only the answer function reads
(functions/procedures/approval.py)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


class ApprovalsTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, table_name: str, retain: bool):
        super().__init__(scope, construct_id)
        from functions.procedures import tokens_table_name

        self.table = self._table("Table", table_name, retain)
        self.tokens = self._table("Tokens", tokens_table_name(table_name), retain)

    def _table(self, construct_id: str, table_name: str, retain: bool) -> dynamodb.Table:
        return dynamodb.Table(
            self, construct_id,
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
