"""Lambdas of the scaling procedures: plan the exact change within the catalog's caps.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks"): each step imports what it uses."""

from typing import Any

from functions.core.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def plan_glue(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import scaling
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return scaling.plan_glue(validated_input(event), w.ports, w.catalog)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def plan_msk(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import scaling
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return scaling.plan_msk(validated_input(event), w.ports, w.catalog)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def plan_redshift(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import scaling
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return scaling.plan_redshift(validated_input(event), w.ports, w.catalog)
