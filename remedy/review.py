"""An incident told from its records: the timeline (alarm, diagnosis, guard decisions, actions, approvals with
who answered as verified, verification, outcome), time to first action and time to recovery, and a
post-incident review draft in Markdown. Pure functions over the audit trail's records ({kind, at, payload},
as `remedy incident status` reads them) plus what the procedures' executions and the approvals say; the
commands in remedy/commands/incidents.py read those, this module only tells them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    at: str  # ISO 8601, UTC
    phase: str  # alarm | diagnosis | guard | action | approval | verification | outcome | procedure | note
    text: str


def _when(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _who(payload: dict[str, Any]) -> str:
    """Who answered, as verified where the record says so (the answer path records the verified identity)."""
    verified = payload.get("identity") or payload.get("principal") or payload.get("verified_by")
    if isinstance(verified, dict):
        verified = verified.get("arn") or verified.get("principal") or verified.get("user") or str(verified)
    shown = str(verified or payload.get("by") or "?")
    via = payload.get("via") or payload.get("channel")
    return shown + (f" via {via}" if via else "") + (" (verified)" if verified else "")


def _alarm(p: dict[str, Any], at: str, action: dict[str, Any]) -> Line:
    reason = f"  ({p['reason'][:160]})" if p.get("reason") else ""
    return Line(str(p.get("changed_at") or at), "alarm",
                f"{p.get('alarm_name')}: {p.get('previous_state') or '?'} -> {p.get('state')}{reason}")


def _plan(p: dict[str, Any], at: str, action: dict[str, Any]) -> Line:
    bad = [f["detail"] for f in p.get("findings", []) if not f.get("ok")]
    planned = [f"{a.get('name')} on {a.get('target')}" for a in p.get("actions", [])]
    text = ("; ".join(bad) or "nothing wrong found") + (f" -> plan: {', '.join(planned)}" if planned else
                                                         " -> no action")
    return Line(at, "diagnosis", text + "".join(f"; note: {r}" for r in p.get("recommendations", [])))


def _asked(p: dict[str, Any], at: str, action: dict[str, Any]) -> Line:
    what = action.get("name") or f"{p.get('procedure')} before {p.get('step')}"
    until = str(p.get("expires_at") or p.get("deadline") or "")[:16]
    return Line(at, "approval", f"asked: {what} ({p.get('approval_id', p.get('procedure', ''))}), answer until "
                                f"{until}Z")


def _answered(p: dict[str, Any], at: str, action: dict[str, Any]) -> Line:
    what = action.get("name") or p.get("procedure") or ""
    reason = f" ({p['reason']})" if p.get("reason") else ""
    return Line(at, "approval", " ".join(f"{p.get('decision') or p.get('status') or 'answer'} {what} by "
                                         f"{_who(p)}{reason}".split()))


def _note(p: dict[str, Any], at: str, kind: str) -> Line:
    detail = p.get("reason") or p.get("detail") or p.get("status") or p.get("target") or ""
    return Line(at, "note", f"{kind.replace('_', ' ')}: {detail}".rstrip(": "))


_LINES = {
    "incident": _alarm,
    "plan": _plan,
    "decision": lambda p, at, a: Line(at, "guard", f"{a.get('name')} on {a.get('target')}: {p.get('verdict')} "
                                                   f"({p.get('rule')}: {p.get('reason')})"),
    "action": lambda p, at, a: Line(at, "action", f"{a.get('name')} on {a.get('target')}: {p.get('status')} "
                                                  f"{p.get('detail', '')}".rstrip()),
    "approval_requested": _asked,
    "approval_reminded": lambda p, at, a: Line(at, "approval", f"REMINDER sent: {a.get('name') or p.get('procedure')}"
                                                               f" still unanswered"),
    "approval_lapsed": lambda p, at, a: Line(at, "approval", f"LAPSED: nobody answered {a.get('name')} by "
                                                             f"{str(p.get('expires_at', ''))[:16]}Z: nothing was "
                                                             f"done (escalated)"),
    "approval": _answered,
    "answer_refused": _answered,
    "verification": lambda p, at, a: Line(str(p.get("checked_at") or at), "verification",
                                          f"{p.get('status')}: {p.get('detail', '')}"),
    "outcome": lambda p, at, a: Line(at, "outcome", f"{p.get('status')}: {p.get('summary', '')}"),
    "procedure_outcome": lambda p, at, a: Line(at, "procedure", f"{p.get('procedure')} {p.get('status')}"
                                                                + (f": {p['cause']}" if p.get("cause") else "")),
}


def _line(record: dict[str, Any]) -> Line:
    kind, p, at = record["kind"], record.get("payload") or {}, str(record.get("at", ""))
    action = p["action"] if isinstance(p.get("action"), dict) else {"name": p.get("action", "")}
    render = _LINES.get(kind)
    return render(p, at, action) if render is not None else _note(p, at, kind)


def timeline(records: list[dict[str, Any]], steps: list[dict[str, Any]] | None = None) -> list[Line]:
    """The incident's lines in time order: audit records, and the procedure runs' states (`steps`:
    [{procedure, state, at, result}], as `remedy incident status` reads them)."""
    lines = [_line(r) for r in records]
    for step in steps or []:
        lines.append(Line(str(step["at"]), "procedure", f"{step.get('procedure', '')} {step['state']}: "
                                                          f"{step['result']}".strip()))
    return sorted(lines, key=lambda line: (_when(line.at) or EPOCH, line.phase != "alarm"))


def _first(records: list[dict[str, Any]], test: Any) -> datetime | None:
    times = [t for r in records if test(r) and (t := _when(_at(r))) is not None]
    return min(times) if times else None


def _at(record: dict[str, Any]) -> str:
    p = record.get("payload") or {}
    if record["kind"] == "incident":
        return str(p.get("changed_at") or record.get("at"))
    if record["kind"] == "verification":
        return str(p.get("checked_at") or record.get("at"))
    return str(record.get("at"))


def measures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Detected (the alarm's state change), first action, recovered (verified, REMEDIATED, RECOVERED or a
    procedure that SUCCEEDED), and the two durations from detection."""
    def alarmed(r: dict[str, Any]) -> bool:
        return r["kind"] == "incident" and (r.get("payload") or {}).get("state") == "ALARM"

    def acted(r: dict[str, Any]) -> bool:
        return r["kind"] == "action" and (r.get("payload") or {}).get("status") == "SUCCEEDED"

    def recovered(r: dict[str, Any]) -> bool:
        p = r.get("payload") or {}
        return ((r["kind"] == "verification" and p.get("status") == "VERIFIED")
                or (r["kind"] == "outcome" and p.get("status") in ("REMEDIATED", "RECOVERED"))
                or (r["kind"] == "procedure_outcome" and p.get("status") == "SUCCEEDED"))

    detected = _first(records, alarmed) or _first(records, lambda r: r["kind"] in ("incident", "approval_requested"))
    first_action, recovery = _first(records, acted), _first(records, recovered)
    return {"detected_at": detected, "first_action_at": first_action, "recovered_at": recovery,
            "time_to_first_action": first_action - detected if first_action and detected else None,
            "time_to_recovery": recovery - detected if recovery and detected else None}


def duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return (f"{hours} h " if hours else "") + f"{rest // 60} min {rest % 60:02d} s"


def age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h" if minutes < 48 * 60 else f"{minutes // 1440} d"


def report(incident_id: str, records: list[dict[str, Any]], steps: list[dict[str, Any]] | None = None,
           env: str = "dev") -> str:
    """A post-incident review draft in Markdown: summary, impact, the measured times, the timeline, what the
    service did and who decided, and the sections a person fills in (marked TODO)."""
    lines = timeline(records, steps)
    m = measures(records)
    first_alarm = next((line for line in lines if line.phase == "alarm"), None)
    outcomes = [line.text for line in lines if line.phase in ("outcome", "procedure") and ":" in line.text]
    answers = [line for line in lines if line.phase == "approval"]
    actions = [line for line in lines if line.phase == "action"]
    refused = [line for line in lines if line.phase == "guard" and "ALLOWED" not in line.text]
    out = [f"# Post-incident review: {incident_id}", "",
           f"*Draft generated by `remedy incident report {incident_id} --env {env}` from the audit trail; "
           "edit the TODO sections.*", "",
           "## Summary", "",
           f"- **What fired:** {first_alarm.text if first_alarm else 'no alarm (a procedure started by hand)'}",
           f"- **Final outcome:** {outcomes[-1] if outcomes else 'no outcome recorded yet'}",
           f"- **Detected:** {_stamp(m['detected_at'])}",
           f"- **First action:** {_stamp(m['first_action_at'])} (time to first action: "
           f"{duration(m['time_to_first_action'])})",
           f"- **Recovered:** {_stamp(m['recovered_at'])} (time to recovery: {duration(m['time_to_recovery'])})",
           "", "## Impact", "", "TODO: who or what was affected, for how long (data late, queries slow, …).", "",
           "## Timeline (UTC)", "", "| Time | Phase | What happened |", "|---|---|---|"]
    out += [f"| {line.at[:19].replace('T', ' ')} | {line.phase} | {_cell(line.text)} |" for line in lines]
    out += ["", "## What the service did", ""]
    out += [f"- {_cell(line.text)}" for line in actions] or ["- nothing was changed by the service"]
    if refused:
        out += ["", "Held back by the guard:", ""] + [f"- {_cell(line.text)}" for line in refused]
    out += ["", "## Decisions by people", ""]
    out += [f"- {line.at[11:16]}Z {_cell(line.text)}" for line in answers] or ["- no approval was asked"]
    out += ["", "## Root cause", "", "TODO: why it happened (the diagnosis above is where to start).", "",
            "## What went well / what did not", "", "TODO", "",
            "## Follow-up actions", "", "| Action | Owner | Due |", "|---|---|---|", "| TODO | | |", ""]
    return "\n".join(out)


def _stamp(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}Z" if value else "-"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
