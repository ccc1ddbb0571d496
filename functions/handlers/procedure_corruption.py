"""Lambdas of the data-corruption procedure: assess, restore (swap tables, object versions), re-process,
verify.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks"): each step imports what it uses."""

from typing import Any

from functions.core.observability import observed


@observed
def assess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import corruption
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return corruption.assess(validated_input(event), w.ports, w.ports, w.ports, w.catalog)


@observed
def restore(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import corruption
    from functions.procedures.runtime import state_of, step, wiring

    w = wiring()
    if step(event) == "SwapTables":
        return corruption.swap_tables(state_of(event), w.ports)
    return corruption.restore_objects(state_of(event), w.ports, w.catalog)


@observed
def reprocess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import corruption
    from functions.procedures.runtime import state_of, step, wiring

    return corruption.reprocess(state_of(event), wiring().ports, start_runs=step(event) == "Reprocess")


@observed
def verify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import corruption
    from functions.procedures.runtime import state_of, wiring

    w = wiring()
    return corruption.verify(state_of(event), w.ports, w.ports, w.catalog)
