"""EventBridge's delivery to a rule's Lambda target in the sandbox, and its dead letters.

EventBridge invokes a Lambda target only if the function exists and its resource policy lets
events.amazonaws.com invoke it for that rule (AWS::Lambda::Permission, SourceArn the rule's ARN). When it cannot,
nothing is retried: "for errors that result from missing permissions to a target, or if a target resource that
no longer exists, no retry attempts will happen until action is taken to resolve the underlying issue.
EventBridge sends these events directly to the target DLQ" (EventBridge User Guide, "Using dead-letter queues to
process undelivered events"). The dead letter is the event itself, with the message attributes RULE_ARN,
TARGET_ARN, ERROR_CODE (NO_PERMISSIONS, NO_RESOURCE, …) and ERROR_MESSAGE; it is sent only if the queue's policy
lets events.amazonaws.com send for that rule, otherwise it is lost (InvocationsFailedToBeSentToDLQ).

Without a dead-letter queue the event is dropped. Either way it is recorded in UNDELIVERED (as sandbox.gaps.sns
does for SNS), so a test can see what AWS would have counted in FailedInvocations.
EventBridge Scheduler schedules are not judged here: Scheduler invokes with the schedule's role (IAM).
"""

from __future__ import annotations

import json
from typing import Any

UNDELIVERED: list[str] = []  # "<rule arn> -> <target arn>: <code>: <where it went>"


def rule_arn(region: str, account: str, rule: str) -> str:
    return f"arn:aws:events:{region}:{account}:rule/{rule}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def events_may_invoke(permissions: list[dict[str, Any]], function_arn: str, source_arn: str) -> bool:
    """The function's resource policy lets EventBridge invoke it for this rule."""
    name = function_arn.rsplit(":", 1)[-1]
    return any(p.get("Action") == "lambda:InvokeFunction" and p.get("Principal") == "events.amazonaws.com"
               and str(p.get("FunctionName")) in (function_arn, name)
               and p.get("SourceArn") in (None, source_arn) for p in permissions)


def refusal(functions: dict[str, Any], permissions: list[dict[str, Any]], target_arn: str,
            source_arn: str) -> tuple[str, str] | None:
    """(ERROR_CODE, ERROR_MESSAGE) when EventBridge cannot invoke this Lambda target, else None."""
    if ":function:" not in target_arn:
        return None  # not a Lambda target: not emulated here
    if target_arn not in functions:
        return "NO_RESOURCE", f"Function not found: {target_arn}"
    if not events_may_invoke(permissions, target_arn, source_arn):
        return ("NO_PERMISSIONS", f"EventBridge is not authorized to invoke {target_arn}: its resource-based "
                                  f"policy allows no lambda:InvokeFunction to events.amazonaws.com for {source_arn}")
    return None


def queue_admits(policy: str | None, source_arn: str) -> bool:
    """The queue policy lets events.amazonaws.com SendMessage for this rule (Allow; aws:SourceArn if conditioned)."""
    try:
        statements = json.loads(policy or "{}").get("Statement", [])
    except ValueError:
        return False
    for statement in _as_list(statements):
        principal = (statement.get("Principal") or {})
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        actions = _as_list(statement.get("Action", []))
        if statement.get("Effect") != "Allow" or "events.amazonaws.com" not in services:
            continue
        if not {"sqs:SendMessage", "sqs:*", "*"} & set(actions):
            continue
        condition = statement.get("Condition") or {}
        sources = [v for test in ("ArnEquals", "ArnLike", "StringEquals")
                   for k, v in (condition.get(test) or {}).items() if k.lower() == "aws:sourcearn"]
        if not sources or any(source_arn in _as_list(v) for v in sources):
            return True
    return False


def dead_letter(sqs: Any, event: dict[str, Any], source_arn: str, target_arn: str, dlq_arn: str | None,
                code: str, message: str) -> None:
    """An event EventBridge could not deliver: to the target's DLQ (if its policy admits the rule), else lost."""
    where = "dropped (no dead-letter queue)"
    if dlq_arn:
        name, account = dlq_arn.rsplit(":", 1)[1], dlq_arn.split(":")[4]
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
        if queue_admits(policy, source_arn):
            attributes = {"RULE_ARN": source_arn, "TARGET_ARN": target_arn, "ERROR_CODE": code,
                          "ERROR_MESSAGE": message[:256], "RETRY_ATTEMPTS": "0"}
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes={
                k: {"DataType": "Number" if k == "RETRY_ATTEMPTS" else "String", "StringValue": v}
                for k, v in attributes.items()})
            where = f"sent to {dlq_arn}"
        else:
            where = f"lost: the policy of {dlq_arn} does not let events.amazonaws.com send for this rule"
    UNDELIVERED.append(f"{source_arn} -> {target_arn}: {code}: {where}")
