"""Lambda (scheduled): runbook "Maintenance / Backup and Recovery", checked daily."""

from typing import Any

from functions.maintenance.runtime import handle, logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, "posture")
