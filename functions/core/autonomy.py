"""Earned autonomy (guard rule `mode`): how far a playbook's action may go on its own now, and why.

The catalog gives each playbook (and optionally each action) a start mode, a floor and a ceiling (its `mode`).
The effective mode starts at the start mode and moves between floor and ceiling with the record of verified
outcomes:

- demotion is automatic and immediate: a FAILED verification of an action, or K escalations of it within the
  window (guardrails.autonomy), drops the action to its floor (approve unless the catalog says otherwise);
- promotion is never automatic: the weekly review lists actions with N verified approvals in a row and no
  failure (promotion_candidates); a person promotes with `remedy mode set PLAYBOOK[.ACTION] auto --reason`
  through the answer function, which records their verified identity. The ceiling is never passed.

What moved a mode is kept in one item of the breaker table (functions.core.adapters.safety: `modes`, versioned
like the fleet budget) and in the audit trail (`mode_changed`). The most specific record counts: the action's,
else the playbook's, else the catalog's start. Pure decisions here; no boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from functions.core.catalog import MODE_ORDER, Catalog, Mode
from functions.core.safety import SafetyRefused, VerifiedIdentity

if TYPE_CHECKING:
    from functions.core.ports import SafetyPort

MODE = "mode"  # the guard rule's name
SAVE_TRIES = 8
# What the dashboard graphs (functions.core.runtime publishes it per playbook): 0 observe … 3 auto.
MODE_VALUE = {mode: index for index, mode in enumerate(MODE_ORDER)}


def rank(mode: Mode) -> int:
    return MODE_ORDER.index(mode)


def lower(a: Mode, b: Mode) -> Mode:
    return a if rank(a) <= rank(b) else b


@dataclass(frozen=True)
class Bounds:
    start: Mode
    floor: Mode
    ceiling: Mode


@dataclass(frozen=True)
class Effective:
    key: str  # playbook or playbook.action
    mode: Mode
    bounds: Bounds
    why: str
    record: dict[str, Any] | None = None  # what set it (None: the catalog's start mode)

    def line(self) -> str:
        return f"{self.key} in {self.mode} ({self.why})"


def split(key: str) -> tuple[str, str | None]:
    playbook, _, action = key.partition(".")
    return playbook, action or None


def bounds(catalog: Catalog, playbook: str, action: str | None = None) -> Bounds:
    rails = catalog.guardrails.playbooks[playbook]
    own = rails.actions.get(action) if action else None
    ceiling = lower(own.ceiling, rails.mode) if own and own.ceiling else rails.mode
    floor = lower((own.floor if own else None) or rails.floor_mode or Mode.APPROVE, ceiling)
    start = (own.start if own else None) or rails.start_mode or ceiling
    start = lower(start, ceiling) if rank(start) >= rank(floor) else floor
    return Bounds(start=start, floor=floor, ceiling=ceiling)


def _clamp(mode: Mode, limits: Bounds) -> Mode:
    if rank(mode) < rank(limits.floor):
        return limits.floor
    return lower(mode, limits.ceiling)


def effective(catalog: Catalog, state: dict[str, Any] | None, playbook: str, action: str | None = None) -> Effective:
    """The mode `playbook` (or its `action`) is in now, from the modes item (`state`; None: nothing recorded)."""
    limits = bounds(catalog, playbook, action)
    records = (state or {}).get("modes", {})
    keys = ([f"{playbook}.{action}"] if action else []) + [playbook]
    key = f"{playbook}.{action}" if action else playbook
    for found in keys:
        record = records.get(found)
        if record is None:
            continue
        mode = _clamp(Mode(record["mode"]), limits)
        why = str(record.get("why", ""))
        if mode is not Mode(record["mode"]):
            why += f"; held to {mode} by the catalog (floor {limits.floor}, ceiling {limits.ceiling})"
        return Effective(key=key, mode=mode, bounds=limits, why=why, record=record)
    return Effective(key=key, mode=limits.start, bounds=limits,
                     why=f"the catalog's start mode (floor {limits.floor}, ceiling {limits.ceiling})")


def unreadable(catalog: Catalog, playbook: str, action: str | None, error: str) -> Effective:
    """Fail closed: when the record cannot be read, a person is asked (approve, or lower if the ceiling is)."""
    limits = bounds(catalog, playbook, action)
    mode = lower(Mode.APPROVE, limits.ceiling)
    return Effective(key=f"{playbook}.{action}" if action else playbook, mode=mode, bounds=limits,
                     why=f"modes could not be read, so a person decides ({error})")


# -- demotion (automatic) -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Demotion:
    key: str
    before: Mode
    after: Mode
    why: str
    evidence: dict[str, Any]


def judge(catalog: Catalog, state: dict[str, Any] | None, playbook: str, action: str,
          outcome: Literal["FAILED", "ESCALATED"], incident_id: str, detail: str,
          now: datetime) -> tuple[dict[str, Any], Demotion | None]:
    """The modes item after one more outcome of `playbook.action`, and the demotion it caused (or None).
    FAILED (its verification failed): demoted at once. ESCALATED: counted; the K-th within the window demotes."""
    rules = catalog.guardrails.autonomy
    key = f"{playbook}.{action}"
    data: dict[str, Any] = {"modes": dict((state or {}).get("modes", {})),
                            "escalations": dict((state or {}).get("escalations", {}))}
    current = effective(catalog, state, playbook, action)
    since = now - timedelta(hours=rules.escalation_window_hours)
    seen = [e for e in data["escalations"].get(key, []) if datetime.fromisoformat(e["at"]) > since]
    seen.append({"at": now.isoformat(), "incident": incident_id, "outcome": outcome, "detail": detail[:200]})
    data["escalations"][key] = seen
    if rank(current.mode) <= rank(current.bounds.floor):
        return data, None  # at its floor already: nothing lower to go to (the record still counts)
    if outcome == "FAILED":
        why = f"demoted at {now:%Y-%m-%d %H:%M}Z: verification FAILED for incident {incident_id} ({detail[:160]})"
        evidence: dict[str, Any] = {"outcome": "FAILED", "incident": incident_id, "detail": detail[:300]}
    elif len(seen) >= rules.demote_after_escalations:
        incidents = ", ".join(e["incident"] for e in seen[-rules.demote_after_escalations:])
        why = (f"demoted at {now:%Y-%m-%d %H:%M}Z: {len(seen)} escalations within "
               f"{rules.escalation_window_hours} h ({incidents})")
        evidence = {"outcome": "ESCALATED", "escalations": seen}
    else:
        return data, None
    after = current.bounds.floor
    data["modes"][key] = {"mode": after.value, "why": why, "by": "the record", "at": now.isoformat(),
                          "kind": "demoted", "evidence": evidence}
    data["escalations"].pop(key, None)  # the count starts again at the lower mode
    return data, Demotion(key=key, before=current.mode, after=after, why=why, evidence=evidence)


def record_outcome(safety: SafetyPort, catalog: Catalog, playbook: str, action: str,
                   outcome: Literal["FAILED", "ESCALATED"], incident_id: str, detail: str,
                   now: datetime) -> Demotion | None:
    """judge() against the store, written conditionally on the version read (two incidents at once: one
    write wins, the other judges again on what it wrote)."""
    for _ in range(SAVE_TRIES):
        version, state = safety.load_modes()
        data, demotion = judge(catalog, state, playbook, action, outcome, incident_id, detail, now)
        if safety.save_modes(version, data):
            return demotion
    raise RuntimeError("the modes item kept changing under this write")


# -- a person sets a mode (`remedy mode set`) --------------------------------------------------------------

def known_key(catalog: Catalog, key: str) -> tuple[str, str | None]:
    from functions.core.actions import REGISTRY

    playbook, action = split(key.strip())
    if playbook not in catalog.guardrails.playbooks:
        raise SafetyRefused(f"{playbook} is not a playbook of this catalog "
                            f"({', '.join(sorted(catalog.guardrails.playbooks))})")
    if action is not None and action not in REGISTRY:
        raise SafetyRefused(f"{action} is not an action (e.g. {', '.join(sorted(REGISTRY)[:5])})")
    return playbook, action


def set_mode(catalog: Catalog, state: dict[str, Any] | None, key: str, mode: Mode, reason: str,
             identity: VerifiedIdentity, now: datetime) -> tuple[dict[str, Any], Effective, Effective]:
    """The modes item with `key` set to `mode` by a person (between the catalog's floor and ceiling), the
    effective mode before and after."""
    playbook, action = known_key(catalog, key)
    if not reason.strip():
        raise SafetyRefused("a mode change needs a reason (--reason): the audit trail and the next person read it")
    before = effective(catalog, state, playbook, action)
    limits = before.bounds
    if rank(mode) > rank(limits.ceiling):
        raise SafetyRefused(f"{mode} is above the catalog's ceiling {limits.ceiling} for {before.key}: the "
                            f"catalog's mode is the ceiling (raise it there, reviewed)")
    if rank(mode) < rank(limits.floor):
        raise SafetyRefused(f"{mode} is below the catalog's floor {limits.floor} for {before.key}")
    name = f"{playbook}.{action}" if action else playbook
    data: dict[str, Any] = {"modes": dict((state or {}).get("modes", {})),
                            "escalations": dict((state or {}).get("escalations", {}))}
    data["modes"][name] = {"mode": mode.value, "by": str(identity), "at": now.isoformat(), "kind": "set",
                           "reason": reason.strip()[:300],
                           "why": f"set by {identity} at {now:%Y-%m-%d %H:%M}Z: {reason.strip()[:160]}"}
    data["escalations"].pop(name, None)
    return data, before, effective(catalog, data, playbook, action)


def listing(catalog: Catalog, state: dict[str, Any] | None) -> list[Effective]:
    """Every playbook, and every action with its own catalog bounds or record, as it stands now."""
    rows: list[Effective] = []
    keys = set((state or {}).get("modes", {}))
    for playbook, rails in sorted(catalog.guardrails.playbooks.items()):
        rows.append(effective(catalog, state, playbook))
        actions = set(rails.actions) | {split(k)[1] for k in keys if split(k)[0] == playbook and split(k)[1]}
        rows += [effective(catalog, state, playbook, a) for a in sorted(a for a in actions if a)]
    return rows


# -- promotion (recommended by the weekly review) ----------------------------------------------------------

@dataclass(frozen=True)
class Promotion:
    key: str
    verified: int
    incidents: list[str]
    command: str


def _action_key(playbook: str | None, payload: dict[str, Any]) -> str | None:
    action = payload.get("action")
    name = action.get("name") if isinstance(action, dict) else None
    return f"{playbook}.{name}" if playbook and name else None


def _events(incident_id: str, items: list[Any]) -> list[tuple[datetime, str, str, str]]:
    """One incident's records as (at, playbook.action, verified|reset|failed, incident)."""
    if incident_id.startswith("mode:"):  # a mode changed (demoted, or set by a person): the count starts again
        return [(r.at, incident_id.removeprefix("mode:"), "reset", incident_id) for r in items
                if r.kind == "mode_changed"]
    playbook = next((r.payload.get("playbook") for r in items if r.kind == "incident"), None)
    events: list[tuple[datetime, str, str, str]] = []
    approved: list[tuple[datetime, str]] = []
    for r in items:
        key = _action_key(playbook, r.payload) if r.kind == "approval" else None
        if key and r.payload.get("decision") == "APPROVED":
            approved.append((r.at, key))
        elif key and r.payload.get("decision") == "REJECTED":
            events.append((r.at, key, "reset", incident_id))
    if not approved:
        return events
    final = [r for r in items if r.kind == "outcome" and r.at >= approved[0][0]]
    status = str(final[-1].payload.get("status")) if final else ""
    failed = status == "ESCALATED" or any(r.kind == "verification" and r.payload.get("status") == "FAILED"
                                          for r in items)
    verdict = "failed" if failed else "verified" if status == "REMEDIATED" else ""
    return events + [(at, key, verdict, incident_id) for at, key in approved if verdict]


def promotion_candidates(catalog: Catalog, records: list[Any]) -> list[Promotion]:
    """Actions with N verified approvals in a row and no failure in `records` (the audit trail of the review's
    window: objects with incident_id, kind, at, payload), whose ceiling is above approve. An approval counts
    when its incident then closed REMEDIATED; a rejection or a mode change of the action starts the count again,
    and a failure (escalated, verification FAILED) in the window rules the action out."""
    needed = catalog.guardrails.autonomy.promote_after_verified
    by_incident: dict[str, list[Any]] = {}
    for record in sorted(records, key=lambda r: (r.at, getattr(r, "seq", ""))):
        by_incident.setdefault(record.incident_id, []).append(record)
    events = [e for incident_id, items in by_incident.items() for e in _events(incident_id, items)]
    streaks: dict[str, list[str]] = {}
    ruled_out: set[str] = set()
    for _at, key, what, incident_id in sorted(events):
        if what == "verified":
            streaks.setdefault(key, []).append(incident_id)
            continue
        streaks[key] = []
        if what == "failed":
            ruled_out.add(key)
    found = []
    for key, incidents in sorted(streaks.items()):
        playbook, action = split(key)
        if key in ruled_out or len(incidents) < needed or playbook not in catalog.guardrails.playbooks:
            continue
        if rank(bounds(catalog, playbook, action).ceiling) <= rank(Mode.APPROVE):
            continue
        found.append(Promotion(key=key, verified=len(incidents), incidents=incidents,
                               command=f"remedy mode set {key} auto --env {catalog.env} --reason TEXT"))
    return found
