"""Lambda (.waitForTaskToken): record the approval's task token with the incident and ask on call.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks")."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures.approval import request_approval, request_from_event  # deferred (docstring)
    from functions.procedures.runtime import state_of, wiring

    state = state_of(event)  # refuses a non-object before anything else reads the event
    w = wiring()
    request = request_from_event({**event, "state": state})
    return request_approval(request, w.catalog.prefix, w.approvals, w.audit, w.notifier, w.clock)
