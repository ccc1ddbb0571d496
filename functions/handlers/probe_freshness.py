"""Lambda: runbook "Data Freshness" probe, every five minutes. Thin: measure, publish, log."""

from typing import Any

from functions.probes.runtime import logger, run_freshness


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_freshness(event)
