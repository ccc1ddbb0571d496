"""Lambda: how a procedure ended (success, or the one failure path), told to on call and the audit trail.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks")."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures.report import report  # deferred to the first event (module docstring)
    from functions.procedures.runtime import state_of, wiring

    state = state_of(event)  # refuses a non-object before anything else reads the event
    w = wiring()
    return report({**event, "state": state}, w.catalog.prefix, w.audit, w.notifier, w.approvals, w.clock,
                  escalation=w.escalation)
