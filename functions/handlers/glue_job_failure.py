"""Lambda: runbook "Glue Job Failures". Thin: parse (a Glue Job State Change event or the glue-failures
alarm), run the playbook, report."""

from typing import Any

from functions.core.catalog import Catalog
from functions.core.events import parse_alarm_event, parse_glue_event
from functions.core.models import Incident
from functions.core.runtime import handle, logger
from functions.playbooks.glue_job_failure import GlueJobFailure

PLAYBOOK = GlueJobFailure()


def parse(event: Any, catalog: Catalog, playbook: str) -> Incident:
    """`Glue Job State Change` events carry the failed run; anything else must be one of our alarms."""
    if isinstance(event, dict) and event.get("detail-type") == "Glue Job State Change":
        return parse_glue_event(event, catalog, playbook)
    return parse_alarm_event(event, catalog, playbook)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, PLAYBOOK, context, parse=parse)
