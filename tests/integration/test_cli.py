"""The `remedy` command as a user runs it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "tests" / "events" / "alarm_state_change.json"


def remedy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "remedy.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


def assert_one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "expected an error line on stderr"
    return lines[-1]


def test_catalog_validate_accepts_both_catalogs() -> None:
    for env in ("dev", "prod"):
        result = remedy("catalog", "validate", f"config/{env}.yaml")
        assert result.returncode == 0, result.stderr
        assert "valid" in result.stdout


def test_catalog_validate_prints_every_error_with_its_path(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    broken = copy.deepcopy(data)
    broken["glue_jobs"][2]["min_workers"] = 6
    broken["glue_jobs"][2]["max_workers"] = 4
    broken["glue_jobs"][0]["topic"] = "no-such-topic"
    broken["thresholds"]["redshift_cpu_percent"] = 180
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = remedy("catalog", "validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}: glue_jobs[2].max_workers: must be >= min_workers" in result.stderr
    assert f"{path}: thresholds.redshift_cpu_percent: Input should be less than or equal to 100" in result.stderr
    assert f"{path}: glue_jobs[0].topic: unknown topic 'no-such-topic'" in result.stderr
    assert result.stderr.rstrip().endswith(f"{path}: 3 errors")


def test_catalog_validate_missing_file_is_one_line() -> None:
    line = assert_one_clean_line(remedy("catalog", "validate", "config/nope.yaml"))
    assert "cannot read" in line


def test_replay_a_documented_alarm_event() -> None:
    result = remedy("replay", str(EVENT), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["matched_rules"] == ["remedy-dev-msk_consumer_lag"]
    (invocation,) = report["invocations"]
    outcome = invocation["result"]
    # The seeded orders-stream runs with 2 G.1X workers (4 task slots) for 12 partitions: scale by the step.
    (decision,) = outcome["decisions"]
    assert decision["verdict"] == "ALLOWED"
    assert outcome["results"][0]["action"]["params"]["to_workers"] == 4
    assert report["status"] == "ACTED"


OUTAGE_EVENT = ROOT / "tests" / "events" / "composite_outage_alarm.json"


@pytest.mark.parametrize("as_json", [True, False])
def test_replay_of_an_outage_alarm_prints_the_procedure_it_started(as_json: bool) -> None:
    # The outage composite starts a state machine whose Lambda tasks run on another thread: what they print must
    # not swallow the CLI's own output (it did: sys.stdout was left pointing at a task's capture buffer).
    result = remedy("replay", str(OUTAGE_EVENT), *(["--json"] if as_json else []))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "replay printed nothing"
    if as_json:
        report = json.loads(result.stdout)
        assert report["matched_rules"] == ["remedy-dev-start-service-outage"]
        (execution,) = report["executions"]
        assert execution["procedure"] == "service-outage"
        assert execution["status"] in ("SUCCEEDED", "WAITING_FOR_APPROVAL", "FAILED")
    else:
        assert "service-outage" in result.stdout


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda e: e["detail"].pop("state"), "rejected: not a CloudWatch Alarm State Change event: detail.state"),
    (lambda e: e.update(account="999999999999"), "rejected: alarm from account 999999999999"),
    (lambda e: e["detail"].update(alarmName="other-team-alarm"), "no rule matches CloudWatch Alarm State Change"),
    (lambda e: e["detail"].update(alarmName="remedy-dev/consumer-lag/glue:x; rm -rf /"),
     "rejected: alarm 'remedy-dev/consumer-lag/glue:x; rm -rf /'"),
])
def test_replay_rejects_bad_events_with_one_line(tmp_path: Path, mutate, expected: str) -> None:
    event = json.loads(EVENT.read_text())
    mutate(event)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    line = assert_one_clean_line(remedy("replay", str(path)))
    assert line.startswith(expected), line


def test_replay_non_json_and_unknown_env(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text("{not json")
    assert "not JSON" in assert_one_clean_line(remedy("replay", str(path)))
    assert "unknown environment 'qa'" in assert_one_clean_line(remedy("replay", str(EVENT), "--env", "qa"))


def test_gameday_unknown_scenario_and_list() -> None:
    assert "unknown scenario 'nope'" in assert_one_clean_line(remedy("gameday", "--scenario", "nope"))
    listed = remedy("gameday", "--list")
    assert listed.returncode == 0
    assert "streaming-job-down" in listed.stdout
