"""remedy.figures: the snapshot says what was measured, when and where, and says so when a source is missing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remedy import figures

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
BENCH = {
    "date": "2026-12-02T05:00:00+00:00", "machine": "x86_64, 2 cores, Python 3.11.7",
    "cold_start": [
        {"function": "remedy-dev-a", "handler": "h.a", "first_call_ms": 460.0, "baseline_first_call_ms": 440.0,
         "ratio": 1.05, "target": 1.5, "meets_target": True, "init_ms": 40.0, "baseline_init_ms": 300.0,
         "init_ratio": 0.13, "first_call": "dynamodb:PutItem HTTP 200", "event": "CloudWatch Alarm State Change",
         "baseline_first_call": "cloudwatch:DescribeAlarms HTTP 200"},
        {"function": "remedy-dev-b", "handler": "h.b", "first_call_ms": 400.0, "baseline_first_call_ms": 460.0,
         "ratio": 0.87, "target": 1.5, "meets_target": True, "init_ms": 42.0, "baseline_init_ms": 310.0,
         "init_ratio": 0.14, "first_call": "ssm:GetParameter HTTP 200",
         "baseline_first_call": "cloudwatch:DescribeAlarms HTTP 200"},
        {"function": "remedy-dev-c", "handler": "h.c", "meets_target": None,
         "first_call": "no event in the game day reached an AWS call"}],
    "tracer": {"with_tracer_init_ms": 280.0, "without_tracer_init_ms": 41.0},
    "api_calls": [{"scenario": "streaming-job-down", "function": "remedy-dev-msk-consumer-lag", "status": "ACTED",
                   "api_calls": 18, "calls": []}],
    "procedure_transitions": {"executions": [{"scenario": "procedure-scale-glue", "procedure": "scale-glue",
                                              "status": "SUCCEEDED", "transitions": 11}]},
    "storm": {"events": 1000, "seconds": 17.7, "events_per_second": 56.4, "outcomes": {"DUPLICATE": 534}},
    "asset_bytes": {"shared functions asset": 500_000}, "gameday_seconds": 60.2,
}
GAMEDAY = {"env": "dev", "generated_at": "2026-12-02T05:30:00+00:00", "passed": False, "scenarios": [
    {"name": "streaming-job-down", "runbook": "Common Issues / MSK Consumer Lag High", "passed": True,
     "seconds": 1.5, "error": None},
    {"name": "kill-switch", "runbook": "Common Issues / MSK Consumer Lag High", "passed": False, "seconds": 0.5,
     "error": "AssertionError: expected REFUSED\nmore"}]}


def _write(root: Path, relative: Path, data: object) -> None:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(json.dumps(data), encoding="utf-8")


def test_snapshot_dates_and_names_its_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(figures, "known_scenarios", lambda: 39)
    _write(tmp_path, figures.BENCH, BENCH)
    _write(tmp_path, figures.GAMEDAY, GAMEDAY)
    text, data, missing = figures.snapshot(tmp_path, NOW)

    assert "Snapshot of 2026-12-02 06:00 UTC" in text
    assert "Measured by `make bench` on 2026-12-02T05:00:00+00:00 (x86_64, 2 cores, Python 3.11.7)" in text
    assert "0.87 to 1.05x the baseline (target ≤ 1.5x: met by 2 of 2 functions); init alone 0.13 to 0.14x" in text
    assert ("| remedy-dev-a | CloudWatch Alarm State Change | 460.0 | 440.0 | 1.05 | 40.0 | 300.0 "
            "| dynamodb:PutItem HTTP 200 |") in text
    assert "| remedy-dev-c |  |  |  | not judged |  |  | no event in the game day reached an AWS call |" in text
    assert "41.0 ms; with Powertools Tracer and the AWS X-Ray SDK it imports, as before issue 16: 280.0 ms" in text
    assert "**1 of 2 scenarios met their expected outcome**" in text
    assert "This report is a partial run: the game day has 39 scenarios, this run 2" in text
    assert "| kill-switch | Common Issues / MSK Consumer Lag High | **no** | 0.5 | AssertionError: expected REFUSED |" \
        in text
    assert missing == [f"{figures.FAULTS} (make faults)"]
    assert "Not measured in this snapshot: `bench-results/fault-matrix.json` did not exist" in text
    assert data["gameday"]["missed"] == [{"name": "kill-switch", "error": GAMEDAY["scenarios"][1]["error"]}]
    assert data["bench"]["cold_start"]["meet_target"] == 2


def test_every_section_the_docs_include_is_there_even_when_nothing_was_measured(tmp_path: Path) -> None:
    text, _, missing = figures.snapshot(tmp_path, NOW)
    assert len(missing) == 3
    for name in ("header", "cold-start", "api-calls", "transitions", "bench-other", "fault-matrix", "gameday"):
        assert f"<!-- --8<-- [start:{name}] -->" in text and f"<!-- --8<-- [end:{name}] -->" in text


def test_main_refuses_to_write_an_empty_snapshot(tmp_path: Path) -> None:
    assert figures.main([str(tmp_path)]) == 1
    assert not (tmp_path / figures.OUT).exists()


def test_the_fleet_storm_section_shows_remediations_holds_and_rates_or_says_it_is_missing(tmp_path: Path) -> None:
    text, _, _ = figures.snapshot(tmp_path, NOW)
    assert "Not measured in this snapshot: `bench-results/storm.json` did not exist (`make bench`)" in text
    storm = json.loads((Path(figures.ROOT) / "docs/figures/snapshot.json").read_text(encoding="utf-8"))
    assert storm["fleet_storm"]["pipelines"] == 50  # the committed snapshot has the section
    result = {
        "date": "2026-12-02T09:34:13+00:00", "machine": "x86_64, 2 cores, Python 3.11.7", "pipelines": 3,
        "fleet_budget_per_hour": 10, "deployed": {"stacks": 4, "alarms": 40, "composites": 18, "rules": 9},
        "alarm_changes": 9, "alarms_to_alarm": {"consumer-lag": 3}, "events": 18, "distinct_events": 9,
        "not_routed": 6, "invocations": 12, "function_switches": 8, "incidents_total": 7, "incidents_decided": 6,
        "procedures_started": {"remedy-dev-service-outage": 1}, "decisions_per_incident": {"1": 6},
        "remediations": 3, "incidents_acted": 3, "actions_per_acted_incident": {"1": 3},
        "restarts_per_stream": {"1": 3}, "streams_right": 3, "verdicts": {"ALLOWED ok": 3, "REFUSED lineage_hold": 3},
        "holds_correct": 3, "holds_expected": 3, "batch_runs_started": 0, "duplicates": 7, "errors": [],
        "denied": [], "events_per_second": 9.0, "invocations_per_second": 6.0, "api_calls_per_incident": 25.0,
        "api_calls": 175, "api_calls_by_caller": {"remedy-dev-msk-consumer-lag": 100},
        "seconds": {"synthesis": 1.0, "deploy": 3.0, "inject": 1.0, "alarm_evaluation": 1.0, "delivery": 2.0,
                    "total": 8.0}, "passed": True}
    _write(tmp_path, figures.STORM, result)
    text, data, _ = figures.snapshot(tmp_path, NOW)
    assert "Measured by `make bench` on 2026-12-02T09:34:13+00:00 (x86_64, 2 cores, Python 3.11.7); source " \
           "`bench-results/storm.json`." in text
    assert "| streaming jobs restarted exactly once | 3 of 3 (one decision each, as it said: 3) |" in text
    assert "| lineage holds correct (batch restart refused, naming its own stream) | 3 of 3; batch runs started: 0 |" \
        in text
    assert "| AWS API calls per incident | 25.0 (175 calls: remedy-dev-msk-consumer-lag 100) |" in text
    assert data["fleet_storm"]["remediations"] == 3 and data["fleet_storm"]["passed"] is True
