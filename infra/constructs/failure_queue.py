"""Where alarm events go that no playbook handled: Lambda's on-failure destination and the rules' DLQ."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
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

    def page_on_any_message(self, *, alarm_name: str, description: str, topics: Sequence[sns.ITopic]) -> cw.Alarm:
        """ALARM as soon as one event waits in the queue (paging in and out). AWS/SQS publishes
        ApproximateNumberOfMessagesVisible per queue every minute; Maximum over one 60 s period: one message
        is enough, and a queue nobody writes to publishes nothing, which is no evidence of a failure."""
        alarm = cw.Alarm(
            self, "AnyMessage", alarm_name=alarm_name, alarm_description=description,
            metric=self.queue.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                             period=Duration.minutes(1)),
            threshold=1, comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1, datapoints_to_alarm=1, treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
        for topic in topics:
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            alarm.add_ok_action(cw_actions.SnsAction(topic))
        return alarm
