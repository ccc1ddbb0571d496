"""Lambdas of the service-outage procedure: gather evidence and decide; escalate.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks"): each step imports what it uses."""

from typing import Any

from functions.core.observability import observed


@observed
def assess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import outage
    from functions.procedures.runtime import now, validated_input, wiring

    w = wiring()
    return outage.assess(validated_input(event), w.ports, w.catalog, now())


@observed
def escalate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import outage
    from functions.procedures.runtime import state_of, wiring

    w = wiring()
    return outage.escalate(state_of(event), w.catalog, w.ports)
