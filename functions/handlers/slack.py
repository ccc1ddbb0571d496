"""Lambda: on call in Slack (functions/chat). Thin: SNS notifications are posted to the channel, anything else is
an HTTP request for the Slack app (its function URL) or Bolt's own lazy invocation of this function."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> Any:
    from functions.chat import runtime  # deferred to the first event: Bolt and boto3 load on a cold start only

    if runtime.is_sns(event):
        return {"notifications": runtime.notifications(event)}
    return runtime.interaction(event, context)
