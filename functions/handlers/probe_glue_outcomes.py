"""Lambda: runbook "Glue Job Success Rate" / "Glue job failures" probe, on every Glue Job State Change.

Only the observability module loads at init: the probe and its pydantic models load on the first event
(cold start target, README "Benchmarks")."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.probes import runtime  # deferred to the first event (module docstring)

    return runtime.run_glue_outcome(event)
