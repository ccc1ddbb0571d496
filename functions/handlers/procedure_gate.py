"""Lambda: the gate before a procedure's changing step (functions/procedures/gate.py): the kill switch and
change freezes, the guard's own rules. Returns GO, HELD, STOPPED or APPROVE; the state machine routes on it.

Only the observability module loads at init: the procedure code loads on the first event."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures.gate import gate  # deferred (docstring)
    from functions.procedures.runtime import state_of, step, wiring

    state = state_of(event)  # refuses a non-object before anything else reads the event
    w = wiring()
    return gate(str(event.get("guards") or step(event)), state, w.catalog, w.kill_switch, w.safety, w.audit,
                w.notifier, w.clock.now())
