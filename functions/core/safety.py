"""The guard's rules that hold across playbooks, resources and procedures: exclusions, snoozes, change freezes
and the fleet budget (the kill switch is functions.core.guard.kill_switch_reason). Pure decisions on what the
catalog says and what the safety store (functions.core.ports.SafetyPort) holds; no boto3.

Each rule has one name, the one the audit trail records (Decision.rule):

- `exclusion`: the catalog's guardrails.exclusions name resources (patterns) the service never changes;
- `snooze`: a person left one resource alone until a time (`remedy snooze RESOURCE --for 2h --reason …`);
  it ends by itself when the clock passes `until` (DynamoDB's TTL only cleans up afterwards);
- `freeze`: a catalog freeze window or an ad-hoc freeze (`remedy freeze now --for 6h --reason …`) is in force:
  auto behaves as approve, procedures ask before every changing step, lease give-backs wait for its end;
- `fleet_budget`: at most guardrails.fleet_budget_per_hour actions per rolling hour across every resource and
  playbook, claimed atomically (a conditional write on the store's version), so a storm across many pipelines
  cannot become a storm of changes. Lease give-backs do not spend it.

Setting and cancelling snoozes and ad-hoc freezes takes a VerifiedIdentity: who AWS (or the chat platform)
says the caller is, never a flag. The CLI reaches these through the answer function (issue 13), which is
where the identity is verified.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.core.catalog import Catalog, Exclusion, FreezeWindow
from functions.core.errors import error_line

if TYPE_CHECKING:
    from functions.core.ports import SafetyPort

EXCLUSION, SNOOZE, FREEZE, FLEET_BUDGET = "exclusion", "snooze", "freeze", "fleet_budget"
FLEET_WINDOW = timedelta(hours=1)
FLEET_CLAIM_TRIES = 8  # concurrent claims of other units: read again and retry (each try is one read + one write)
MAX_SNOOZE = timedelta(days=14)  # longer than this is an exclusion: put it in the catalog with its reason
MAX_FREEZE = timedelta(days=14)
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


class VerifiedIdentity(BaseModel):
    """Who set something, as AWS verified it (SigV4 on the answer function's IAM-auth URL: the caller's ARN) or
    the chat platform did (a signed request: the user id). Never taken from a command-line flag."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: str = Field(min_length=1, max_length=512)  # arn:aws:sts::…:assumed-role/… | slack:U123…
    via: Literal["iam", "slack"]

    def __str__(self) -> str:
        return self.principal


