"""Lambdas of the scaling procedures: plan the exact change within the catalog's caps.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks"): each step imports what it uses."""

from typing import Any

from functions.core.observability import observed


@observed
def plan_glue(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import scaling
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return scaling.plan_glue(validated_input(event), w.ports, w.catalog)


@observed
def plan_msk(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import scaling
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return scaling.plan_msk(validated_input(event), w.ports, w.catalog)


@observed
def plan_redshift(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import scaling
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return scaling.plan_redshift(validated_input(event), w.ports, w.catalog)
