"""The game day's model-driven scenarios (remedy.recovery.SCENARIOS): a fault is a cause in the lake model, each
run with the service and without it. Every one must meet its expectations, and the report must carry what a
person reads: each timeline's figures and its drawing. The scripted scenarios are in test_gameday.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from remedy.gameday import registry
from remedy.gameday.runner import run_gameday
from remedy.recovery import SCENARIOS

pytestmark = [pytest.mark.integration, pytest.mark.drill]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("gameday-lake")
    console = Console(file=open(out / "out.txt", "w"), width=200)  # noqa: SIM115
    run_gameday(registry.select(list(SCENARIOS)), "dev", ROOT / "config" / "dev.yaml", out / "report", console)
    console.file.close()
    data = json.loads((out / "report" / "report.json").read_text())
    data["html"] = (out / "report" / "index.html").read_text()
    return data


def test_every_lake_scenario_is_model_driven_and_in_the_recovery_table() -> None:
    lake = {s.name for s in registry.all_scenarios() if s.name.startswith("lake-")}
    assert lake == set(SCENARIOS)


def test_every_model_driven_scenario_meets_its_expected_outcome(report: dict[str, Any]) -> None:
    missed = [(s["name"], s["error"], [t["text"] for t in s["steps"] if t["kind"] == "expect" and not t["ok"]])
              for s in report["scenarios"] if not s["passed"]]
    assert not missed, missed
    assert [s["name"] for s in report["scenarios"]] == list(SCENARIOS)


def test_each_scenario_has_a_timeline_with_and_without_the_service_with_its_figures_and_drawing(
        report: dict[str, Any]) -> None:
    for scenario in report["scenarios"]:
        services = [t["service"] for t in scenario["timelines"]]
        assert services == [True, False], (scenario["name"], services)
        for timeline in scenario["timelines"]:
            figures = timeline["figures"]
            assert {"detect", "first_action", "recover", "floor_detect"} <= set(figures), scenario["name"]
            assert timeline["points"], scenario["name"]
    assert report["html"].count("<svg") >= 2 * len(SCENARIOS)
