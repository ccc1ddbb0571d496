"""Lambda (scheduled): runbook "Maintenance / Quarterly: Review and optimize S3 lifecycle policies"."""

from typing import Any

from functions.maintenance.runtime import handle, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, "lifecycle_review")
