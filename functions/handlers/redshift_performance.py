"""Lambda: runbook "Redshift Performance Issues". Thin: parse, run the playbook, report, end the session.

Only the observability module loads at init: the runtime, the playbook and their pydantic models load on
the first event (cold start target, README "Benchmarks"), then stay loaded for the container's life; the
Redshift driver loads only when the playbook connects."""

from functools import cache
from typing import Any

from functions.core.observability import observed


@cache
def playbook() -> Any:
    from functions.playbooks.redshift_performance import RedshiftPerformance

    return RedshiftPerformance()


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.core import runtime  # deferred to the first event (module docstring)
    from functions.core.adapters.redshift import close_connections, invocation

    try:
        with invocation(context):  # ANALYZE fits the time this invocation has left (actions.redshift)
            return runtime.handle(event, playbook(), context)
    finally:
        close_connections()  # a frozen container must not hold a database session between invocations
