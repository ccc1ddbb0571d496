"""Lambda (.waitForTaskToken): record the approval's task token with the incident and ask on call; on its
sweep schedule, remind on call of the approvals still unanswered at half their window.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks")."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures.approval import request_approval, request_from_event  # deferred (docstring)
    from functions.procedures.runtime import is_schedule, state_of, sweep_time, wiring

    if is_schedule(event):  # its sweep schedule (every five minutes): reminders at half the window
        from functions.procedures.approval import sweep

        now = sweep_time(event)  # refuses a schedule from another account or region, in one line
        w = wiring()
        return sweep(now, w.catalog.prefix, w.approvals, w.audit, w.notifier)
    state = state_of(event)  # refuses a non-object before anything else reads the event
    w = wiring()
    request = request_from_event({**event, "state": state})
    return request_approval(request, w.catalog.prefix, w.approvals, w.audit, w.notifier, w.clock)
