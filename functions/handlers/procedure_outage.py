"""Lambdas of the service-outage procedure: gather evidence and decide; escalate."""

from typing import Any

from functions.procedures import outage
from functions.procedures.runtime import logger, now, state_of, validated_input, wiring


@logger.inject_lambda_context(clear_state=True)
def assess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return outage.assess(validated_input(event), w.ports, w.catalog, now())


@logger.inject_lambda_context(clear_state=True)
def escalate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return outage.escalate(state_of(event), w.catalog, w.ports)
