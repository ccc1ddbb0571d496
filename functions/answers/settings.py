"""Settings a person makes through the answer function's signed URL (issue 14): snoozes, ad-hoc freezes and
earned modes (`remedy snooze`, `remedy freeze now|cancel`, `remedy mode set`). They take the same verified
identity as answers do (requestContext.authorizer.iam.userArn; never a flag) and the catalog's allow-lists:

- a mode of a playbook (or one of its actions): that playbook's approvers;
- a snooze or a freeze: anyone among the approvers of some playbook or procedure (the people on call).

Each setting is audited with the verified principal: kinds snooze_set / snooze_cancelled (incident id
`snooze:<target>`), freeze_set / freeze_cancelled (`freeze:<id>`), mode_changed (`mode:<key>`, the same record a
demotion leaves, which is what the weekly review reads); a refusal as setting_refused.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from functions.answers import AnswerResult, CliSettingBody
from functions.answers.rules import ALLOW_LIST, Identity, allowed
from functions.core import autonomy, safety
from functions.core.catalog import Catalog, Mode
from functions.core.ports import SafetyPort
from functions.core.safety import SafetyRefused, VerifiedIdentity

SAVE_TRIES = 8


class Audit(Protocol):
    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None: ...


class Clock(Protocol):
    def now(self) -> Any: ...


def _on_call(catalog: Catalog, identity: Identity) -> bool:
    lists = [rails.approvers for rails in catalog.guardrails.playbooks.values()]
    lists += list(catalog.procedures.approvers.values())
    return any(allowed(approvers, identity) for approvers in lists)


def _done(body: CliSettingBody, identity: Identity, message: str, **detail: Any) -> AnswerResult:
    return AnswerResult(outcome="DONE", message=message, approval=body.kind, by=identity.shown,
                        detail={"kind": body.kind, **detail})


def apply(body: CliSettingBody, identity: Identity, catalog: Catalog, store: SafetyPort, audit: Audit,
          clock: Clock) -> AnswerResult:
    """Carry out one setting as `identity`, or refuse it in one line (REFUSED with the rule, or INVALID)."""
    where = f"mode:{body.target}" if body.kind == "mode" else f"{body.kind.split('_')[0]}:{body.target or 'new'}"
    permitted = (_mode_allowed(catalog, identity, body.target) if body.kind == "mode"
                 else _on_call(catalog, identity))
    if not permitted:
        whose = (f"guardrails.playbooks.{autonomy.split(body.target)[0]}.approvers" if body.kind == "mode"
                 else "any playbook's or procedure's approvers")
        message = f"{identity.principal} may not set a {body.kind.split('_')[0]}: not among {whose}; nothing was done"
        audit.record(where, "setting_refused", {"kind": body.kind, "target": body.target, "by": identity.principal,
                                                "via": identity.via, "rule": ALLOW_LIST, "message": message})
        return AnswerResult(outcome="REFUSED", message=message, approval=body.kind, by=identity.shown,
                            rule=ALLOW_LIST)
    verified = VerifiedIdentity(principal=identity.principal, via=identity.via)
    now = clock.now()
    try:
        return _carry_out(body, identity, verified, catalog, store, audit, now)
    except SafetyRefused as error:
        return AnswerResult(outcome="INVALID", message=str(error), approval=body.kind, by=identity.shown)


def _mode_allowed(catalog: Catalog, identity: Identity, target: str) -> bool:
    rails = catalog.guardrails.playbooks.get(autonomy.split(target)[0])
    return rails is not None and allowed(rails.approvers, identity)


def _carry_out(body: CliSettingBody, identity: Identity, verified: VerifiedIdentity, catalog: Catalog,
               store: SafetyPort, audit: Audit, now: Any) -> AnswerResult:
    who = {"by": identity.principal, "via": identity.via, "verified": True, "reason": body.reason}
    if body.kind == "snooze":
        snoozed = safety.snooze(store, catalog, body.target, timedelta(minutes=body.minutes or 0), body.reason,
                                verified, now)
        audit.record(f"snooze:{snoozed.resource}", "snooze_set", {**who, "target": snoozed.resource,
                                                                   "until": snoozed.until.isoformat()})
        return _done(body, identity, f"{snoozed.resource} snoozed until {snoozed.until:%Y-%m-%d %H:%M}Z by "
                                     f"{identity.shown}", snooze=snoozed.model_dump(mode="json"))
    if body.kind == "snooze_cancel":
        ended = safety.cancel_snooze(store, catalog, body.target, verified, now)
        audit.record(f"snooze:{ended.resource}", "snooze_cancelled", {**who, "target": ended.resource,
                                                                       "was_until": ended.until.isoformat()})
        return _done(body, identity, f"{ended.resource}'s snooze cancelled by {identity.shown}",
                     snooze=ended.model_dump(mode="json"))
    if body.kind == "freeze":
        frozen = safety.freeze_now(store, timedelta(minutes=body.minutes or 0), body.reason, verified, now,
                                   body.name)
        audit.record(f"freeze:{frozen.id}", "freeze_set", {**who, "id": frozen.id, "name": frozen.name,
                                                           "until": frozen.until.isoformat()})
        return _done(body, identity, f"freeze {frozen.id} ({frozen.name}) in force until "
                                     f"{frozen.until:%Y-%m-%d %H:%M}Z", freeze=frozen.model_dump(mode="json"))
    if body.kind == "freeze_cancel":
        ended_freeze = safety.cancel_freeze(store, body.target, verified, now)
        audit.record(f"freeze:{ended_freeze.id}", "freeze_cancelled", {**who, "id": ended_freeze.id})
        return _done(body, identity, f"freeze {ended_freeze.id} ({ended_freeze.name}) cancelled by "
                                     f"{identity.shown}", freeze=ended_freeze.model_dump(mode="json"))
    return _set_mode(body, identity, verified, catalog, store, audit, now, who)


def _set_mode(body: CliSettingBody, identity: Identity, verified: VerifiedIdentity, catalog: Catalog,
              store: SafetyPort, audit: Audit, now: Any, who: dict[str, Any]) -> AnswerResult:
    for _ in range(SAVE_TRIES):  # versioned like a demotion: a demotion written meanwhile is judged again
        version, state = store.load_modes()
        data, before, after = autonomy.set_mode(catalog, state, body.target, Mode(str(body.mode)), body.reason,
                                                verified, now)
        if store.save_modes(version, data):
            break
    else:
        raise SafetyRefused("the modes record kept changing under this write: try again")
    audit.record(f"mode:{after.key}", "mode_changed", {**who, "key": after.key, "from": before.mode.value,
                                                       "to": after.mode.value, "rule": autonomy.MODE,
                                                       "why": after.why})
    return _done(body, identity, f"{after.key}: {before.mode} -> {after.mode} (ceiling {after.bounds.ceiling}), "
                                 f"set by {identity.shown}", key=after.key, before=before.mode.value,
                 after=after.mode.value, why=after.why)
