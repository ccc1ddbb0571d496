"""Lambda: runbook "Glue Job Failures". Thin: parse (a Glue Job State Change event or the glue-failures
alarm), run the playbook, report.

Only the observability module loads at init: the runtime, the playbook, the event parsers and their
pydantic models load on the first event (cold start target, README "Benchmarks"), then stay loaded."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from functions.core.observability import observed

if TYPE_CHECKING:
    from functions.core.catalog import Catalog
    from functions.core.models import Incident


@cache
def playbook() -> Any:
    from functions.playbooks.glue_job_failure import GlueJobFailure

    return GlueJobFailure()


def parse(event: Any, catalog: Catalog, playbook: str) -> Incident:
    """`Glue Job State Change` events carry the failed run; anything else must be one of our alarms."""
    from functions.core.events import parse_alarm_event, parse_glue_event

    if isinstance(event, dict) and event.get("detail-type") == "Glue Job State Change":
        return parse_glue_event(event, catalog, playbook)
    return parse_alarm_event(event, catalog, playbook)


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.core import runtime  # deferred to the first event (module docstring)

    return runtime.handle(event, playbook(), context, parse=parse)
