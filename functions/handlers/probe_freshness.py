"""Lambda: runbook "Data Freshness" probe, and the staging quality flags (runbook "Data Quality Issues"), every
five minutes. Thin: measure, publish, log.

Only the observability module loads at init: the probe and its pydantic models load on the first event
(cold start target, README "Benchmarks")."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.probes import runtime  # deferred to the first event (module docstring)

    return runtime.run_freshness(event)
