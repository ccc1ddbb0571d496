"""Lambdas of the security-incident procedure: assess (principal, keys, ingress); review (CloudTrail, IAM)."""

from typing import Any

from functions.procedures import security
from functions.procedures.runtime import logger, state_of, step, validated_input, wiring


@logger.inject_lambda_context(clear_state=True)
def assess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return security.assess(validated_input(event), w.ports, w.ports, w.ports, w.catalog)


@logger.inject_lambda_context(clear_state=True)
def review(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ports = wiring().ports
    if step(event) == "ReviewPolicies":
        return security.review_policies(state_of(event), ports)
    return security.review_cloudtrail(state_of(event), ports)
