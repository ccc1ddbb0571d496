"""The game day's scenario registry. A scenario injects one runbook fault into the sandbox, lets the real
alarms, routes and handlers respond, and states the outcome it expects. Later features add theirs by
decorating a function in a module listed in SCENARIO_MODULES."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SCENARIO_MODULES = ("remedy.gameday.scenarios.consumer_lag", "remedy.gameday.scenarios.detection",
                    "remedy.gameday.scenarios.redshift",
                    "remedy.gameday.scenarios.glue_failures", "remedy.gameday.scenarios.data_quality",
                    "remedy.gameday.scenarios.approvals",
                    "remedy.gameday.scenarios.maintenance",
                    "remedy.gameday.scenarios.procedures",
                    "remedy.gameday.scenarios.on_call")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    runbook: str  # the runbook section it rehearses
    run: Callable[[Any], None]


_SCENARIOS: dict[str, Scenario] = {}


class UnknownScenario(ValueError):
    pass


def scenario(name: str, title: str, runbook: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    def wrap(run: Callable[[Any], None]) -> Callable[[Any], None]:
        if name in _SCENARIOS:
            raise ValueError(f"scenario {name!r} registered twice")
        _SCENARIOS[name] = Scenario(name, title, runbook, run)
        return run

    return wrap


def all_scenarios() -> list[Scenario]:
    for module in SCENARIO_MODULES:
        importlib.import_module(module)
    # In SCENARIO_MODULES order whichever module was imported first (a test may import one directly).
    order = {module: index for index, module in enumerate(SCENARIO_MODULES)}
    return sorted(_SCENARIOS.values(), key=lambda s: order.get(s.run.__module__, len(order)))


def select(names: list[str]) -> list[Scenario]:
    scenarios = all_scenarios()
    if not names:
        return scenarios
    known = {s.name: s for s in scenarios}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownScenario(f"unknown scenario {unknown[0]!r} (known: {', '.join(known)})")
    return [known[n] for n in names]
