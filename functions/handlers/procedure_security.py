"""Lambdas of the security-incident procedure: assess (principal, keys, ingress); review (CloudTrail, IAM).

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks"): each step imports what it uses."""

from typing import Any

from functions.core.observability import observed


@observed
def assess(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import security
    from functions.procedures.runtime import validated_input, wiring

    w = wiring()
    return security.assess(validated_input(event), w.ports, w.ports, w.ports, w.catalog)


@observed
def review(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.procedures import security
    from functions.procedures.runtime import state_of, step, wiring

    ports = wiring().ports
    if step(event) == "ReviewPolicies":
        return security.review_policies(state_of(event), ports)
    return security.review_cloudtrail(state_of(event), ports)
