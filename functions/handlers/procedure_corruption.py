"""Lambdas of the data-corruption procedure: assess, restore (swap tables, object versions), re-process,
verify."""

from typing import Any

from functions.procedures import corruption
from functions.procedures.runtime import logger, state_of, step, validated_input, wiring


@logger.inject_lambda_context(clear_state=True)
def assess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return corruption.assess(validated_input(event), w.ports, w.ports, w.ports, w.catalog)


@logger.inject_lambda_context(clear_state=True)
def restore(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    if step(event) == "SwapTables":
        return corruption.swap_tables(state_of(event), w.ports)
    return corruption.restore_objects(state_of(event), w.ports, w.catalog)


@logger.inject_lambda_context(clear_state=True)
def reprocess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return corruption.reprocess(state_of(event), wiring().ports, start_runs=step(event) == "Reprocess")


@logger.inject_lambda_context(clear_state=True)
def verify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return corruption.verify(state_of(event), w.ports, w.ports, w.catalog)
