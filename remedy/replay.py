"""`remedy replay`: one EventBridge event through the synthesized routing and the real handler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from functions.core.events import parse_timestamp
from sandbox.core import Sandbox


def _stage_alarm(sandbox: Sandbox, event: dict[str, Any]) -> None:
    """Put the emulated alarm in the state the event says it entered, at the event's time: the handler then
    reads the world the event describes (the alarm still in ALARM right after it fired), not a fresh one.
    Events for alarms the sandbox does not have, or that do not parse, are delivered as they are."""
    from sandbox.alarms import Evaluation, record_transition

    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    state = detail.get("state") if isinstance(detail.get("state"), dict) else {}
    name, value = detail.get("alarmName"), state.get("value")
    if event.get("detail-type") != "CloudWatch Alarm State Change" or not isinstance(name, str) or \
            value not in ("OK", "ALARM", "INSUFFICIENT_DATA"):
        return
    cloudwatch = sandbox.client("cloudwatch")
    if not cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]:
        return
    try:
        at = parse_timestamp(str(state.get("timestamp", "")))
    except ValueError:
        return
    record_transition(cloudwatch, Evaluation(name, "", value, f"replayed: {str(state.get('reason', ''))[:200]}",
                                             {}, []), at)


SETTLE_SECONDS = 120.0


def _settle_execution(sandbox: Sandbox, arn: str) -> dict[str, Any]:
    """A procedure the event started, followed until it ends or waits for a person's approval (what an operator
    would see next in the console), at most SETTLE_SECONDS: {procedure, incident, execution, status}."""
    from functions.procedures import parse_execution_name
    from remedy.commands import incident

    procedure, incident_id = parse_execution_name(arn.rsplit(":", 1)[-1]) or ("?", "?")
    try:
        state = incident.wait(sandbox.client, sandbox.catalog, procedure, incident_id, timeout=SETTLE_SECONDS)
        status = "WAITING_FOR_APPROVAL" if state["waiting"] else state["status"]
        detail = ": ".join(x for x in (state.get("error", ""), state.get("cause", "")) if x)
    except TimeoutError as error:
        status, detail = "RUNNING", str(error)
    return {"procedure": procedure, "incident": incident_id, "execution": arn, "status": status, "detail": detail}


def replay_event(event: Any, env: str, catalog_path: Path, sandbox: Sandbox | None = None) -> dict[str, Any]:
    """What happened to `event`: the rules it matched, each handler's outcome. Acts on nothing when no rule
    matches or the handler rejects the event."""
    owned = sandbox is None
    sandbox = sandbox or Sandbox(env, catalog_path=catalog_path).start()
    try:
        if not isinstance(event, dict):
            return {"status": "REJECTED", "reason": f"an event is a JSON object, not {type(event).__name__}",
                    "matched_rules": [], "invocations": []}
        _stage_alarm(sandbox, event)
        delivery = sandbox.deliver(event)
        report: dict[str, Any] = {
            "matched_rules": delivery.matched,
            "invocations": [{"function": i.function, "handler": i.handler, "attempts": i.attempts,
                             "error": i.error, "result": i.result} for i in delivery.invocations],
        }
        if not delivery.matched:
            rules = ", ".join(r.name for r in sandbox.deployment.rules)
            detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
            what = f"{event.get('detail-type', '?')} from {event.get('source', '?')}"
            if detail.get("alarmName"):
                what += f" for alarm {str(detail['alarmName'])[:120]!r}"
            report.update(status="NO_RULE", reason=f"no rule matches {what} (rules: {rules})")
            return report
        results = [i.result for i in delivery.invocations if isinstance(i.result, dict)]
        report["executions"] = [_settle_execution(sandbox, str(r["execution"]))
                                for r in results if r.get("execution")]
        rejected = [r for r in results if r.get("status") == "REJECTED"]
        failed = [i for i in delivery.invocations if i.error]
        if rejected:
            report.update(status="REJECTED", reason=f"rejected: {rejected[0]['reason']}")
        elif failed:
            report.update(status="FAILED", reason=f"{failed[0].function} failed after {failed[0].attempts} "
                                                  f"attempts: {failed[0].error} (sent to the on-failure queue)")
        else:
            report.update(status=str(results[0].get("status")) if results else "NO_TARGET",
                          reason=str(results[0].get("summary", "")) if results else "no function target")
        return report
    finally:
        if owned:
            sandbox.stop()
