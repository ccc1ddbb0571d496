"""Lambda: runbook "Redshift Performance Issues". Thin: parse, run the playbook, report, end the session."""

from typing import Any

from functions.core.adapters.redshift import close_connections
from functions.core.runtime import handle, logger
from functions.playbooks.redshift_performance import RedshiftPerformance

PLAYBOOK = RedshiftPerformance()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return handle(event, PLAYBOOK, context)
    finally:
        close_connections()  # a frozen container must not hold a database session between invocations
