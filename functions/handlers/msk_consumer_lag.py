"""Lambda: runbook "MSK Consumer Lag High". Thin: parse, run the playbook, report."""

from typing import Any

from functions.core.runtime import handle, logger
from functions.playbooks.msk_consumer_lag import MskConsumerLag

PLAYBOOK = MskConsumerLag()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, PLAYBOOK, context)
