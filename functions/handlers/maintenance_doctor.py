"""Lambda (scheduled): `remedy doctor`'s checks after deployment, daily — through AWS APIs (`handler`) and
from inside the VPC (`vpc_handler`). Only the observability module loads at init."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.maintenance import runtime  # deferred to the first event

    return runtime.handle(event, "doctor")


@observed
def vpc_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.maintenance import runtime

    return runtime.handle(event, "doctor_vpc")
