"""The `remedy` command as a user runs it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sandbox.core import Sandbox

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


def test_replay_of_an_outage_alarm_prints_the_procedure_it_started() -> None:
    # The outage composite starts a state machine whose Lambda tasks run on another thread: what they print must
    # not swallow the CLI's own output (it did: sys.stdout was left pointing at a task's capture buffer), nor
    # mix into it (stdout is the JSON report, whole).
    result = remedy("replay", str(OUTAGE_EVENT), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "replay printed nothing"
    report = json.loads(result.stdout)
    assert report["matched_rules"] == ["remedy-dev-start-service-outage"]
    (execution,) = report["executions"]
    assert execution["procedure"] == "service-outage"
    assert execution["status"] in ("SUCCEEDED", "WAITING_FOR_APPROVAL", "FAILED")


def test_replay_of_an_outage_alarm_in_words_names_the_procedure(sandbox: Sandbox) -> None:
    """The same replay rendered for a person (the command's default output), on this worker's sandbox."""
    from rich.console import Console

    from remedy.render import print_replay
    from remedy.replay import replay_event

    report = replay_event(json.loads(OUTAGE_EVENT.read_text()), "dev", ROOT / "config" / "dev.yaml", sandbox=sandbox)
    console = Console(file=io.StringIO(), width=200)
    print_replay(console, report)
    text = console.file.getvalue()
    assert "remedy-dev-start-service-outage" in text and "service-outage" in text.replace(
        "remedy-dev-start-service-outage", "")


BAD_EVENTS = [
    (lambda e: e["detail"].pop("state"), "rejected: not a CloudWatch Alarm State Change event: detail.state"),
    (lambda e: e.update(account="999999999999"), "rejected: alarm from account 999999999999"),
    (lambda e: e["detail"].update(alarmName="other-team-alarm"), "no rule matches CloudWatch Alarm State Change"),
    (lambda e: e["detail"].update(alarmName="remedy-dev/consumer-lag/glue:x; rm -rf /"),
     "rejected: alarm 'remedy-dev/consumer-lag/glue:x; rm -rf /'"),
]


def test_replay_rejects_a_bad_event_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    """As a user meets it: one line on stderr, no traceback, exit code 2 (the reasons: the test below)."""
    mutate, expected = BAD_EVENTS[1]
    event = json.loads(EVENT.read_text())
    mutate(event)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    line = assert_one_clean_line(remedy("replay", str(path)))
    assert line.startswith(expected), line


@pytest.mark.parametrize(("mutate", "expected"), BAD_EVENTS)
def test_replay_rejects_bad_events_and_says_why(sandbox: Sandbox, mutate, expected: str) -> None:
    """Each kind of bad event through the synthesized routing and the real handler (on this worker's sandbox):
    nothing acted on, the reason the command prints on its one line."""
    from remedy.replay import replay_event

    event = json.loads(EVENT.read_text())
    mutate(event)
    report = replay_event(event, "dev", ROOT / "config" / "dev.yaml", sandbox=sandbox)
    assert report["status"] in ("NO_RULE", "REJECTED") and report["reason"].startswith(expected), report
    assert all(not (invocation["result"] or {}).get("results") for invocation in report["invocations"])


def test_replay_non_json_and_unknown_env(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text("{not json")
    assert "not JSON" in assert_one_clean_line(remedy("replay", str(path)))
    assert "unknown environment 'qa'" in assert_one_clean_line(remedy("replay", str(EVENT), "--env", "qa"))


def test_a_sandbox_home_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = subprocess.run([sys.executable, "-m", "remedy.cli", "replay", str(EVENT)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False,
                            env={**os.environ, "REMEDY_SANDBOX_HOME": str(blocked / "home")})
    line = assert_one_clean_line(result)
    assert line.startswith(f"remedy: cannot keep the sandbox's files in {blocked / 'home' / 'dev'}: "), line
    assert "REMEDY_SANDBOX_HOME" in line and blocked.read_text() == "not a folder"


def test_gameday_unknown_scenario_and_list() -> None:
    assert "unknown scenario 'nope'" in assert_one_clean_line(remedy("gameday", "--scenario", "nope"))
    listed = remedy("gameday", "--list")
    assert listed.returncode == 0
    assert "streaming-job-down" in listed.stdout
