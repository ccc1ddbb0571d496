"""Lambda (EventBridge: an alarm of ALARM_STARTS goes to ALARM): start its procedure, once per state change.

Only the observability module loads at init: the procedure code and its pydantic models load on the first
event (cold start target, README "Benchmarks")."""

from typing import Any

from functions.core.observability import logger, observed


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import uuid

    from functions.procedures.runtime import now, wiring
    from functions.procedures.start import start_from_alarm

    w = wiring()
    # The delivery's id goes into the execution input (functions/procedures/start.py: why).
    delivery = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    result = start_from_alarm(event, w.catalog, w.ports, w.audit, now(), delivery, w.kill_switch)
    logger.info("procedure start", extra={k: v for k, v in result.items() if k in ("status", "incident", "reason")})
    return result
