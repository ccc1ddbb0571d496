"""The safety core's memory: audit trail, circuit breaker and idempotency records (DynamoDB)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


def _table(scope: Construct, construct_id: str, *, name: str, pk: str, sk: str | None = None,
           ttl: str | None = None, retain: bool) -> dynamodb.Table:
    return dynamodb.Table(
        scope, construct_id,
        table_name=name,
        partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING) if sk else None,
        time_to_live_attribute=ttl,
        # Incidents are rare and bursty: no capacity to plan or to be throttled by.
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        # A KMS key in the account (aws/dynamodb): use of it shows in CloudTrail; callers need no key grant.
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        deletion_protection=retain,
        removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
    )


class SafetyCoreTables(Construct):
    """Fixed physical names: the functions get them by environment, people find them by name."""

    def __init__(self, scope: Construct, construct_id: str, *, audit_name: str, breaker_name: str,
                 idempotency_name: str, retain: bool):
        super().__init__(scope, construct_id)
        # One item per decision, in order within an incident (seq = timestamp#counter). Kept: it is the record.
        self.audit = _table(self, "AuditTrail", name=audit_name, pk="incident_id", sk="seq", retain=retain)
        # One item per remediated resource: last action and attempts within the budget window; beside them the
        # leases, pending approvals and verification windows. Answered approvals and closed windows carry
        # purge_at (their record is in the audit trail); breaker state and leases never do.
        self.breaker = _table(self, "CircuitBreaker", name=breaker_name, pk="target", ttl="purge_at",
                              retain=retain)
        # Powertools idempotency layout: key `id`, expiry epoch seconds in `expiration` (DynamoDB TTL).
        self.idempotency = _table(self, "Idempotency", name=idempotency_name, pk="id", ttl="expiration",
                                  retain=retain)
