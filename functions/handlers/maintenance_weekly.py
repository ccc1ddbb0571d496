"""Lambda (scheduled): runbook "Maintenance / Weekly: Review CloudWatch metrics and alarms"."""

from typing import Any

from functions.maintenance.runtime import handle, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, "weekly_review")
