"""`remedy report` as a user runs it: the real function's report from a seeded sandbox, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def remedy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "remedy.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def assert_one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_report_weekly_json_has_the_seeded_weeks_numbers() -> None:
    result = remedy("report", "weekly", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "REPORTED" and answer["key"].startswith("weekly/")
    orders = next(p for p in answer["report"]["pipelines"] if p["name"] == "orders")
    assert [(a["fired"], a["minutes_in_alarm"]) for a in orders["alarms"]] == [(3, 77.0)]
    assert (orders["recovery"]["median_minutes"], orders["recovery"]["worst_minutes"]) == (25.0, 40.0)
    assert "backup promises kept" in answer["report"]["posture_summary"]


def test_report_bad_arguments_are_one_line() -> None:
    assert "unknown environment 'qa'" in assert_one_clean_line(remedy("report", "posture", "--env", "qa"))
    listed = remedy("report", "--help")
    assert listed.returncode == 0
    assert all(kind in listed.stdout for kind in ("weekly", "redshift", "lifecycle", "posture"))
