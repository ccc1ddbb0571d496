"""Where alarm events go that no playbook handled: Lambda's on-failure destination and the rules' DLQ."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge


class UnhandledEventsQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, queue_name: str):
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self, "Queue",
            queue_name=queue_name,
            # The longest SQS keeps a message: a weekend of unhandled incidents is still there on Monday.
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        cfn_queue = self.queue.node.default_child
        assert cfn_queue is not None
        acknowledge(
            cfn_queue, "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the playbook functions (Lambda on-failure "
            "destination) and of the EventBridge rule targets; cdk-nag only recognises RedrivePolicy and "
            "Lambda DeadLetterConfig references. Nothing consumes it automatically, so there is no "
            "receive loop a DLQ of its own would break.")
