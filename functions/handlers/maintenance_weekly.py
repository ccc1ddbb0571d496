"""Lambda (scheduled): runbook "Maintenance / Weekly: Review CloudWatch metrics and alarms".

Only the observability module loads at init: the job and its pydantic models load on the first event
(cold start target, README "Benchmarks")."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.maintenance import runtime  # deferred to the first event (module docstring)

    return runtime.handle(event, "weekly_review")
