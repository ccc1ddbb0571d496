"""The guard: one decision per action, in the order a person on call would ask the questions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import Field

from functions.core import actions
from functions.core.actions import Done, Params
from functions.core.catalog import Catalog
from functions.core.guard import Guard
from functions.core.models import Action, Verdict
from tests.unit.conftest import NOW, bent_catalog
from tests.unit.fakes import FakeBreaker, FakeKillSwitch

TARGET = "glue:orders-stream"


def restart(job: str = "orders-stream") -> Action:
    return Action(name="glue.restart_streaming_job", target=f"glue:{job}", params={"job_name": job},
                  reason="not running")


def scale(to_workers: int, job: str = "orders-stream") -> Action:
    return Action(name="glue.scale_streaming_job", target=f"glue:{job}",
                  params={"job_name": job, "from_workers": 2, "to_workers": to_workers, "worker_type": "G.1X"},
                  reason="lag")


def guard_for(catalog: Catalog, kill_switch: FakeKillSwitch | None = None, breaker: FakeBreaker | None = None,
              dry_run: bool = False) -> Guard:
    return Guard(catalog, "msk_consumer_lag", kill_switch or FakeKillSwitch(), breaker or FakeBreaker(),
                 dry_run=dry_run)


def test_an_action_that_passes_every_rule_is_allowed(catalog: Catalog) -> None:
    decision = guard_for(catalog).check(scale(4), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.ALLOWED, "ok")
    assert decision.command.endswith("--number-of-workers 4 --worker-type G.1X")
    assert decision.action == scale(4)


def test_the_kill_switch_refuses_everything(catalog: Catalog) -> None:
    decision = guard_for(catalog, FakeKillSwitch(on=True)).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "kill_switch")
    assert "/remedy/dev/kill-switch is on" in decision.reason


def test_an_unreadable_kill_switch_fails_closed(catalog: Catalog) -> None:
    unreadable = FakeKillSwitch(error=TimeoutError("ssm did not answer"))

    decision = guard_for(catalog, unreadable).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "kill_switch")
    assert decision.reason == ("kill switch /remedy/dev/kill-switch could not be read, so it counts as on "
                               "(TimeoutError: ssm did not answer)")


def test_the_kill_switch_is_asked_before_the_mode(dev_data: dict[str, Any]) -> None:
    observe = bent_catalog(dev_data, mode="observe")

    decision = guard_for(observe, FakeKillSwitch(on=True)).check(restart(), set(), NOW)

    assert decision.rule == "kill_switch"


def test_observe_mode_only_records(dev_data: dict[str, Any]) -> None:
    breaker = FakeBreaker()

    decision = guard_for(bent_catalog(dev_data, mode="observe"), breaker=breaker).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.OBSERVED, "mode")
    assert breaker.items == {}


@pytest.mark.parametrize("unhealthy", ["topic:orders", "msk:retail-msk-dev"])
def test_an_unhealthy_upstream_component_holds_the_action(catalog: Catalog, unhealthy: str) -> None:
    decision = guard_for(catalog).check(restart(), {unhealthy, "topic:customers"}, NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "lineage_hold")
    assert decision.reason == f"upstream {unhealthy} is unhealthy: fix the cause first"


@pytest.mark.parametrize("unhealthy", ["topic:customers", "s3:landing/orders/", "glue:sales-batch", TARGET])
def test_unhealthy_components_that_do_not_feed_the_target_do_not_hold_it(catalog: Catalog,
                                                                        unhealthy: str) -> None:
    decision = guard_for(catalog).check(restart(), {unhealthy}, NOW)

    assert decision.verdict is Verdict.ALLOWED


def test_more_workers_than_the_jobs_maximum_is_refused(catalog: Catalog) -> None:
    decision = guard_for(catalog).check(scale(11), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "blast_radius")
    assert decision.reason == "11 workers exceeds the cap of 10 for orders-stream"
    assert guard_for(catalog).check(scale(10), set(), NOW).verdict is Verdict.ALLOWED


def test_more_workers_than_the_global_cap_is_refused(catalog: Catalog) -> None:
    # Validation keeps job maxima under the global cap; the guard still takes the smaller of the two.
    tight = catalog.model_copy(update={"guardrails": catalog.guardrails.model_copy(
        update={"max_glue_workers": 8})})

    decision = guard_for(tight).check(scale(9), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "blast_radius")
    assert decision.reason == "9 workers exceeds the cap of 8 for orders-stream"


@pytest.mark.parametrize("action", [scale(4, job="ghost-stream"), restart(job="ghost-stream")])
def test_an_action_on_a_job_outside_the_catalog_is_refused(catalog: Catalog, action: Action) -> None:
    decision = guard_for(catalog).check(action, set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "blast_radius")
    assert decision.reason == "glue job ghost-stream is not in the catalog: no action on unknown resources"


def test_a_recent_action_on_the_target_is_refused_by_cooldown(catalog: Catalog) -> None:
    breaker = FakeBreaker()
    breaker.acted(TARGET, NOW - timedelta(minutes=10))

    decision = guard_for(catalog, breaker=breaker).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "cooldown")
    assert decision.reason == ("acted on glue:orders-stream at 09:55:00Z; "
                               "cooldown of 30 min runs until 10:25:00Z")


def test_cooldown_ends_after_its_minutes_and_is_per_target(catalog: Catalog) -> None:
    breaker = FakeBreaker()
    breaker.acted(TARGET, NOW - timedelta(minutes=30))
    breaker.acted("glue:customers-stream", NOW - timedelta(minutes=1))

    assert guard_for(catalog, breaker=breaker).check(restart(), set(), NOW).verdict is Verdict.ALLOWED


def test_a_spent_attempt_budget_opens_the_circuit(catalog: Catalog) -> None:
    breaker = FakeBreaker()
    breaker.acted(TARGET, NOW - timedelta(hours=20), NOW - timedelta(hours=5), NOW - timedelta(hours=1))

    decision = guard_for(catalog, breaker=breaker).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "budget")
    assert decision.reason == ("attempt budget spent: 3 of 3 in 24 h on glue:orders-stream; "
                               "circuit open, a person takes over")


def test_attempts_older_than_the_window_do_not_count(catalog: Catalog) -> None:
    breaker = FakeBreaker()
    breaker.acted(TARGET, NOW - timedelta(hours=25), NOW - timedelta(hours=5), NOW - timedelta(hours=1))

    decision = guard_for(catalog, breaker=breaker).check(restart(), set(), NOW)

    assert decision.verdict is Verdict.ALLOWED


def test_a_budget_of_zero_never_acts(dev_data: dict[str, Any]) -> None:
    decision = guard_for(bent_catalog(dev_data, attempt_budget=0)).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "budget")


def test_the_guard_remembers_the_breaker_state_it_judged(catalog: Catalog) -> None:
    breaker = FakeBreaker()
    breaker.acted(TARGET, NOW - timedelta(hours=2))
    guard = guard_for(catalog, breaker=breaker)

    guard.check(restart(), set(), NOW)

    assert guard.seen[TARGET] == breaker.items[TARGET]


def test_recommend_mode_hands_the_command_to_a_person(dev_data: dict[str, Any]) -> None:
    decision = guard_for(bent_catalog(dev_data, mode="recommend")).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.RECOMMENDED, "mode")
    assert decision.command == "aws glue start-job-run --job-name orders-stream"


def test_approve_mode_waits_for_a_person(dev_data: dict[str, Any]) -> None:
    decision = guard_for(bent_catalog(dev_data, mode="approve")).check(restart(), set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.AWAITING_APPROVAL, "mode")


def test_the_breaker_is_asked_before_recommending(dev_data: dict[str, Any]) -> None:
    breaker = FakeBreaker()
    breaker.acted(TARGET, NOW - timedelta(minutes=5))

    decision = guard_for(bent_catalog(dev_data, mode="recommend"), breaker=breaker).check(restart(), set(), NOW)

    assert decision.rule == "cooldown"


class _WipeParams(Params):
    job_name: str = Field(pattern=r"^[a-z-]+$")


@pytest.fixture
def destructive_action() -> Iterator[str]:
    name = "test.wipe_checkpoint"
    actions.register(name, summary="throwaway destructive action", params=_WipeParams,
                     iam_actions=("s3:DeleteObject",), resource_kind="s3_bucket", destructive=True,
                     command=lambda p: f"wipe {p.job_name}")(lambda ports, params: Done(detail="wiped"))
    yield name
    del actions.REGISTRY[name]


def test_a_destructive_action_waits_for_a_person_even_in_auto(catalog: Catalog, destructive_action: str) -> None:
    action = Action(name=destructive_action, target=TARGET, params={"job_name": "orders-stream"}, reason="r")

    decision = guard_for(catalog).check(action, set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.AWAITING_APPROVAL, "destructive")
    assert decision.command == "wipe orders-stream"


def test_a_destructive_action_named_in_the_catalog_is_auto_approved(dev_data: dict[str, Any],
                                                                    destructive_action: str) -> None:
    catalog = bent_catalog(dev_data, auto_approve_destructive=[destructive_action])
    action = Action(name=destructive_action, target=TARGET, params={"job_name": "orders-stream"}, reason="r")

    assert guard_for(catalog).check(action, set(), NOW).verdict is Verdict.ALLOWED


def test_dry_run_passes_every_check_and_does_nothing(catalog: Catalog, dev_data: dict[str, Any]) -> None:
    from_settings = guard_for(catalog, dry_run=True).check(restart(), set(), NOW)
    dry = dict(dev_data, guardrails=dict(dev_data["guardrails"], dry_run=True))
    from_catalog = guard_for(bent_catalog(dry)).check(restart(), set(), NOW)

    for decision in (from_settings, from_catalog):
        assert (decision.verdict, decision.rule) == (Verdict.DRY_RUN, "dry_run")


def test_dry_run_still_refuses_what_the_rules_refuse(catalog: Catalog) -> None:
    decision = guard_for(catalog, dry_run=True).check(scale(12), set(), NOW)

    assert decision.rule == "blast_radius"


def test_invalid_parameters_are_refused_before_anything_else(catalog: Catalog) -> None:
    bad = Action(name="glue.restart_streaming_job", target=TARGET, params={"job_name": "orders; rm -rf /"},
                 reason="r")

    decision = guard_for(catalog, FakeKillSwitch(on=True)).check(bad, set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "parameters")
    assert decision.reason.startswith("invalid parameters: String should match pattern")
    assert decision.command == "(glue.restart_streaming_job with invalid parameters)"


def test_an_action_whose_target_is_not_what_it_changes_is_refused(catalog: Catalog) -> None:
    action = Action(name="glue.restart_streaming_job", target="glue:customers-stream",
                    params={"job_name": "orders-stream"}, reason="mismatch")

    decision = guard_for(catalog).check(action, set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "parameters")
    assert decision.reason == "target glue:customers-stream is not glue:orders-stream"
