"""Lambda: runbook "MSK consumer lag > 10,000" for Spark streaming jobs, every minute. Thin: measure, publish, log.

Only the observability module loads at init: the probe, boto3 and the Kafka client load on the first event."""

from typing import Any

from functions.core.observability import observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.probes import runtime  # deferred to the first event (module docstring)

    return runtime.run_consumer_lag(event)
