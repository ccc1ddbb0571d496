"""Lambda: runbook "MSK Consumer Lag High". Thin: parse, run the playbook, report."""

from typing import Any

from functions.core.runtime import check_leases, handle_alarm, logger
from functions.playbooks.msk_consumer_lag import MskConsumerLag

PLAYBOOK = MskConsumerLag()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("detail-type") == "Scheduled Event":
        return check_leases(event, PLAYBOOK.name)  # scale-ups given back once their alarm stayed OK
    return handle_alarm(event, PLAYBOOK, context)
