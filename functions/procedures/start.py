"""Starting a procedure from its alarm (ALARM_STARTS): the alarm's change to ALARM reaches the starter function
through an EventBridge rule (ProceduresStack); here it becomes the procedure's input, validated as
`remedy incident start` validates it (functions/procedures/inputs.py), and one StartExecution whose name is
derived from the alarm and the moment of its state change:

    <procedure>--<procedure>-<state change, UTC>-<hash of alarm name + state timestamp>

Why a function rather than EventBridge's Step Functions target: that target cannot name the execution (its
names are random), so a redelivered event (EventBridge delivers at least once, Lambda retries) would start a
second run; nor can it validate the input or say in the audit trail what started the run.

Why each delivery's id goes into the input: Step Functions answers a second StartExecution with the same name
*and the same input* while the first run is still going on with success (the same execution), which would
hide the duplicate. With the delivery in the input, every second delivery of the same state change is
refused by Step Functions (ExecutionAlreadyExists), whether the first run is still going on or has ended,
and recorded in the audit trail as a duplicate, with the delivery that did start it.

One run at a time: while another run of the procedure is still going on (an earlier outage, waiting for its
approval), a new state change is held, not started: the alarm has paged, and that run's approval is where on
call decides. Held and duplicate starts are recorded under the incident they would have started.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.core.catalog import Catalog
from functions.core.events import AlarmStateChange, BadEvent, parse_timestamp, validated_event
from functions.core.guard import kill_switch_reason
from functions.core.naming import parse_alarm_name
from functions.core.ports import KillSwitchPort
from functions.procedures import ALARM_STARTS, execution_name, state_machine_name
from functions.procedures.inputs import InputRefused, catalog_defaults, validate
from functions.procedures.ports import AlreadyStarted, AuditLog, ExecutionsPort

STARTED = "procedure_started"
DUPLICATE = "duplicate"  # the kind the playbooks record for a second delivery (the weekly review counts them)
HELD = "procedure_start_held"
REFUSED = "procedure_start_refused"
KILL_SWITCH = "kill_switch"


@dataclass(frozen=True)
class AlarmChange:
    alarm: str
    procedure: str
    state_timestamp: str  # as CloudWatch wrote it: with the alarm name, what identifies the incident
    changed_at: datetime
    reason: str


def parse_start_event(event: Any, catalog: Catalog) -> AlarmChange:
    """The state change of an alarm that starts a procedure, or BadEvent in one line."""
    change = validated_event(event, AlarmStateChange, "CloudWatch Alarm State Change", "alarm", catalog)
    detail = change.detail
    name = parse_alarm_name(detail.alarm_name, catalog.prefix)
    start = ALARM_STARTS.get(name.signal) if name else None
    if start is None:
        known = ", ".join(f"{catalog.prefix}/{s}/…" for s in ALARM_STARTS)
        raise BadEvent(f"alarm {detail.alarm_name[:120]!r} starts no procedure (those that do: {known})")
    if detail.state.value != "ALARM":
        raise BadEvent(f"alarm {detail.alarm_name!r} went to {detail.state.value}: a procedure starts on ALARM")
    return AlarmChange(alarm=detail.alarm_name, procedure=start.procedure, state_timestamp=detail.state.timestamp,
                       changed_at=parse_timestamp(detail.state.timestamp).astimezone(UTC),
                       reason=detail.state.reason)


def incident_id(change: AlarmChange) -> str:
    """Deterministic per state change: every delivery of it names the same incident (and execution)."""
    digest = hashlib.sha256(f"{change.alarm}\0{change.state_timestamp}".encode()).hexdigest()[:8]
    return f"{change.procedure}-{change.changed_at:%Y%m%dT%H%M%SZ}-{digest}"


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def state_machine_arn(catalog: Catalog, procedure: str) -> str:
    return (f"arn:{_partition(catalog.region)}:states:{catalog.region}:{catalog.account_id}:stateMachine:"
            f"{state_machine_name(catalog.prefix, procedure)}")


def execution_arn(catalog: Catalog, procedure: str, name: str) -> str:
    return (f"arn:{_partition(catalog.region)}:states:{catalog.region}:{catalog.account_id}:execution:"
            f"{state_machine_name(catalog.prefix, procedure)}:{name}")


def start_input(change: AlarmChange, catalog: Catalog, delivery: str, now: datetime) -> dict[str, Any]:
    """The execution input: the catalog's defaults, who started it, validated (InputRefused otherwise)."""
    data = {**catalog_defaults(change.procedure, catalog), "incident_id": incident_id(change),
            "requested_by": f"alarm {change.alarm}", "alarm": change.alarm, "delivery": delivery,
            "reason": f"alarm {change.alarm} in ALARM since {change.changed_at:%Y-%m-%d %H:%M:%S}Z"}
    return dict(json.loads(validate(change.procedure, data, catalog, now).model_dump_json()))


