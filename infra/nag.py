"""cdk-nag 3 through CDK's Validations API: findings fail synthesis unless acknowledged, one by one.

Acknowledgments are narrow: on the construct that has the finding, with the exact finding id (for
IAM5 the `[Resource::<arn>]` part included), and with a reason a reviewer can check. They are also
written into the template metadata (`cdk_nag.rules_to_suppress`) so the tests and auditors see them.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def add_checks(app: IConstruct) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """`rule_id` as cdk-nag reports it, e.g. AwsSolutions-SQS3 or AwsSolutions-IAM5[Resource::*]."""
    if not reason.strip():
        raise ValueError(f"{rule_id}: an acknowledgment needs a reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{PACK}::{rule_id}", reason=reason))
