"""The procedures' gate (functions/procedures/gate.py) before each changing step: the guard's kill switch
holds the run (fail closed), releases it when the switch is off, stops it after the catalog's hold; a change
freeze asks for approval; the alarm-started procedure does not start while the switch is on."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from functions.core.catalog import Catalog, parse_catalog
from functions.core.safety import VerifiedIdentity, freeze_now
from functions.procedures.gate import APPROVE, GO, HELD, STOPPED, gate
from functions.procedures.start import REFUSED, start_from_alarm
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeAudit, FakeKillSwitch, FakeNotifier
from tests.unit.test_procedure_start import FakeStepFunctions, outage_event
from tests.unit.test_safety import FakeSafety

STATE: dict[str, Any] = {"incident_id": "INC-7", "procedure": "data-corruption", "poll_seconds": 60}


def ask(catalog: Catalog, switch: FakeKillSwitch, audit: FakeAudit, notifier: FakeNotifier,
        state: dict[str, Any] | None = None, minutes: float = 0, safety: FakeSafety | None = None) -> dict[str, Any]:
    return gate("RestoreTables", state or STATE, catalog, switch, safety, audit, notifier,
                NOW + timedelta(minutes=minutes))


def test_nothing_holds_a_step_when_the_switch_is_off(catalog: Catalog) -> None:
    audit, notifier = FakeAudit(), FakeNotifier()

    verdict = ask(catalog, FakeKillSwitch(), audit, notifier)

    assert (verdict["verdict"], verdict["rule"]) == (GO, "ok")
    assert audit.records == [] and notifier.published == []


def test_the_kill_switch_holds_the_step_tells_once_and_lets_it_go_when_off(catalog: Catalog) -> None:
    switch, audit, notifier = FakeKillSwitch(on=True), FakeAudit(), FakeNotifier()

    first = ask(catalog, switch, audit, notifier)
    again = ask(catalog, switch, audit, notifier, {**STATE, "gate": first}, minutes=1)
    switch.on = False
    released = ask(catalog, switch, audit, notifier, {**STATE, "gate": again}, minutes=2)

    assert [v["verdict"] for v in (first, again, released)] == [HELD, HELD, GO]
    assert first["rule"] == "kill_switch" and first["reason"] == "kill switch /remedy/dev/kill-switch is on"
    assert again["held_since"] == first["held_since"] == NOW.isoformat()
    assert audit.kinds("INC-7") == ["procedure_held", "procedure_released"]
    assert [s for s, _ in notifier.published] == ["[remedy-dev] HELD: data-corruption INC-7",
                                                   "[remedy-dev] RESUMED: data-corruption INC-7"]
    assert "waits before RestoreTables" in notifier.published[0][1]


def test_an_unreadable_switch_holds_the_step(catalog: Catalog) -> None:
    verdict = ask(catalog, FakeKillSwitch(error=TimeoutError("ssm did not answer")), FakeAudit(), FakeNotifier())

    assert verdict["verdict"] == HELD
    assert "could not be read, so it counts as on" in verdict["reason"]


def test_a_step_held_longer_than_the_catalog_allows_stops_the_run(catalog: Catalog) -> None:
    switch, audit, notifier = FakeKillSwitch(on=True), FakeAudit(), FakeNotifier()
    first = ask(catalog, switch, audit, notifier)

    stopped = ask(catalog, switch, audit, notifier, {**STATE, "gate": first},
                  minutes=catalog.procedures.kill_switch_hold_minutes)

    assert stopped["verdict"] == STOPPED
    assert "longer than procedures.kill_switch_hold_minutes (120 min); nothing from RestoreTables on was done" in \
        stopped["reason"]
    assert audit.kinds("INC-7") == ["procedure_held", "procedure_stopped"]


def test_a_change_freeze_asks_for_approval_and_says_so(dev_data: dict[str, Any]) -> None:
    data = copy.deepcopy(dev_data)
    data["guardrails"]["freezes"] = [{"name": "month-end", "reason": "finance close", "start": "2026-11-25",
                                      "end": "2026-11-26"}]
    catalog, audit, notifier = parse_catalog(data), FakeAudit(), FakeNotifier()

    verdict = ask(catalog, FakeKillSwitch(), audit, notifier)

    assert (verdict["verdict"], verdict["rule"]) == (APPROVE, "freeze")
    assert verdict["reason"] == ("change freeze month-end until 2026-11-26 00:00Z (finance close): RestoreTables "
                                 "waits for approval")
    assert audit.kinds("INC-7") == ["procedure_freeze"]
    assert notifier.published[0][0] == "[remedy-dev] FREEZE: data-corruption INC-7"


def test_an_ad_hoc_freeze_from_the_store_counts_too(catalog: Catalog) -> None:
    safety = FakeSafety()
    freeze_now(safety, timedelta(hours=6), "vendor maintenance", VerifiedIdentity(principal="slack:T1/U2", via="slack"),
               NOW)

    assert ask(catalog, FakeKillSwitch(), FakeAudit(), FakeNotifier(), safety=safety)["verdict"] == APPROVE


def test_the_kill_switch_keeps_an_alarm_from_starting_its_procedure(catalog: Catalog) -> None:
    sfn, audit = FakeStepFunctions(), FakeAudit()

    result = start_from_alarm(outage_event(), catalog, sfn, audit, NOW, "req-1", FakeKillSwitch(on=True))

    assert (result["status"], result["rule"]) == ("REFUSED", "kill_switch")
    assert sfn.calls == [] and sfn.executions == {}
    [record] = audit.of_kind(REFUSED, result["incident"])
    assert record["rule"] == "kill_switch" and "is not started by its alarm" in record["reason"]


def test_an_unreadable_switch_keeps_it_from_starting_too(catalog: Catalog) -> None:
    sfn = FakeStepFunctions()

    result = start_from_alarm(outage_event(), catalog, sfn, FakeAudit(), NOW, "req-1",
                              FakeKillSwitch(error=TimeoutError("throttled")))

    assert result["status"] == "REFUSED" and sfn.executions == {}
