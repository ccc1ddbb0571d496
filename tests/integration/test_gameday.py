"""The game day runner: scenarios pass or fail on their expectations; the reports say so.

The scripted scenarios here; the model-driven ones (remedy.recovery.SCENARIOS, minutes of a simulated lake each,
twice) in tests/integration/test_gameday_lake.py, so that the two halves run side by side on two workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from remedy.gameday import registry
from remedy.gameday.registry import Scenario
from remedy.gameday.runner import run_gameday
from remedy.recovery import SCENARIOS as MODEL_DRIVEN

pytestmark = [pytest.mark.integration, pytest.mark.drill]

ROOT = Path(__file__).resolve().parents[2]


def test_every_scripted_scenario_meets_its_expected_outcome_and_is_reported(tmp_path: Path) -> None:
    failing = Scenario("broken-on-purpose", "expects something false", "test",
                       lambda d: d.expect("a restart that never happened", d.active_runs("orders-stream") == []))
    scenarios = [*(s for s in registry.all_scenarios() if s.name not in MODEL_DRIVEN), failing]
    console = Console(file=open(tmp_path / "out.txt", "w"), width=200)  # noqa: SIM115
    results = run_gameday(scenarios, "dev", ROOT / "config" / "dev.yaml", tmp_path / "report", console)
    console.file.close()
    by_name = {r.name: r for r in results}
    assert not by_name.pop("broken-on-purpose").passed
    missed = [(r.name, r.error, [s.text for s in r.steps if s.kind == "expect" and not s.ok])
              for r in by_name.values() if not r.passed]
    assert not missed, missed
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["passed"] is False
    assert {s["name"] for s in report["scenarios"]} == {s.name for s in scenarios}
    html = (tmp_path / "report" / "index.html").read_text()
    assert "broken-on-purpose" in html and "FAIL" in html
    printed = (tmp_path / "out.txt").read_text()
    assert "missed their expected outcome: broken-on-purpose" in printed
