"""The gate before each step of a procedure that changes something: the guard's rules `kill_switch` and
`freeze`, asked the way the playbooks' guard asks them (functions.core.guard.kill_switch_reason,
functions.core.safety.freeze_in_force), so one switch and one calendar stop or hold everything.

The state machine invokes the gate (step function `gate`) before each changing step and routes on its verdict
(infra/constructs/procedure_flow.py, ProcedureFlow.gate):

- GO: nothing holds the step; it runs. A step that was held is released (audited and told: it resumes);
- HELD: the kill switch is on (or cannot be read: fail closed). The run waits `poll_seconds` and asks again,
  so turning the switch off lets it go on; the first hold is audited and told to on call;
- STOPPED: held longer than the catalog's procedures.kill_switch_hold_minutes: the run ends in its failure
  path with the reason (nothing after the gate was done);
- APPROVE: a change freeze is in force: the step waits for a person's approval (its own approval state),
  whatever the procedure's own approval said before.

The previous gate's verdict is in the run's data (`$.gate`), so the hold's start survives the Wait between two
asks and a release is told once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.core.catalog import Catalog
from functions.core.guard import kill_switch_reason
from functions.core.ports import KillSwitchPort, SafetyPort
from functions.core.safety import FREEZE, freeze_in_force
from functions.procedures.ports import AuditLog, Notifier

KILL_SWITCH = "kill_switch"
GO, HELD, STOPPED, APPROVE = "GO", "HELD", "STOPPED", "APPROVE"
HELD_KIND, RELEASED_KIND, STOPPED_KIND, FREEZE_KIND = ("procedure_held", "procedure_released", "procedure_stopped",
                                                        "procedure_freeze")
SUBJECT_LIMIT = 100


def gate(step: str, state: dict[str, Any], catalog: Catalog, kill_switch: KillSwitchPort,
         safety: SafetyPort | None, audit: AuditLog, notifier: Notifier, now: datetime) -> dict[str, Any]:
    """The verdict for the changing step `step` of the run whose data is `state`."""
    incident, procedure = str(state.get("incident_id", "")), str(state.get("procedure", ""))
    gate_before = state.get("gate")
    before: dict[str, Any] = gate_before if isinstance(gate_before, dict) else {}
    held_before = before.get("step") == step and before.get("verdict") == HELD
    switch = kill_switch_reason(kill_switch)
    what = {"procedure": procedure, "step": step}
    if switch:
        since = datetime.fromisoformat(before["held_since"]) if held_before else now
        limit = timedelta(minutes=catalog.procedures.kill_switch_hold_minutes)
        reason = f"kill switch {catalog.guardrails.kill_switch_parameter} {switch}"
        if now - since >= limit:
            reason = (f"{reason}: held before {step} since {since:%Y-%m-%d %H:%M}Z, longer than "
                      f"procedures.kill_switch_hold_minutes ({limit.total_seconds() / 60:.0f} min); nothing from "
                      f"{step} on was done")
            audit.record(incident, STOPPED_KIND, {**what, "rule": KILL_SWITCH, "reason": reason})
            return _verdict(step, STOPPED, KILL_SWITCH, reason, since)
        if not held_before:
            audit.record(incident, HELD_KIND, {**what, "rule": KILL_SWITCH, "reason": reason,
                                               "until": (now + limit).isoformat()})
            notifier.publish(*_told(catalog, procedure, incident, "HELD", [
                f"HELD        {procedure} {incident} waits before {step}: {reason}",
                f"            nothing from {step} on is done while it is on; turn it off and the run goes on "
                f"(checked every {state.get('poll_seconds', catalog.procedures.poll_seconds)} s)",
                f"            still on at {now + limit:%Y-%m-%d %H:%M}Z: the run stops in its failure path",
                f"STATUS      remedy incident status {incident}"]))
        return _verdict(step, HELD, KILL_SWITCH, reason, since)
    if held_before:
        since = before.get("held_since", "")
        audit.record(incident, RELEASED_KIND, {**what, "rule": KILL_SWITCH, "held_since": since})
        notifier.publish(*_told(catalog, procedure, incident, "RESUMED", [
            f"RESUMED     {procedure} {incident} goes on with {step}: the kill switch is off "
            f"(held since {since[:16].replace('T', ' ')}Z)"]))
    frozen = freeze_in_force(catalog, safety, now)
    if frozen:
        reason = f"{frozen}: {step} waits for approval"
        audit.record(incident, FREEZE_KIND, {**what, "rule": FREEZE, "reason": reason})
        notifier.publish(*_told(catalog, procedure, incident, "FREEZE", [
            f"FREEZE      {procedure} {incident}: {reason}",
            f"            an approval request for {step} follows (remedy incident approve {incident})"]))
        return _verdict(step, APPROVE, FREEZE, reason)
    return _verdict(step, GO, "ok", "every check passed")


def _verdict(step: str, verdict: str, rule: str, reason: str, held_since: datetime | None = None) -> dict[str, Any]:
    return {"step": step, "verdict": verdict, "rule": rule, "reason": reason,
            "held_since": held_since.isoformat() if held_since else ""}


def _told(catalog: Catalog, procedure: str, incident: str, what: str, lines: list[str]) -> tuple[str, str]:
    subject = f"[{catalog.prefix}] {what}: {procedure} {incident}"
    return subject[:SUBJECT_LIMIT], "\n".join(lines)