def start_from_alarm(event: Any, catalog: Catalog, executions: ExecutionsPort, audit: AuditLog, now: datetime,
                     delivery: str, kill_switch: KillSwitchPort | None = None) -> dict[str, Any]:
    """Start the alarm's procedure once per state change. STARTED, DUPLICATE (refused by Step Functions),
    HELD (another run still going on), REFUSED (the kill switch is on, or cannot be read: rule kill_switch, the
    playbooks' own) or REJECTED (not such an event, or input the procedure refuses)."""
    try:
        change = parse_start_event(event, catalog)
    except BadEvent as error:
        return {"status": "REJECTED", "reason": str(error)}
    incident = incident_id(change)
    name = execution_name(change.procedure, incident)
    machine = state_machine_arn(catalog, change.procedure)
    what = {"procedure": change.procedure, "alarm": change.alarm, "state_changed_at": change.state_timestamp,
            "delivery": delivery, "execution": execution_arn(catalog, change.procedure, name)}
    try:
        payload = start_input(change, catalog, delivery, now)
    except InputRefused as error:
        audit.record(incident, REFUSED, {**what, "reason": str(error)})
        return {"status": "REJECTED", "incident": incident, "reason": str(error)}
    switch = kill_switch_reason(kill_switch) if kill_switch is not None else None
    if switch:
        reason = (f"kill switch {catalog.guardrails.kill_switch_parameter} {switch}: {change.procedure} is not "
                  f"started by its alarm; start it by hand once it is off (remedy incident start {change.procedure})")
        audit.record(incident, REFUSED, {**what, "rule": KILL_SWITCH, "reason": reason})
        return {"status": "REFUSED", "incident": incident, "rule": KILL_SWITCH, "reason": reason}
    others = [run for run in executions.running(machine) if run["name"] != name]
    if others:
        reason = (f"{change.procedure} {others[0]['name'].partition('--')[2]} is still running (since "
                  f"{others[0]['started']}): one run at a time; answer it (remedy incident status), or start "
                  f"another by hand (remedy incident start {change.procedure})")
        audit.record(incident, HELD, {**what, "reason": reason, "running": [run["arn"] for run in others]})
        return {"status": "HELD", "incident": incident, "reason": reason}
    try:
        started = executions.start(machine, name, payload)
    except AlreadyStarted:
        first = executions.describe(what["execution"]) or {}
        reason = (f"Step Functions refused a second start of {name} (ExecutionAlreadyExists): this state change "
                  f"started it before ({first.get('status', 'status unknown')} since "
                  f"{first.get('started', '?')}, delivery {(first.get('input') or {}).get('delivery', '?')})")
        audit.record(incident, DUPLICATE, {**what, "reason": reason})
        return {"status": "DUPLICATE", "incident": incident, "reason": reason}
    audit.record(incident, STARTED, {**what, "started_by": payload["requested_by"], "started": started["started"],
                                     "input": payload})
    return {"status": "STARTED", "incident": incident, "execution": started["arn"],
            "summary": f"{change.procedure} {incident} started by alarm {change.alarm}"}
