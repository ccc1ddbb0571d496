"""The guard's fleet-wide rules (functions.core.safety): exclusion, snooze, freeze, fleet_budget; each a rule with
its own name in the audit trail, run through the real consumer-lag playbook over in-memory fakes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.catalog import Catalog, CatalogError, parse_catalog
from functions.core.leases import Lease, LeaseRevert, lease_incident
from functions.core.models import Action, OutcomeStatus, Verdict
from functions.core.playbook import Context, run
from functions.core.safety import (
    SafetyRefused,
    VerifiedIdentity,
    cancel_freeze,
    cancel_snooze,
    claim_fleet_unit,
    fleet_entry,
    freeze_in_force,
    freeze_now,
    freezes,
    snooze,
    snoozes,
    window_in_force,
)
from functions.playbooks.msk_consumer_lag import MskConsumerLag
from tests.unit.conftest import NOW, lag_incident
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeKillSwitch, FakeNotifier, FakePorts, FixedClock

PLAYBOOK = MskConsumerLag()
TARGET = "glue:orders-stream"
ALICE = VerifiedIdentity(principal="arn:aws:sts::123456789012:assumed-role/oncall/alice", via="iam")


class FakeSafety:
    """The safety store as DynamoSafety keeps it: versioned fleet budget (a save with a stale version loses)."""

    def __init__(self) -> None:
        self.snooze_items: dict[str, dict[str, Any]] = {}
        self.freeze_items: list[dict[str, Any]] = []
        self.fleet: tuple[int, list[dict[str, str]]] = (0, [])
        self.error: Exception | None = None

    def snooze_of(self, target: str) -> dict[str, Any] | None:
        if self.error:
            raise self.error
        return self.snooze_items.get(target)

    def put_snooze(self, snooze: dict[str, Any]) -> None:
        self.snooze_items[snooze["resource"]] = snooze

    def cancel_snooze(self, target: str, by: str, at: datetime) -> bool:
        return self.snooze_items.pop(target, None) is not None

    def snoozes(self) -> list[dict[str, Any]]:
        return list(self.snooze_items.values())

    def freezes(self) -> list[dict[str, Any]]:
        if self.error:
            raise self.error
        return list(self.freeze_items)

    def put_freeze(self, freeze: dict[str, Any], at: datetime) -> None:
        self.freeze_items.append(freeze)

    def cancel_freeze(self, freeze_id: str, at: datetime) -> None:
        self.freeze_items = [f for f in self.freeze_items if f["id"] != freeze_id]

    def load_fleet(self) -> tuple[int, list[dict[str, str]]]:
        return self.fleet[0], list(self.fleet[1])

    def save_fleet(self, seen_version: int, entries: list[dict[str, str]]) -> bool:
        if seen_version != self.fleet[0]:
            return False
        self.fleet = (seen_version + 1, list(entries))
        return True

    modes: tuple[int, dict[str, Any] | None] = (0, None)

    def load_modes(self) -> tuple[int, dict[str, Any] | None]:
        return self.modes[0], copy.deepcopy(self.modes[1])

    def save_modes(self, seen_version: int, state: dict[str, Any]) -> bool:
        if seen_version != self.modes[0]:
            return False
        self.modes = (seen_version + 1, copy.deepcopy(state))
        return True


@pytest.fixture
def safety() -> FakeSafety:
    return FakeSafety()


@pytest.fixture
def ctx(catalog: Catalog, ports: FakePorts, kill_switch: FakeKillSwitch, breaker: FakeBreaker, audit: FakeAudit,
        notifier: FakeNotifier, clock: FixedClock, safety: FakeSafety) -> Context:
    return Context(catalog=catalog, ports=ports, kill_switch=kill_switch, breaker=breaker, audit=audit,
                   notifier=notifier, clock=clock, safety=safety)


def with_guardrails(raw: dict[str, Any], **changes: Any) -> Catalog:
    data = copy.deepcopy(raw)
    data["guardrails"].update(changes)
    return parse_catalog(data, "bent")


def decisions(audit: FakeAudit) -> list[tuple[str, str]]:
    return [(d["verdict"], d["rule"]) for d in audit.of_kind("decision")]


# -- exclusion ----------------------------------------------------------------------------------------------

def test_an_excluded_resource_is_diagnosed_and_notified_but_not_acted_on(
        ctx: Context, raw_catalog: dict[str, Any], ports: FakePorts, audit: FakeAudit, notifier: FakeNotifier,
        breaker: FakeBreaker) -> None:
    ctx.catalog = with_guardrails(raw_catalog, exclusions=[
        {"resource": "glue:orders-*", "reason": "vendor-managed until the migration"}])
    ports.glue.add_run("orders-stream", "FAILED")

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.status is OutcomeStatus.REFUSED
    assert decisions(audit) == [("REFUSED", "exclusion")]
    assert audit.of_kind("plan")[0]["findings"], "the diagnosis still ran"
    assert breaker.items == {}
    (_subject, message), = notifier.published
    assert ("REFUSED by exclusion: glue:orders-stream is excluded by the catalog (glue:orders-*: vendor-managed "
            "until the migration)") in message


# -- snooze -------------------------------------------------------------------------------------------------

def test_a_snoozed_resource_is_left_alone_and_the_refusal_names_who_and_until(
        ctx: Context, ports: FakePorts, audit: FakeAudit, notifier: FakeNotifier, safety: FakeSafety) -> None:
    snooze(safety, ctx.catalog, "orders-stream", timedelta(hours=2), "backfill running", ALICE, NOW)
    ports.glue.add_run("orders-stream", "FAILED")

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert decisions(audit) == [("REFUSED", "snooze")]
    assert outcome.decisions[0].reason == (
        "glue:orders-stream is snoozed until 2026-11-25 12:05Z by "
        "arn:aws:sts::123456789012:assumed-role/oncall/alice (backfill running)")
    assert "REFUSED by snooze" in notifier.published[0][1]


def test_a_snooze_ends_by_itself(ctx: Context, ports: FakePorts, audit: FakeAudit, safety: FakeSafety,
                                 clock: FixedClock) -> None:
    snooze(safety, ctx.catalog, TARGET, timedelta(hours=2), "backfill running", ALICE, NOW)
    ports.glue.add_run("orders-stream", "FAILED")
    clock.advance(hours=2)  # the item is still there (TTL is only cleanup); the clock says it is over

    run(PLAYBOOK, lag_incident(at=NOW + timedelta(hours=2)), ctx)

    assert decisions(audit) == [("ALLOWED", "ok")]
    assert len(ports.glue.active_runs("orders-stream")) == 1
    assert snoozes(safety, clock.now()) == []


def test_unreadable_snoozes_mean_no_action(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                           safety: FakeSafety) -> None:
    safety.error = TimeoutError("dynamodb did not answer")
    ports.glue.add_run("orders-stream", "FAILED")

    run(PLAYBOOK, lag_incident(), ctx)

    assert decisions(audit) == [("REFUSED", "snooze")]
    assert ports.glue.active_runs("orders-stream") == []


def test_snoozes_are_set_listed_and_cancelled_with_a_verified_identity(catalog: Catalog, safety: FakeSafety) -> None:
    set_ = snooze(safety, catalog, "orders-stream", timedelta(minutes=90), "replay", ALICE, NOW)

    assert (set_.resource, set_.until, set_.set_by) == (TARGET, NOW + timedelta(minutes=90), ALICE.principal)
    assert [s.resource for s in snoozes(safety, NOW)] == [TARGET]
    assert cancel_snooze(safety, catalog, TARGET, ALICE, NOW).reason == "replay"
    assert snoozes(safety, NOW) == []
    with pytest.raises(SafetyRefused, match="is not snoozed"):
        cancel_snooze(safety, catalog, TARGET, ALICE, NOW)


@pytest.mark.parametrize(("resource", "duration", "reason", "says"), [
    ("nope-stream", timedelta(hours=1), "x", "not a catalog component"),
    (TARGET, timedelta(days=30), "x", "longer is an exclusion"),
    (TARGET, timedelta(hours=1), "  ", "needs a reason"),
])
def test_a_snooze_that_cannot_be_set_says_why(catalog: Catalog, safety: FakeSafety, resource: str,
                                              duration: timedelta, reason: str, says: str) -> None:
    with pytest.raises(SafetyRefused, match=says):
        snooze(safety, catalog, resource, duration, reason, ALICE, NOW)
    assert safety.snooze_items == {}


# -- freeze -------------------------------------------------------------------------------------------------

BLACK_FRIDAY = {"name": "black-friday", "reason": "peak trading", "timezone": "Europe/London",
                "start": "2026-11-27", "end": "2026-11-30T06:00"}
SATURDAYS = {"name": "saturday-peak", "reason": "weekend peak", "timezone": "America/New_York",
             "days": ["SAT"], "from": "22:00", "to": "02:00"}


def test_a_freeze_turns_auto_into_an_approval_request(ctx: Context, raw_catalog: dict[str, Any], ports: FakePorts,
                                                      audit: FakeAudit, notifier: FakeNotifier) -> None:
    ctx.catalog = with_guardrails(raw_catalog, freezes=[BLACK_FRIDAY])
    ports.glue.add_run("orders-stream", "FAILED")
    during = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    ctx.clock = FixedClock(during)

    outcome = run(PLAYBOOK, lag_incident(at=during), ctx)

    assert ports.glue.active_runs("orders-stream") == []
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    assert decisions(audit) == [("AWAITING_APPROVAL", "freeze")]
    message = notifier.published[0][1]
    assert "change freeze black-friday until 2026-11-30 06:00Z (peak trading): auto acts after approval" in message


def test_an_ad_hoc_freeze_holds_auto_until_it_ends(ctx: Context, ports: FakePorts, audit: FakeAudit,
                                                   safety: FakeSafety) -> None:
    made = freeze_now(safety, timedelta(hours=6), "migration window", ALICE, NOW - timedelta(hours=1))
    assert freeze_in_force(ctx.catalog, safety, NOW) == (
        f"change freeze ad-hoc until 2026-11-25 15:05Z (migration window, set by {ALICE.principal})")
    assert [f.id for f in freezes(ctx.catalog, safety, NOW)] == [made.id]
    assert freeze_in_force(ctx.catalog, safety, NOW + timedelta(hours=5)) is None
    cancel_freeze(safety, made.id, ALICE, NOW)
    assert freeze_in_force(ctx.catalog, safety, NOW) is None


def test_unreadable_freezes_count_as_a_freeze(catalog: Catalog, safety: FakeSafety) -> None:
    safety.error = TimeoutError("dynamodb did not answer")

    assert "could not be read, so a freeze counts as in force" in (freeze_in_force(catalog, safety, NOW) or "")


@pytest.mark.parametrize(("at", "in_force"), [
    (datetime(2026, 11, 27, 0, 0, tzinfo=UTC), True),  # midnight in London (GMT in November)
    (datetime(2026, 11, 26, 23, 59, tzinfo=UTC), False),
    (datetime(2026, 11, 30, 5, 59, tzinfo=UTC), True),
    (datetime(2026, 11, 30, 6, 0, tzinfo=UTC), False),
])
def test_calendar_windows_are_judged_in_their_time_zone(catalog: Catalog, at: datetime, in_force: bool) -> None:
    window = catalog.guardrails.model_validate({**catalog.guardrails.model_dump(by_alias=True),
                                                "freezes": [BLACK_FRIDAY]}).freezes[0]
    assert (window_in_force(window, at) is not None) is in_force


@pytest.mark.parametrize(("at", "in_force"), [
    (datetime(2026, 11, 29, 3, 0, tzinfo=UTC), True),  # Sat 22:00 EST = Sun 03:00 UTC
    (datetime(2026, 11, 29, 6, 59, tzinfo=UTC), True),  # Sun 01:59 EST: past midnight, still Saturday's range
    (datetime(2026, 11, 29, 7, 0, tzinfo=UTC), False),
    (datetime(2026, 11, 28, 3, 0, tzinfo=UTC), False),  # Fri 22:00 EST
])
def test_weekly_windows_run_past_midnight(catalog: Catalog, at: datetime, in_force: bool) -> None:
    window = catalog.guardrails.model_validate({**catalog.guardrails.model_dump(by_alias=True),
                                                "freezes": [SATURDAYS]}).freezes[0]
    assert (window_in_force(window, at) is not None) is in_force


@pytest.mark.parametrize(("window", "says"), [
    ({"name": "x", "reason": "r", "start": "2026-11-27"}, "needs start and end"),
    ({"name": "x", "reason": "r", "days": ["SAT"], "from": "10:00"}, "needs days, from and to"),
    ({"name": "x", "reason": "r", "start": "2026-11-27", "end": "2026-11-28", "days": ["SAT"]}, "either"),
    ({"name": "x", "reason": "r", "timezone": "Mars/Olympus", "start": "2026-11-27", "end": "2026-11-28"},
     "unknown time zone"),
])
def test_a_freeze_window_the_catalog_cannot_judge_is_refused(raw_catalog: dict[str, Any], window: dict[str, Any],
                                                             says: str) -> None:
    with pytest.raises(CatalogError, match=says):
        with_guardrails(raw_catalog, freezes=[window])


def test_a_lease_give_back_waits_for_the_freeze_and_spends_no_fleet_budget(
        ctx: Context, ports: FakePorts, audit: FakeAudit, safety: FakeSafety, breaker: FakeBreaker) -> None:
    ports.glue.add_run("orders-stream", "RUNNING", workers=6)
    revert = Action(name="glue.scale_streaming_job", target=TARGET, reason="lease",
                    params={"job_name": "orders-stream", "from_workers": 6, "to_workers": 2, "worker_type": "G.1X"})
    lease = Lease(target=TARGET, playbook="msk_consumer_lag", alarm_name="remedy-dev/consumer-lag/glue:orders-stream",
                  revert=revert, granted_at=NOW - timedelta(hours=3))
    freeze = freeze_now(safety, timedelta(hours=1), "peak", ALICE, NOW)

    held = run(LeaseRevert(lease, "alarm OK"), lease_incident(lease, NOW, ctx.catalog), ctx)

    assert [(d.verdict, d.rule) for d in held.decisions] == [(Verdict.REFUSED, "freeze")]
    assert "the give-back waits until it ends" in held.decisions[0].reason
    cancel_freeze(safety, freeze.id, ALICE, NOW)
    ctx.catalog = ctx.catalog.model_copy(update={"guardrails": ctx.catalog.guardrails.model_copy(
        update={"fleet_budget_per_hour": 0})})  # a spent (zero) budget does not hold a give-back

    given = run(LeaseRevert(lease, "alarm OK"), lease_incident(lease, NOW, ctx.catalog), ctx)

    assert [(d.verdict, d.rule) for d in given.decisions] == [(Verdict.ALLOWED, "ok")]
    assert safety.fleet == (0, [])


# -- fleet budget -------------------------------------------------------------------------------------------

def test_the_fleet_budget_caps_actions_across_resources(ctx: Context, raw_catalog: dict[str, Any], ports: FakePorts,
                                                        audit: FakeAudit, safety: FakeSafety) -> None:
    ctx.catalog = with_guardrails(raw_catalog, fleet_budget_per_hour=1)
    for job in ("orders-stream", "customers-stream"):
        ports.glue.add_run(job, "FAILED")

    first = run(PLAYBOOK, lag_incident(), ctx)
    second = run(PLAYBOOK, lag_incident(resource="glue:customers-stream"), ctx)

    assert first.status is OutcomeStatus.ACTED
    assert (second.status, second.decisions[0].rule) == (OutcomeStatus.REFUSED, "fleet_budget")
    assert second.decisions[0].reason.startswith("fleet budget spent: 1 of 1 actions in the last hour across 1 "
                                                 "resource(s) (glue:orders-stream); a unit frees at 11:05:00Z")
    assert ports.glue.active_runs("customers-stream") == []
    assert decisions(audit)[-1] == ("REFUSED", "fleet_budget")


def test_a_unit_is_free_again_after_an_hour(catalog: Catalog, safety: FakeSafety) -> None:
    assert claim_fleet_unit(safety, 1, fleet_entry(TARGET, "p", "i1", NOW), NOW) is None
    assert claim_fleet_unit(safety, 1, fleet_entry(TARGET, "p", "i2", NOW), NOW + timedelta(minutes=59))
    assert claim_fleet_unit(safety, 1, fleet_entry(TARGET, "p", "i3", NOW), NOW + timedelta(minutes=60)) is None
    assert [e["incident"] for e in safety.fleet[1]] == ["i3"]  # the hour-old entry is dropped on the way


def test_a_unit_refused_by_the_resource_breaker_goes_back_to_the_fleet(
        ctx: Context, raw_catalog: dict[str, Any], ports: FakePorts, breaker: FakeBreaker,
        safety: FakeSafety) -> None:
    ctx.catalog = with_guardrails(raw_catalog, fleet_budget_per_hour=1)
    ports.glue.add_run("orders-stream", "FAILED")
    breaker.before_claim = lambda: breaker.acted(TARGET, NOW)  # someone acted on it a moment ago

    outcome = run(PLAYBOOK, lag_incident(), ctx)

    assert outcome.decisions[0].rule == "cooldown"
    assert safety.fleet[1] == []


def test_of_two_claims_on_the_last_unit_exactly_one_wins(safety: FakeSafety) -> None:
    """The interleaving DynamoDB's conditional write decides: both read the budget with one unit left, both
    write; the second write's version is stale, so it reads again and finds the budget spent."""
    safety.fleet = (3, [fleet_entry("glue:a", "p", "i0", NOW)])
    original = safety.load_fleet
    reads: list[int] = []

    def both_read_first() -> tuple[int, list[dict[str, str]]]:
        reads.append(1)
        return original() if len(reads) != 2 else (3, [fleet_entry("glue:a", "p", "i0", NOW)])

    safety.load_fleet = both_read_first  # type: ignore[method-assign]
    first = claim_fleet_unit(safety, 2, fleet_entry("glue:b", "p", "i1", NOW), NOW)
    second = claim_fleet_unit(safety, 2, fleet_entry("glue:c", "p", "i2", NOW), NOW)

    assert first is None and second is not None and second.startswith("fleet budget spent: 2 of 2")
    assert [e["incident"] for e in safety.fleet[1]] == ["i0", "i1"]
