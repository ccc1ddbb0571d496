"""The on-call topic: alarm state changes and playbook outcomes, one message a person reads in 10 s."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class OnCallTopic(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, emails: Sequence[str]):
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self, "Topic",
            topic_name=topic_name,
            display_name=f"{topic_name} (remedy)",
            # Publishers (the functions, CloudWatch alarms) must use TLS; the policy denies anything else.
            enforce_ssl=True,
            # No customer managed key: cdk-nag does not ask for one, and CloudWatch alarm actions cannot
            # publish to a topic encrypted with the AWS managed aws/sns key.
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
