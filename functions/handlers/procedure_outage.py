"""Lambdas of the service-outage procedure: gather evidence and decide; escalate.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks"): each step imports what it uses."""

from typing import Any

from functions.core.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def assess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import outage
    from functions.procedures.runtime import now, validated_input, wiring

    w = wiring()
    return outage.assess(validated_input(event), w.ports, w.catalog, now())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def escalate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import outage
    from functions.procedures.runtime import state_of, wiring

    w = wiring()
    return outage.escalate(state_of(event), w.catalog, w.ports)
