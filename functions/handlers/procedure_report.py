"""Lambda: how a procedure ended (success, or the one failure path), told to on call and the audit trail."""

from typing import Any

from functions.procedures.report import report
from functions.procedures.runtime import logger, state_of, wiring


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    w = wiring()
    return report({**event, "state": state_of(event)}, w.catalog.prefix, w.audit, w.notifier, w.approvals, w.clock)
