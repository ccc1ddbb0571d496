"""What Amazon SQS publishes to CloudWatch by itself: per queue, in namespace AWS/SQS with dimension QueueName,
one datapoint a minute of ApproximateNumberOfMessagesVisible, …NotVisible and …Delayed (SQS Developer Guide,
"Available CloudWatch metrics for Amazon SQS"). moto publishes nothing, so before the alarms are evaluated the
sandbox reads the queues' attributes and puts those datapoints, for the queues a deployed alarm watches (the
unhandled-events queue): its alarm then fires on the emulated metric, as it would in AWS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

NAMESPACE = "AWS/SQS"
METRICS = {"ApproximateNumberOfMessagesVisible": "ApproximateNumberOfMessages",
           "ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible",
           "ApproximateNumberOfMessagesDelayed": "ApproximateNumberOfMessagesDelayed"}


def watched_queues(alarms: dict[str, dict[str, Any]]) -> set[str]:
    """Queue names the synthesized alarms read SQS metrics of."""
    return {d["Value"] for props in alarms.values() if props.get("Namespace") == NAMESPACE
            for d in props.get("Dimensions", []) if d.get("Name") == "QueueName"}


def publish(sandbox: Any, now: datetime | None) -> None:
    """One datapoint per metric and watched queue, in the minute before `now` (what SQS has reported by then)."""
    sqs = sandbox.client("sqs")
    for name in sorted(watched_queues(sandbox.deployment.alarms)):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(METRICS.values()))["Attributes"]
        for metric, attribute in METRICS.items():
            sandbox.put_metric(NAMESPACE, metric, {"QueueName": name}, [float(attributes.get(attribute, 0))],
                               end=now)
