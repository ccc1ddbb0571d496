"""Lambda: runbook "Data Quality Issues" (landing-zone freshness alarms). Thin: parse, run the playbook,
report."""

from typing import Any

from functions.core.runtime import handle, logger
from functions.playbooks.data_quality import DataQuality

PLAYBOOK = DataQuality()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, PLAYBOOK, context)
