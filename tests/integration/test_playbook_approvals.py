"""Approvals of playbook actions and verification windows in the sandbox: the real handlers, the breaker
table, `remedy incident approve|reject` in process (the game day's way) and as a subprocess (a person's way:
AWS_ENDPOINT_URL at the sandbox, the person's own credentials), both through the answer function's URL with a
SigV4 signature the sandbox verifies (functions/answers, sandbox.function_url_auth)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from remedy.commands import incident
from remedy.gameday.drill import Drill
from sandbox.catalog_variant import catalog_variant
from sandbox.core import Sandbox
from sandbox.people import arn, responder

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
JOB = "orders-stream"
RISING = [800, 6_000, 14_000, 21_000, 30_000]
DRAINING = [9_000, 4_000, 1_200, 300, 40]
CHECKS = "msk_consumer_lag-checks"


@pytest.fixture
def approve_mode(sandbox: Sandbox) -> Iterator[Sandbox]:
    with catalog_variant(sandbox, "msk_consumer_lag", mode="approve"):
        yield sandbox


def ask(d: Drill) -> str:
    """Lag while the job runs 2 workers: the 2 -> 4 scale-up waits; its approval id from the notification."""
    d.consumer_lag(JOB, RISING)
    d.fire()
    assert d.outcomes[-1]["status"] == "AWAITING_APPROVAL"
    (note,) = d.notifications()
    found = re.search(r"approve: remedy incident approve (ap-[0-9a-f]{10}) --env dev --reason TEXT", note["message"])
    assert found, note["message"]
    return found.group(1)


def workers(d: Drill) -> list[int | None]:
    return [r.get("NumberOfWorkers") for r in d.active_runs(JOB)]


def started_by_the_scheduled_check(d: Drill) -> list[int | None]:
    """The approved scale-up stopped the run; once Glue has stopped it, the playbook's scheduled check starts the
    new one (functions.core.pending): the workers of the active runs after that."""
    d.advance(5)
    d.tick(CHECKS)
    return workers(d)


def test_approved_in_process_the_job_is_scaled_once_and_alice_is_recorded(approve_mode: Sandbox) -> None:
    d = Drill(approve_mode)
    ident = ask(d)
    assert workers(d) == [2]

    alice = responder(d.sandbox, "alice")
    result = incident.approve(d.sandbox.client, d.catalog, ident, reason="month-end volume", credentials=alice)

    assert (result["decision"], result["outcome"]["status"]) == ("APPROVED", "ACTED")
    assert result["by"] == arn(d.sandbox, "alice")  # as the sandbox verified the signature, not as claimed
    assert "is pending" in result["outcome"]["summary"]  # Glue's stop takes a while: nothing assumed
    assert started_by_the_scheduled_check(d) == [4]
    [approval] = d.audit("approval")
    assert approval["payload"]["text"] == f"APPROVED by {arn(d.sandbox, 'alice')} (month-end volume)"
    assert (approval["payload"]["principal"], approval["payload"]["via"], approval["payload"]["verified"]) == (
        arn(d.sandbox, "alice"), "iam", True)
    assert [r["payload"]["verdict"] for r in d.audit("decision")] == ["AWAITING_APPROVAL", "ALLOWED"]
    with pytest.raises(incident.IncidentError, match="answered once"):
        incident.approve(d.sandbox.client, d.catalog, ident, credentials=responder(d.sandbox, "bob"))
    assert len([r for r in d.runs(JOB) if r.get("NumberOfWorkers") == 4]) == 1


def test_an_expired_approval_is_refused_and_nothing_runs(approve_mode: Sandbox) -> None:
    d = Drill(approve_mode)
    ident = ask(d)
    # The approval window passed: what the item says about its expiry is what the function judges.
    approve_mode.client("dynamodb").update_item(
        TableName=f"{d.catalog.prefix}-breaker", Key={"target": {"S": f"approval:{ident}"}},
        UpdateExpression="SET expires_epoch = :past", ExpressionAttributeValues={":past": {"N": "1000"}})

    with pytest.raises(incident.IncidentError, match=f"approval {ident} expired at"):
        incident.approve(d.sandbox.client, d.catalog, ident, credentials=responder(d.sandbox, "alice"))

    assert workers(d) == [2]
    assert [r["payload"]["decision"] for r in d.audit("approval")] == ["EXPIRED"]


def test_the_cli_signs_its_answer_with_the_callers_own_credentials(approve_mode: Sandbox) -> None:
    d = Drill(approve_mode)
    ident = ask(d)

    def cli(*args: str, who: str = "alice") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **approve_mode.account.environ(), **responder(approve_mode, who)}
        return subprocess.run([sys.executable, "-m", "remedy.cli", "incident", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    approved = cli("approve", ident, "--by", "Alice", "--reason", "month-end volume")

    assert approved.returncode == 0, approved.stdout + approved.stderr
    alice = arn(approve_mode, "alice")
    assert approved.stdout.startswith(f"approved glue.scale_streaming_job ({ident}, playbook msk_consumer_lag, "
                                      f"incident {d.outcomes[-1]['incident']['id']}) by Alice ({alice})")
    assert "ACTED: glue.scale_streaming_job succeeded" in approved.stdout
    assert started_by_the_scheduled_check(d) == [4]
    again = cli("reject", ident, who="bob")
    assert again.returncode == 2
    assert [line for line in again.stderr.splitlines() if line.strip()] == [
        f"remedy: approval {ident} was APPROVED by Alice ({alice}) (month-end volume) at "
        f"{d.audit('approval')[0]['at'][:10]} {d.audit('approval')[0]['at'][11:16]}Z: it is answered once"]
    unknown = cli("approve", "ap-0000000000")
    assert [line for line in unknown.stderr.splitlines() if line.strip()] == [
        "remedy: no approval ap-0000000000 is known (see the notification for the id)"]


def test_rejected_by_the_incident_id_nothing_is_done(approve_mode: Sandbox) -> None:
    d = Drill(approve_mode)
    ask(d)
    incident_id = d.outcomes[-1]["incident"]["id"]

    result = incident.reject(d.sandbox.client, d.catalog, incident_id, reason="add partitions instead",
                             credentials=responder(d.sandbox, "bob"))

    assert (result["decision"], result["outcome"]["status"]) == ("REJECTED", "REJECTED")
    assert workers(d) == [2]
    assert [r["payload"]["text"] for r in d.audit("approval")] == [
        f"REJECTED by {arn(d.sandbox, 'bob')} (add partitions instead)"]


def test_a_restart_is_verified_when_the_lag_alarm_is_ok_again(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.stop_streaming_job(JOB)
    d.consumer_lag(JOB, RISING)
    d.fire()
    assert d.outcomes[-1]["verification"]["status"] == "INCONCLUSIVE"
    d.advance(5)
    d.tick(CHECKS)
    assert d.audit("verification") == []  # still ALARM: the window stays open

    d.consumer_lag(JOB, DRAINING)
    d.fire()
    d.advance(5)
    d.tick(CHECKS)

    (verdict,) = [r["payload"] for r in d.audit("verification")]
    assert verdict["status"] == "VERIFIED" and f"{d.catalog.prefix}/consumer-lag/glue:{JOB} is OK" in verdict["detail"]
    assert d.audit("outcome")[-1]["payload"]["status"] == "REMEDIATED"
    assert any(n["subject"].endswith(f"REMEDIATED: msk_consumer_lag on glue:{JOB}") for n in d.notifications())


def test_a_restart_not_verified_in_its_window_is_escalated_once(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.stop_streaming_job(JOB)
    d.consumer_lag(JOB, RISING)
    d.fire()
    d.advance(d.catalog.guardrails.playbooks["msk_consumer_lag"].verification_minutes + 1)

    d.tick(CHECKS)
    d.tick(CHECKS)  # a second scheduled event (EventBridge is at least once): nothing more

    (verdict,) = [r["payload"] for r in d.audit("verification")]
    assert verdict["status"] == "INCONCLUSIVE" and verdict["detail"].startswith("verification window over at ")
    assert verdict["tried"].startswith("glue.restart_streaming_job at ")
    assert d.audit("outcome")[-1]["payload"]["status"] == "ESCALATED"
    escalated = [n for n in d.notifications() if "ESCALATED" in n["subject"]]
    assert len(escalated) == 1 and "not fixed by what was tried" in escalated[0]["message"]