class Snooze(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    resource: str  # a catalog component, e.g. glue:orders-stream
    until: datetime
    reason: str = Field(min_length=1, max_length=300)
    set_by: str
    set_at: datetime

    def active(self, now: datetime) -> bool:
        return now < self.until


class Freeze(BaseModel):
    """An ad-hoc freeze (`remedy freeze now`), or a catalog window in force (id `catalog:<name>`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    start: datetime
    until: datetime
    reason: str = Field(min_length=1, max_length=300)
    set_by: str = "catalog"

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.until

    def describe(self) -> str:
        by = "" if self.set_by == "catalog" else f", set by {self.set_by}"
        return f"change freeze {self.name} until {self.until:%Y-%m-%d %H:%M}Z ({self.reason}{by})"


class SafetyRefused(ValueError):
    """A request to set or cancel a snooze or freeze that cannot be carried out (one line: why)."""


# -- exclusions and snoozes -------------------------------------------------------------------------------

def exclusion_for(catalog: Catalog, target: str) -> Exclusion | None:
    return next((e for e in catalog.guardrails.exclusions if fnmatchcase(target, e.resource)), None)


def hands_off(catalog: Catalog, safety: SafetyPort | None, target: str, now: datetime) -> tuple[str, str] | None:
    """(rule, reason) when `target` is excluded or snoozed: diagnosed and notified, no action. A snooze that
    cannot be read counts as in force (nothing is changed without knowing it may be)."""
    excluded = exclusion_for(catalog, target)
    if excluded is not None:
        return EXCLUSION, f"{target} is excluded by the catalog ({excluded.resource}: {excluded.reason})"
    if safety is None:
        return None
    try:
        raw = safety.snooze_of(target)
    except Exception as error:
        return SNOOZE, f"snoozes could not be read, so {target} counts as snoozed ({error_line(error)})"
    if raw is None:
        return None
    snooze = Snooze.model_validate(raw)
    if not snooze.active(now):
        return None  # over: it ended by itself (DynamoDB's TTL removes the item later)
    return SNOOZE, (f"{target} is snoozed until {snooze.until:%Y-%m-%d %H:%M}Z by {snooze.set_by} "
                    f"({snooze.reason})")


def component_for(catalog: Catalog, resource: str) -> str:
    """A catalog component from what a person typed: glue:orders-stream, or orders-stream if one kind has it."""
    if resource in catalog.components:
        return resource
    matches = sorted(c for c in catalog.components if c.partition(":")[2] == resource)
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(sorted(c for c in catalog.components if c.startswith("glue:"))[:6])
    if matches:
        raise SafetyRefused(f"{resource} names {', '.join(matches)}: say which")
    raise SafetyRefused(f"{resource} is not a catalog component (e.g. {known})")


def snooze(safety: SafetyPort, catalog: Catalog, resource: str, duration: timedelta, reason: str,
           identity: VerifiedIdentity, now: datetime) -> Snooze:
    """Leave one resource alone for `duration` (at most MAX_SNOOZE). A new snooze of the same resource
    replaces the old one (the latest word counts); the old one stays in the audit trail."""
    target = component_for(catalog, resource)
    if not timedelta(minutes=1) <= duration <= MAX_SNOOZE:
        raise SafetyRefused(f"a snooze lasts between 1 minute and {MAX_SNOOZE.days} days; longer is an exclusion "
                            f"in the catalog (guardrails.exclusions) with its reason")
    if not reason.strip():
        raise SafetyRefused("a snooze needs a reason (--reason): the next person on call reads it")
    record = Snooze(resource=target, until=now + duration, reason=reason.strip(), set_by=str(identity), set_at=now)
    safety.put_snooze(record.model_dump(mode="json"))
    return record


def snoozes(safety: SafetyPort, now: datetime) -> list[Snooze]:
    """The snoozes in force now (expired ones are over, whether or not the TTL has removed them yet)."""
    found = [Snooze.model_validate(raw) for raw in safety.snoozes()]
    return sorted((s for s in found if s.active(now)), key=lambda s: s.until)


def cancel_snooze(safety: SafetyPort, catalog: Catalog, resource: str, identity: VerifiedIdentity,
                  now: datetime) -> Snooze:
    target = component_for(catalog, resource)
    raw = safety.snooze_of(target)
    if raw is None or not Snooze.model_validate(raw).active(now):
        raise SafetyRefused(f"{target} is not snoozed")
    if not safety.cancel_snooze(target, str(identity), now):
        raise SafetyRefused(f"{target}'s snooze ended a moment ago")
    return Snooze.model_validate(raw)


# -- freezes ----------------------------------------------------------------------------------------------

def _local(value: str, zone: Any) -> datetime:
    text = value if "T" in value else f"{value}T00:00"
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def _hm(value: str) -> tuple[int, int]:
    hours, minutes = value.split(":")
    return int(hours), int(minutes)


def window_in_force(window: FreezeWindow, now: datetime) -> Freeze | None:
    """The catalog window as a Freeze if it is in force at `now` (with the UTC moment it ends), else None.
    Raises ZoneInfoNotFoundError when this machine has no data for its time zone (callers fail closed)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(window.timezone)
    if window.start is not None and window.end is not None:
        start, end = _local(window.start, zone), _local(window.end, zone)
        if start <= now < end:
            return Freeze(id=f"catalog:{window.name}", name=window.name, start=start.astimezone(UTC),
                          until=end.astimezone(UTC), reason=window.reason)
        return None
    local = now.astimezone(zone)
    (fh, fm), (th, tm) = _hm(window.from_time or "00:00"), _hm(window.to_time or "00:00")
    # The occurrence that started today or yesterday (a range past midnight started the day before).
    for back in (0, 1):
        day = (local - timedelta(days=back)).date()
        if WEEKDAYS[day.weekday()] not in window.days:
            continue
        start = datetime(day.year, day.month, day.day, fh, fm, tzinfo=zone)
        end = datetime(day.year, day.month, day.day, th, tm, tzinfo=zone)
        if end <= start:
            end += timedelta(days=1)
        if start <= now < end:
            return Freeze(id=f"catalog:{window.name}", name=window.name, start=start.astimezone(UTC),
                          until=end.astimezone(UTC), reason=window.reason)
    return None


def freeze_in_force(catalog: Catalog, safety: SafetyPort | None, now: datetime) -> str | None:
    """Why a change freeze is in force now (the one that lasts longest), or None. Fails closed: a calendar
    or a freeze store that cannot be read counts as a freeze."""
    found: list[Freeze] = []
    for window in catalog.guardrails.freezes:
        try:
            freeze = window_in_force(window, now)
        except Exception as error:
            return (f"change freeze {window.name} could not be judged, so it counts as in force "
                    f"({error_line(error)})")
        if freeze is not None:
            found.append(freeze)
    if safety is not None:
        try:
            found += [f for f in (Freeze.model_validate(raw) for raw in safety.freezes()) if f.active(now)]
        except Exception as error:
            return f"ad-hoc freezes could not be read, so a freeze counts as in force ({error_line(error)})"
    if not found:
        return None
    return max(found, key=lambda f: f.until).describe()


def freeze_now(safety: SafetyPort, duration: timedelta, reason: str, identity: VerifiedIdentity,
               now: datetime, name: str = "") -> Freeze:
    """An ad-hoc freeze from now for `duration` (at most MAX_FREEZE)."""
    if not timedelta(minutes=1) <= duration <= MAX_FREEZE:
        raise SafetyRefused(f"an ad-hoc freeze lasts between 1 minute and {MAX_FREEZE.days} days; planned ones "
                            f"(peak trading) belong in the catalog's guardrails.freezes")
    if not reason.strip():
        raise SafetyRefused("a freeze needs a reason (--reason)")
    digest = hashlib.sha256(f"{now.isoformat()}\0{identity}".encode()).hexdigest()[:8]
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", name.strip())[:40] or "ad-hoc"
    freeze = Freeze(id=f"fz-{digest}", name=label, start=now, until=now + duration, reason=reason.strip(),
                    set_by=str(identity))
    safety.put_freeze(freeze.model_dump(mode="json"), now)
    return freeze


def freezes(catalog: Catalog, safety: SafetyPort, now: datetime) -> list[Freeze]:
    """Freezes in force now: the catalog's windows and the ad-hoc ones."""
    found = [f for f in (window_in_force(w, now) for w in catalog.guardrails.freezes) if f is not None]
    found += [f for f in (Freeze.model_validate(raw) for raw in safety.freezes()) if f.active(now)]
    return sorted(found, key=lambda f: f.until)


def cancel_freeze(safety: SafetyPort, freeze_id: str, identity: VerifiedIdentity, now: datetime) -> Freeze:
    """End an ad-hoc freeze early (a catalog window ends by editing the catalog)."""
    if freeze_id.startswith("catalog:"):
        raise SafetyRefused(f"{freeze_id} is the catalog's: change guardrails.freezes to end it")
    current = {raw["id"]: Freeze.model_validate(raw) for raw in safety.freezes()}
    freeze = current.get(freeze_id)
    if freeze is None or not freeze.active(now):
        raise SafetyRefused(f"no ad-hoc freeze {freeze_id} is in force")
    safety.cancel_freeze(freeze_id, now)
    return freeze


# -- fleet budget -----------------------------------------------------------------------------------------

def fleet_entry(target: str, playbook: str, incident_id: str, now: datetime) -> dict[str, str]:
    return {"at": now.astimezone(UTC).isoformat(), "target": target, "playbook": playbook,
            "incident": incident_id}


def claim_fleet_unit(safety: SafetyPort, cap: int, entry: dict[str, str], now: datetime) -> str | None:
    """Spend one unit of the fleet budget for `entry`; None when spent, otherwise why not. Each try reads the
    budget and writes it back conditional on the version it read: of two incidents claiming the last unit,
    exactly one wins; the other reads again and finds the budget spent."""
    window_start = now - FLEET_WINDOW
    for _ in range(FLEET_CLAIM_TRIES):
        version, entries = safety.load_fleet()
        recent = [e for e in entries if datetime.fromisoformat(e["at"]) > window_start]
        if len(recent) >= cap:
            first = min(datetime.fromisoformat(e["at"]) for e in recent) if recent else now
            targets = sorted({e["target"] for e in recent})
            return (f"fleet budget spent: {len(recent)} of {cap} actions in the last hour across "
                    f"{len(targets)} resource(s) ({', '.join(targets[:5])}{', …' if len(targets) > 5 else ''}); "
                    f"a unit frees at {first + FLEET_WINDOW:%H:%M:%S}Z")
        if safety.save_fleet(version, [*recent, entry]):
            return None
    return "fleet budget contended: too many concurrent claims; nothing was done (the alarm asks again)"


def release_fleet_unit(safety: SafetyPort, entry: dict[str, str]) -> None:
    """Give back a unit claimed for an action that was then not taken (the resource's breaker said no)."""
    for _ in range(FLEET_CLAIM_TRIES):
        version, entries = safety.load_fleet()
        if entry not in entries or safety.save_fleet(version, [e for e in entries if e != entry]):
            return

