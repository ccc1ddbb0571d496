"""The game day's scenario registry. A scenario injects one runbook fault into the sandbox, lets the real
alarms, routes and handlers respond, and states the outcome it expects. Later features add theirs by
decorating a function in a module of remedy/gameday/scenarios (a new module is found by itself)."""

from __future__ import annotations

import importlib
import pkgutil
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


def scenario_modules() -> tuple[str, ...]:
    """SCENARIO_MODULES, the game day's order, then every other module of remedy/gameday/scenarios by name: a new
    playbook's scenario module needs no entry here."""
    from remedy.gameday import scenarios

    found = sorted(f"{scenarios.__name__}.{m.name}" for m in pkgutil.iter_modules(scenarios.__path__)
                   if not m.name.startswith("_"))
    return (*SCENARIO_MODULES, *(m for m in found if m not in SCENARIO_MODULES))


def all_scenarios() -> list[Scenario]:
    modules = scenario_modules()
    for module in modules:
        importlib.import_module(module)
    # In that order whichever module was imported first (a test may import one directly).
    order = {module: index for index, module in enumerate(modules)}
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
