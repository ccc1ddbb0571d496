"""Physical names and ARNs of what this service creates, derived from the catalog in one place.

The stacks name their resources with these functions and the IAM policies point at the same ARNs,
so a renamed table cannot leave a policy pointing at the old one. The sandbox reads the same names.
"""

from __future__ import annotations

from functions.core.catalog import Catalog


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn(catalog: Catalog, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
    region = catalog.region if regional else ""
    owner = catalog.account_id if account else ""
    return f"arn:{partition_for(catalog.region)}:{service}:{region}:{owner}:{resource}"


def playbook_slug(playbook: str) -> str:
    """msk_consumer_lag -> msk-consumer-lag (Lambda names read better with dashes)."""
    return playbook.replace("_", "-")


def function_name(catalog: Catalog, playbook: str) -> str:
    return f"{catalog.prefix}-{playbook_slug(playbook)}"


def rule_name(catalog: Catalog, playbook: str) -> str:
    return f"{catalog.prefix}-{playbook}"


def log_group_name(catalog: Catalog, playbook: str) -> str:
    return f"/aws/lambda/{function_name(catalog, playbook)}"


def audit_table(catalog: Catalog) -> str:
    return f"{catalog.prefix}-audit"


def breaker_table(catalog: Catalog) -> str:
    return f"{catalog.prefix}-breaker"


def idempotency_table(catalog: Catalog) -> str:
    return f"{catalog.prefix}-idempotency"


def failure_queue(catalog: Catalog) -> str:
    """Events no playbook could handle (Lambda on-failure destination and EventBridge target DLQ)."""
    return f"{catalog.prefix}-unhandled-events"


def monitoring_stack(catalog: Catalog) -> str:
    return f"{catalog.prefix}-monitoring"


def remediation_stack(catalog: Catalog) -> str:
    return f"{catalog.prefix}-remediation"


def table_arn(catalog: Catalog, table: str) -> str:
    return arn(catalog, "dynamodb", f"table/{table}")


def topic_arn(catalog: Catalog) -> str:
    return arn(catalog, "sns", catalog.notifications.on_call_topic)


def escalation_topic(catalog: Catalog) -> str:
    """The topic that pages (catalog notifications.escalation_topic, default <prefix>-escalation)."""
    return catalog.notifications.escalation_topic or f"{catalog.prefix}-escalation"


def escalation_topic_arn(catalog: Catalog) -> str:
    return arn(catalog, "sns", escalation_topic(catalog))


def queue_arn(catalog: Catalog) -> str:
    return arn(catalog, "sqs", failure_queue(catalog))


def parameter_arn(catalog: Catalog, name: str) -> str:
    # Parameter names that start with '/' keep it: arn:...:parameter/remedy/dev/kill-switch
    return arn(catalog, "ssm", f"parameter{name if name.startswith('/') else '/' + name}")


def log_streams_arn(catalog: Catalog, playbook: str) -> str:
    """The function's log group and every stream in it (stream names are chosen by Lambda at run time)."""
    return arn(catalog, "logs", f"log-group:{log_group_name(catalog, playbook)}:*")


def alarms_arn(catalog: Catalog) -> str:
    """Every alarm of this service: they all start with '<prefix>/' (functions.core.naming)."""
    return arn(catalog, "cloudwatch", f"alarm:{catalog.prefix}/*")


# --- monitoring: probes, dashboards, the bucket's request metrics ------------------------------------------

def probe_function_name(catalog: Catalog, probe: str) -> str:
    """glue_outcomes -> remedy-dev-probe-glue-outcomes"""
    return f"{catalog.prefix}-probe-{playbook_slug(probe)}"


def probe_rule_name(catalog: Catalog, probe: str) -> str:
    return probe_function_name(catalog, probe)


def probe_log_group_name(catalog: Catalog, probe: str) -> str:
    return f"/aws/lambda/{probe_function_name(catalog, probe)}"


def probe_log_streams_arn(catalog: Catalog, probe: str) -> str:
    return arn(catalog, "logs", f"log-group:{probe_log_group_name(catalog, probe)}:*")


def dashboard_name(catalog: Catalog, concern: str) -> str:
    """One dashboard per concern: <prefix>-msk, -glue, -redshift, -s3, -remediation."""
    return f"{catalog.prefix}-{concern}"


def bucket_arn(catalog: Catalog) -> str:
    """The data lake bucket (owned by the data platform's Terraform; this service only reads and configures)."""
    return arn(catalog, "s3", catalog.s3.name, regional=False, account=False)


# S3 request metrics are published per metrics configuration (FilterId): one for the whole bucket.
BUCKET_METRICS_ID = "EntireBucket"


def bucket_metrics_log_group_name(catalog: Catalog) -> str:
    """Log group of the custom resource that puts the bucket's request-metrics configuration."""
    return f"/aws/lambda/{catalog.prefix}-s3-request-metrics"
