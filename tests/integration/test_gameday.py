"""The game day runner: scenarios pass or fail on their expectations; the reports say so. The same drive is the
check that no secret reaches what the functions write (tests/integration/secrets_watch.py).

The scripted scenarios here; the model-driven ones (remedy.recovery.SCENARIOS, minutes of a simulated lake each,
twice) in tests/integration/test_gameday_lake.py, so that the two halves run side by side on two workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from remedy.gameday import registry
from remedy.gameday.registry import Scenario
from remedy.gameday.runner import ScenarioResult, run_gameday
from remedy.recovery import SCENARIOS as MODEL_DRIVEN
from sandbox.core import Sandbox
from tests.integration.secrets_watch import KINDS, NOT_DRIVEN, Watch, kinds, run_maintenance

pytestmark = [pytest.mark.integration, pytest.mark.drill]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_every_scripted_scenario_meets_its_expected_outcome_and_is_reported_and_leaks_no_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    failing = Scenario("broken-on-purpose", "expects something false", "test",
                       lambda d: d.expect("a restart that never happened", d.active_runs("orders-stream") == []))
    scenarios = [*(s for s in registry.all_scenarios() if s.name not in MODEL_DRIVEN), failing]
    # What the functions are given and write, looked at after each scenario (its secrets are gone at the reset);
    # after the last, the maintenance jobs no scenario runs (tests/integration/secrets_watch.py).
    watch = Watch(None, monkeypatch, caplog)
    leaks: list[str] = []
    secrets_seen: set[str] = set()
    handlers: set[str] = set()

    def look(result: ScenarioResult, sandbox: Sandbox) -> None:
        watch.sandbox = sandbox  # the game day's own
        handlers.update(spec.handler for spec in sandbox.deployment.functions.values())
        secrets_seen.update(watch.secrets())
        leaks.extend(watch.leaks(result.name))
        if result.name == failing.name:
            sandbox.reset()
            watch.forget_writes()
            run_maintenance(sandbox)
            secrets_seen.update(watch.secrets())
            leaks.extend(watch.leaks("maintenance jobs"))
        watch.forget_writes()

    console = Console(file=open(tmp_path / "out.txt", "w"), width=200)  # noqa: SIM115
    results = run_gameday(scenarios, "dev", ROOT / "config" / "dev.yaml", tmp_path / "report", console, look)
    console.file.close()
    assert leaks == []
    assert handlers, "the drive was looked at"
    assert handlers - NOT_DRIVEN - watch.invoked == set(), "a function no drive reaches: add a scenario that invokes it"
    assert kinds(secrets_seen) >= KINDS, kinds(secrets_seen)
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
