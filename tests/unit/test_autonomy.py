"""Earned autonomy (functions.core.autonomy, guard rule `mode`): bounds from the catalog, automatic demotion on
the record, promotion recommended and only set by a verified person, the guard following the effective mode,
and the answer function's settings (functions.answers.settings) over in-memory fakes."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.answers import CliSettingBody
from functions.answers.rules import Identity
from functions.answers.settings import apply
from functions.core import autonomy
from functions.core.catalog import Catalog, CatalogError, Mode, parse_catalog
from functions.core.models import OutcomeStatus
from functions.core.playbook import Context, run
from functions.core.safety import SafetyRefused, VerifiedIdentity
from functions.playbooks.msk_consumer_lag import MskConsumerLag
from tests.unit.conftest import NOW, lag_incident
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeKillSwitch, FakeNotifier, FakePorts, FixedClock
from tests.unit.test_safety import FakeSafety

PLAYBOOK = MskConsumerLag()
RESTART = "glue.restart_streaming_job"
KEY = f"msk_consumer_lag.{RESTART}"
ALICE = VerifiedIdentity(principal="arn:aws:sts::111111111111:assumed-role/OnCall/alice", via="iam")


def bent(raw: dict[str, Any], autonomy_rules: dict[str, Any] | None = None, **lag: Any) -> Catalog:
    data = copy.deepcopy(raw)
    data["guardrails"]["playbooks"]["msk_consumer_lag"].update(lag)
    if autonomy_rules:
        data["guardrails"]["autonomy"] = autonomy_rules
    return parse_catalog(data, "bent")


@pytest.fixture
def safety() -> FakeSafety:
    return FakeSafety()


@pytest.fixture
def ctx(catalog: Catalog, ports: FakePorts, kill_switch: FakeKillSwitch, breaker: FakeBreaker, audit: FakeAudit,
        notifier: FakeNotifier, clock: FixedClock, safety: FakeSafety) -> Context:
    return Context(catalog=catalog, ports=ports, kill_switch=kill_switch, breaker=breaker, audit=audit,
                   notifier=notifier, clock=clock, safety=safety)


# -- bounds and the effective mode -------------------------------------------------------------------------

def test_without_a_record_the_effective_mode_is_the_catalogs_start(raw_catalog: dict[str, Any]) -> None:
    today = bent(raw_catalog)  # mode auto, nothing else: start = ceiling = auto, floor approve
    assert autonomy.bounds(today, "msk_consumer_lag", RESTART) == autonomy.Bounds(Mode.AUTO, Mode.APPROVE, Mode.AUTO)
    prod_like = bent(raw_catalog, start_mode="approve", actions={RESTART: {"floor": "recommend"}})
    found = autonomy.effective(prod_like, None, "msk_consumer_lag", RESTART)
    assert (found.mode, found.bounds.floor, found.bounds.ceiling) == (Mode.APPROVE, Mode.RECOMMEND, Mode.AUTO)
    assert "the catalog's start mode" in found.why


@pytest.mark.parametrize("lag, message", [
    ({"mode": "approve", "start_mode": "auto"}, "start auto is above the ceiling approve"),
    ({"mode": "auto", "floor_mode": "approve", "start_mode": "recommend"}, "start recommend is below the floor"),
    ({"mode": "approve", "actions": {RESTART: {"ceiling": "auto"}}}, "is above mode approve"),
])
def test_bounds_out_of_order_are_refused_by_the_catalog(raw_catalog: dict[str, Any], lag: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        bent(raw_catalog, **lag)


# -- demotion --------------------------------------------------------------------------------------------

def test_a_failed_verification_demotes_at_once_to_the_floor(raw_catalog: dict[str, Any]) -> None:
    cat = bent(raw_catalog)
    state, demoted = autonomy.judge(cat, None, "msk_consumer_lag", RESTART, "FAILED", "INC-1", "lag still rising",
                                    NOW)
    assert demoted is not None and (demoted.before, demoted.after) == (Mode.AUTO, Mode.APPROVE)
    assert demoted.evidence == {"outcome": "FAILED", "incident": "INC-1", "detail": "lag still rising"}
    now = autonomy.effective(cat, state, "msk_consumer_lag", RESTART)
    assert now.mode is Mode.APPROVE and "verification FAILED for incident INC-1" in now.why
    # the playbook's other actions keep their mode: the record is the action's
    assert autonomy.effective(cat, state, "msk_consumer_lag", "glue.scale_streaming_job").mode is Mode.AUTO
    # at its floor already: nothing lower, no second demotion
    assert autonomy.judge(cat, state, "msk_consumer_lag", RESTART, "FAILED", "INC-2", "x", NOW)[1] is None


def test_k_escalations_within_the_window_demote_and_older_ones_do_not_count(raw_catalog: dict[str, Any]) -> None:
    cat = bent(raw_catalog, {"demote_after_escalations": 2, "escalation_window_hours": 24})
    state, first = autonomy.judge(cat, None, "msk_consumer_lag", RESTART, "ESCALATED", "INC-1", "window over",
                                  NOW - timedelta(hours=30))
    state, second = autonomy.judge(cat, state, "msk_consumer_lag", RESTART, "ESCALATED", "INC-2", "window over", NOW)
    assert first is None and second is None, "the first one is outside the 24 h window"
    state, third = autonomy.judge(cat, state, "msk_consumer_lag", RESTART, "ESCALATED", "INC-3", "window over",
                                  NOW + timedelta(hours=1))
    assert third is not None and third.after is Mode.APPROVE
    assert [e["incident"] for e in third.evidence["escalations"]] == ["INC-2", "INC-3"]
    assert "2 escalations within 24 h (INC-2, INC-3)" in third.why


def test_two_demotions_at_once_both_land_on_the_record(raw_catalog: dict[str, Any], safety: FakeSafety) -> None:
    cat = bent(raw_catalog, {"demote_after_escalations": 2})
    real_save = safety.save_modes
    raced = []

    def save_after_a_rival(version: int, state: dict[str, Any]) -> bool:
        if not raced:  # another incident writes between this one's read and its write
            raced.append(autonomy.record_outcome(FakeSafetyView(safety, real_save), cat, "msk_consumer_lag",
                                                 RESTART, "ESCALATED", "INC-A", "x", NOW))
        return real_save(version, state)

    safety.save_modes = save_after_a_rival  # type: ignore[method-assign]
    demoted = autonomy.record_outcome(safety, cat, "msk_consumer_lag", RESTART, "ESCALATED", "INC-B", "y", NOW)
    assert raced == [None] and demoted is not None, "the second escalation, judged again, is the K-th"
    assert safety.modes[1]["modes"][KEY]["mode"] == "approve"


@dataclass
class FakeSafetyView:
    inner: FakeSafety
    save: Any

    def load_modes(self) -> tuple[int, dict[str, Any] | None]:
        return self.inner.load_modes()

    def save_modes(self, version: int, state: dict[str, Any]) -> bool:
        return bool(self.save(version, state))


def test_a_failed_action_demotes_its_playbook_action_audited_and_notified(
        ctx: Context, ports: FakePorts, audit: FakeAudit, notifier: FakeNotifier, clock: FixedClock) -> None:
    ports.glue.add_run("orders-stream", "FAILED")
    ports.glue.start_error = ClientError({"Error": {"Code": "InternalServiceException", "Message": "boom"}},
                                         "StartJobRun")
    outcome = run(PLAYBOOK, lag_incident(), ctx)
    assert outcome.status is OutcomeStatus.ESCALATED
    (changed,) = audit.of_kind("mode_changed", lag_incident().id)
    assert (changed["key"], changed["from"], changed["to"], changed["rule"]) == (KEY, "auto", "approve", "mode")
    assert changed["evidence"]["incident"] == lag_incident().id
    subject, message = notifier.published[-1]
    assert subject == f"[remedy-dev] DEMOTED: {KEY} auto -> approve"
    assert "verification FAILED" in message and f"remedy mode set {KEY} auto" in message

    # the next incident of the same kind waits for a person, and says why
    ports.glue.start_error = None
    clock.advance(hours=2)  # past the cooldown: only the mode holds it
    again = run(PLAYBOOK, lag_incident(at=NOW + timedelta(hours=2)), ctx)
    assert again.status is OutcomeStatus.AWAITING_APPROVAL
    decision = audit.of_kind("decision")[-1]
    assert decision["rule"] == "mode" and "effective mode approve: demoted at" in decision["reason"]


def test_an_unreadable_record_asks_a_person(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                            safety: FakeSafety) -> None:
    def broken() -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                          "GetItem")

    safety.load_modes = broken  # type: ignore[method-assign]
    ports.glue.add_run("orders-stream", "FAILED")
    outcome = run(PLAYBOOK, lag_incident(), ctx)
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    assert "modes could not be read, so a person decides" in audit.of_kind("decision")[0]["reason"]


# -- a person sets a mode; the weekly review recommends --------------------------------------------------

def test_set_mode_stays_within_the_catalogs_bounds_and_records_who(raw_catalog: dict[str, Any]) -> None:
    cat = bent(raw_catalog, start_mode="approve")
    state, before, after = autonomy.set_mode(cat, None, KEY, Mode.AUTO, "ten clean restarts", ALICE, NOW)
    assert (before.mode, after.mode) == (Mode.APPROVE, Mode.AUTO)
    assert state["modes"][KEY]["by"] == ALICE.principal and ALICE.principal in after.why
    capped = bent(raw_catalog, mode="approve")
    with pytest.raises(SafetyRefused, match="above the catalog's ceiling approve"):
        autonomy.set_mode(capped, None, KEY, Mode.AUTO, "x", ALICE, NOW)
    with pytest.raises(SafetyRefused, match="below the catalog's floor approve"):
        autonomy.set_mode(cat, None, KEY, Mode.OBSERVE, "x", ALICE, NOW)
    with pytest.raises(SafetyRefused, match="not an action"):
        autonomy.set_mode(cat, None, "msk_consumer_lag.nope", Mode.AUTO, "x", ALICE, NOW)
    with pytest.raises(SafetyRefused, match="needs a reason"):
        autonomy.set_mode(cat, None, KEY, Mode.AUTO, " ", ALICE, NOW)


@dataclass
class Rec:
    incident_id: str
    kind: str
    at: datetime
    payload: dict[str, Any]
    seq: str = ""


def approved_incident(n: int, status: str = "REMEDIATED", decision: str = "APPROVED") -> list[Rec]:
    at = NOW + timedelta(hours=n)
    inc = f"INC-{n}"
    return [Rec(inc, "incident", at, {"playbook": "msk_consumer_lag"}),
            Rec(inc, "approval", at + timedelta(minutes=1), {"decision": decision, "action": {"name": RESTART}}),
            Rec(inc, "outcome", at + timedelta(minutes=30), {"status": status})]


def test_the_weekly_review_recommends_after_n_verified_approvals_and_no_failure(raw_catalog: dict[str, Any]) -> None:
    cat = bent(raw_catalog, {"promote_after_verified": 3}, start_mode="approve")
    clean = [r for n in range(3) for r in approved_incident(n)]
    (found,) = autonomy.promotion_candidates(cat, clean)
    assert (found.key, found.verified, found.incidents) == (KEY, 3, ["INC-0", "INC-1", "INC-2"])
    assert found.command == f"remedy mode set {KEY} auto --env dev --reason TEXT"
    assert autonomy.promotion_candidates(cat, clean + approved_incident(3, "ESCALATED")) == []
    assert autonomy.promotion_candidates(cat, clean[:6] + approved_incident(2, decision="REJECTED")) == []
    changed = [Rec(f"mode:{KEY}", "mode_changed", NOW + timedelta(hours=1, minutes=45), {"key": KEY})]
    assert autonomy.promotion_candidates(cat, clean + changed) == [], "promoted after INC-1: the count restarts"
    assert autonomy.promotion_candidates(bent(raw_catalog, {"promote_after_verified": 3}, mode="approve"),
                                         clean) == [], "nothing above the ceiling"


# -- the answer function's settings ----------------------------------------------------------------------

class Clock:
    def now(self) -> datetime:
        return NOW


def test_settings_take_the_verified_identity_and_the_allow_list(catalog: Catalog, safety: FakeSafety) -> None:
    audit = FakeAudit()
    alice = Identity(principal=ALICE.principal, via="iam")
    body = CliSettingBody(kind="mode", target="msk_consumer_lag", mode="approve", reason="month end")
    done = apply(body, alice, catalog, safety, audit, Clock())
    assert done.outcome == "DONE" and done.detail["after"] == "approve"
    (record,) = audit.of_kind("mode_changed", "mode:msk_consumer_lag")
    assert (record["by"], record["via"], record["verified"], record["from"]) == (ALICE.principal, "iam", True, "auto")

    mallory = Identity(principal="arn:aws:iam::111111111111:user/mallory", via="iam")
    refused = apply(CliSettingBody(kind="snooze", target="orders-stream", minutes=120, reason="x"), mallory,
                    catalog, safety, audit, Clock())
    assert refused.outcome == "REFUSED" and refused.rule == "allow-list" and safety.snooze_items == {}
    assert audit.of_kind("setting_refused")[0]["by"] == mallory.principal

    snoozed = apply(CliSettingBody(kind="snooze", target="orders-stream", minutes=120, reason="backfill"), alice,
                    catalog, safety, audit, Clock())
    assert snoozed.outcome == "DONE" and "glue:orders-stream snoozed until" in snoozed.message
    too_high = apply(CliSettingBody(kind="mode", target=KEY, mode="auto", reason="x"), alice,
                     bent_for(catalog, mode="approve"), safety, audit, Clock())
    assert too_high.outcome == "INVALID" and "ceiling approve" in too_high.message


def bent_for(catalog: Catalog, **lag: Any) -> Catalog:
    data = catalog.model_dump(mode="json", by_alias=True)
    data["guardrails"]["playbooks"]["msk_consumer_lag"].update(lag)
    return parse_catalog(data, "bent")


def test_the_weekly_review_text_lists_what_is_ready_for_auto(raw_catalog: dict[str, Any]) -> None:
    from functions.maintenance import weekly

    cat = bent(raw_catalog, {"promote_after_verified": 2}, start_mode="approve")
    records = [r for n in range(2) for r in approved_incident(n)]
    report = weekly.review(cat, NOW - timedelta(days=7), NOW + timedelta(days=1), records, [], {}, None)  # type: ignore[arg-type]
    assert [(p.key, p.verified) for p in report.promotions] == [(KEY, 2)]
    _subject, text = weekly.render(cat, report, "2026-11-30")
    assert (f"READY FOR AUTO (earned autonomy: a person decides)\n  {KEY}: 2 verified approvals in a row, no "
            f"failure: remedy mode set {KEY} auto --env dev --reason TEXT") in text
