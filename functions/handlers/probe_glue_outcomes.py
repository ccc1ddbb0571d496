"""Lambda: runbook "Glue Job Success Rate" / "Glue job failures" probe, on every Glue Job State Change."""

from typing import Any

from functions.probes.runtime import logger, run_glue_outcome


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_glue_outcome(event)
