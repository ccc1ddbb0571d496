"""`remedy replay` gives the game day's outcome: for each playbook, the event its game day scenario delivered is
replayed (remedy.replay.replay_event) into the account as it was the moment before that delivery (a sandbox
checkpoint), and the playbook must decide and do the same.

What replay adds over the game day is only the staging of the alarm in the event's state; everything else is the
same routing and the same handler, so any difference here is a replay that would mislead a person rehearsing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from functions.playbooks import PLAYBOOKS
from remedy.gameday import registry
from remedy.gameday.drill import Drill
from remedy.replay import replay_event
from sandbox.checkpoint import Checkpoint, capture, restore
from sandbox.core import Invocation, Sandbox

pytestmark = pytest.mark.integration

# One scenario per playbook, the one its declaration names: each a branch where the playbook decides something
# (not a healthy no-op). The Redshift one recommends: an ANALYZE would change the stand-in's statistics, which
# checkpoints do not hold.
SCENARIOS = {name: d.scenario for name, d in PLAYBOOKS.items() if d.scenario}
PLAYBOOK_FUNCTIONS = {d.handler: name for name, d in PLAYBOOKS.items()}


def decided(result: dict[str, Any]) -> dict[str, Any]:
    """What a person compares: the outcome, each decision (action, target, parameters, verdict, rule) and
    each action's result."""
    return {
        "status": result.get("status"),
        "decisions": [(d["action"]["name"], d["action"]["target"], d["action"]["params"], d["verdict"], d["rule"])
                      for d in result.get("decisions", [])],
        "results": [(r["action"]["name"], r["status"]) for r in result.get("results", [])],
    }


def first_delivery(sandbox: Sandbox, scenario: str, playbook: str) -> tuple[Checkpoint, dict[str, Any], Any]:
    """Run the scenario; keep the account just before the first incident event reached the playbook, that
    event, and what the playbook answered."""
    seen: dict[str, Any] = {}
    original = sandbox.invoke_async

    def watching(spec: Any, event: dict[str, Any]) -> Invocation:
        first = (not seen and PLAYBOOK_FUNCTIONS.get(spec.handler) == playbook
                 and event.get("detail-type") != "Scheduled Event")
        if first:
            seen["checkpoint"], seen["event"] = capture(sandbox), event
        invocation = original(spec, event)
        if first:
            seen["result"] = invocation.result
        return invocation

    sandbox.invoke_async = watching  # type: ignore[method-assign]
    try:
        registry.select([scenario])[0].run(Drill(sandbox))
    finally:
        sandbox.invoke_async = original  # type: ignore[method-assign]
    assert seen, f"scenario {scenario} delivered no event to {playbook}"
    return seen["checkpoint"], seen["event"], seen["result"]


@pytest.mark.parametrize(("playbook", "scenario"), sorted(SCENARIOS.items()))
def test_replaying_the_game_days_event_decides_the_same(sandbox: Sandbox, playbook: str, scenario: str) -> None:
    checkpoint, event, in_game_day = first_delivery(sandbox, scenario, playbook)
    assert decided(in_game_day)["decisions"], f"{scenario}: the playbook decided nothing to compare"

    restore(sandbox, checkpoint)
    report = replay_event(event, "dev", Path(sandbox.catalog_path), sandbox=sandbox)

    # A Glue Job State Change also reaches the Glue outcomes probe: compare the playbook's answer.
    [invocation] = [i for i in report["invocations"] if PLAYBOOK_FUNCTIONS.get(i["handler"]) == playbook]
    assert decided(invocation["result"]) == decided(in_game_day)
