"""S3 request metrics for the data lake bucket: they exist only once the bucket has a metrics configuration.

The bucket belongs to the data platform's Terraform, so this service does not own an AWS::S3::Bucket to
set it on: a custom resource calls PutBucketMetricsConfiguration (on create and update) and
DeleteBucketMetricsConfiguration (on delete) for the one configuration `EntireBucket` (no filter: every
request of the bucket). Its role holds exactly infra.permissions.bucket_metrics_statements.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from functions.core.catalog import Catalog
from infra import names
from infra.nag import acknowledge
from infra.permissions import bucket_metrics_statements


class BucketRequestMetrics(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, log_retention: logs.RetentionDays,
                 retain_logs: bool):
        super().__init__(scope, construct_id)
        bucket, metrics_id = catalog.s3.name, names.BUCKET_METRICS_ID
        self.log_group = logs.LogGroup(
            self, "Logs",
            log_group_name=names.bucket_metrics_log_group_name(catalog),
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Puts the {metrics_id} request-metrics configuration on {bucket} (infra/permissions.py)",
        )
        self.statements = bucket_metrics_statements(catalog)
        self.policy = iam.Policy(self, "Policy", statements=[s.to_iam() for s in self.statements], roles=[self.role])
        for statement in self.statements:
            for resource in statement.resources:
                if "*" in resource:
                    acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{resource}]", statement.wildcard_reason)
        put = cr.AwsSdkCall(
            service="S3",
            action="putBucketMetricsConfiguration",
            parameters={"Bucket": bucket, "Id": metrics_id, "MetricsConfiguration": {"Id": metrics_id}},
            physical_resource_id=cr.PhysicalResourceId.of(f"{bucket}/{metrics_id}"),
        )
        self.resource = cr.AwsCustomResource(
            self, "Configuration",
            resource_type="Custom::BucketRequestMetrics",
            on_create=put,
            on_update=put,
            on_delete=cr.AwsSdkCall(service="S3", action="deleteBucketMetricsConfiguration",
                                    parameters={"Bucket": bucket, "Id": metrics_id}),
            # The role above, complete: no policy generated from the SDK calls (which would name the
            # non-existent IAM action s3:PutBucketMetricsConfiguration) and no managed policy.
            role=self.role.without_policy_updates(),
            log_group=self.log_group,
            install_latest_aws_sdk=False,  # the runtime's SDK has both calls; no download at deploy time
        )
        self.resource.node.add_dependency(self.policy)
