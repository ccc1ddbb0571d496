"""SNS gap fills: delivery to Lambda subscriptions of the functions the sandbox deployed.

moto hands a message for a `lambda` subscription to its own Lambda emulation (Docker, and a placeholder event
with EXAMPLE fields). AWS (SNS developer guide, "Fanout to Lambda functions"; Lambda developer guide, "Invoking
Lambda functions with Amazon SNS notifications"): SNS invokes the function asynchronously with an event of
`Records[0].Sns` {Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature,
SigningCertUrl, UnsubscribeUrl, MessageAttributes}; with MessageStructure=json the `lambda` key's text (else
`default`) is the Message; SNS may invoke only if the function's resource-based policy allows
lambda:InvokeFunction to sns.amazonaws.com (for that topic, when the statement names a SourceArn). Here the
event goes to the function's asynchronous queue (sandbox.lambda_async); without the permission nothing is
delivered, as in AWS (SNS records a failed delivery).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.gaps import Fill

OPERATIONS = {
    "sns:Publish": Fill("behaviour", "a message for a `lambda` subscription of a deployed function goes to that "
                                     "function's asynchronous queue as SNS's event record (moto: its Docker Lambda "
                                     "with a placeholder event)",
                        "https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html"),
}
UNDELIVERED: list[str] = []  # subscriptions SNS could not invoke (no resource-based permission): tests read it

_INSTALLED = False


def sns_event(subscription_arn: str, topic_arn: str, message_id: str, message: str, subject: str | None,
              attributes: dict[str, Any] | None, at: datetime) -> dict[str, Any]:
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn,
        "Sns": {"Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn, "Subject": subject,
                "Message": message, "Timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
                "SignatureVersion": "1", "Signature": "", "SigningCertUrl": "", "UnsubscribeUrl": "",
                "MessageAttributes": {k: {"Type": v.get("Type"), "Value": v.get("Value")}
                                      for k, v in (attributes or {}).items()}}}]}


def sns_may_invoke(permissions: list[dict[str, Any]], function_arn: str, topic_arn: str) -> bool:
    name = function_arn.rsplit(":", 1)[-1]
    return any(p.get("Action") == "lambda:InvokeFunction" and p.get("Principal") == "sns.amazonaws.com"
               and str(p.get("FunctionName")) in (function_arn, name)
               and p.get("SourceArn") in (None, topic_arn) for p in permissions)


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.sns.models import Subscription

    original = Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
                deduplication_id: str | None = None, message_structure: str | None = None) -> None:
        from sandbox import lambda_async  # the account's Lambda queue (imported when a message is delivered)
        from sandbox.active import active

        sandbox = active()
        spec = sandbox.deployment.functions.get(self.endpoint) if sandbox is not None else None
        if self.protocol != "lambda" or spec is None:
            return original(self, message, message_id, subject, message_attributes, group_id,  # type: ignore[no-any-return]
                            deduplication_id, message_structure)
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
                message_attributes, message):
            return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        if not sns_may_invoke(sandbox.deployment.permissions, spec.arn, self.topic.arn):
            UNDELIVERED.append(f"{self.topic.arn} -> {spec.arn}: no lambda:InvokeFunction for sns.amazonaws.com")
            return None
        from sandbox import clock

        lambda_async.submit(sandbox, spec, sns_event(self.arn, self.topic.arn, message_id, message, subject,
                                                     message_attributes, clock.now().astimezone(UTC)))
        return None

    Subscription.publish = publish
    _INSTALLED = True
