"""Lambda: the one answer path for approvals (functions/answers): the CLI's signed function URL requests and the
Slack function's direct invocations. The domain loads on the first event (cold start)."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.answers.runtime import handle  # deferred (docstring)

    return handle(event)
