"""Lambda (.waitForTaskToken): record the approval's task token with the incident and ask on call."""

from typing import Any

from functions.procedures.approval import request_approval, request_from_event
from functions.procedures.runtime import logger, state_of, wiring


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    request = request_from_event({**event, "state": state_of(event)})
    return request_approval(request, w.catalog.prefix, w.approvals, w.audit, w.notifier, w.clock)
