"""Lambdas of the scaling procedures: plan the exact change within the catalog's caps."""

from typing import Any

from functions.procedures import scaling
from functions.procedures.runtime import logger, validated_input, wiring


@logger.inject_lambda_context(clear_state=True)
def plan_glue(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return scaling.plan_glue(validated_input(event), w.ports, w.catalog)


@logger.inject_lambda_context(clear_state=True)
def plan_msk(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return scaling.plan_msk(validated_input(event), w.ports, w.catalog)


@logger.inject_lambda_context(clear_state=True)
def plan_redshift(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return scaling.plan_redshift(validated_input(event), w.ports, w.catalog)
