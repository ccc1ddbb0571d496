"""`remedy snooze | freeze | mode` against the sandbox (issue 14): setting goes through the answer function's
IAM-authenticated URL, signed with the caller's own key pair (sandbox.people), so the record names the identity
AWS verified; the catalog's allow-list refuses anyone else; listing reads the breaker table with the responder
policy's read grants. Run as a new user would: the CLI in a subprocess with the person's credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.core.adapters.safety import DynamoSafety
from infra import names
from sandbox.core import Sandbox
from sandbox.people import ANALYST_ROLE, arn, responder

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KEY = "msk_consumer_lag.glue.restart_streaming_job"


@pytest.fixture(scope="module")
def sb(sandbox_env: Sandbox) -> Iterator[Sandbox]:
    sandbox_env.reset()
    yield sandbox_env


def cli(sb: Sandbox, *args: str, who: str = "alice", role: str = "OnCall") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **sb.account.environ(), **responder(sb, who, role), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "remedy.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def audit(sb: Sandbox, incident_id: str) -> list[dict[str, object]]:
    items = sb.client("dynamodb").query(
        TableName=names.audit_table(sb.catalog), KeyConditionExpression="incident_id = :i",
        ExpressionAttributeValues={":i": {"S": incident_id}})["Items"]
    return [{"kind": i["kind"]["S"], **json.loads(i["payload"]["S"])} for i in items]


def test_a_snooze_is_set_listed_and_cancelled_as_the_verified_caller(sb: Sandbox) -> None:
    alice = arn(sb, "alice")
    done = cli(sb, "snooze", "orders-stream", "--for", "2h", "--reason", "backfill running")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("glue:orders-stream snoozed until ") and alice in done.stdout

    listed = cli(sb, "snooze", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["resource"], row["set_by"], row["reason"]) == ("glue:orders-stream", alice, "backfill running")
    table = cli(sb, "snooze", "list")
    assert "glue:orders-stream" in table.stdout and "backfill running" in table.stdout
    (record,) = audit(sb, "snooze:glue:orders-stream")
    assert (record["kind"], record["by"], record["via"], record["verified"]) == ("snooze_set", alice, "iam", True)

    assert cli(sb, "snooze", "cancel", "orders-stream", who="bob").returncode == 0
    assert json.loads(cli(sb, "snooze", "list", "--json").stdout) == []
    assert [r["by"] for r in audit(sb, "snooze:glue:orders-stream")] == [alice, arn(sb, "bob")]


def test_someone_not_on_the_allow_list_is_refused_in_one_line_and_nothing_is_set(sb: Sandbox) -> None:
    refused = cli(sb, "freeze", "now", "--for", "6h", "--reason", "peak", who="mallory", role=ANALYST_ROLE)
    assert refused.returncode == 2
    assert [line for line in refused.stderr.splitlines() if line.strip()] == [
        f"remedy: {arn(sb, 'mallory', ANALYST_ROLE)} may not set a freeze: not among any playbook's or "
        f"procedure's approvers; nothing was done [allow-list]"]
    assert DynamoSafety(sb.client, names.breaker_table(sb.catalog)).freezes() == []


def test_a_freeze_now_is_in_force_listed_and_cancelled(sb: Sandbox) -> None:
    done = cli(sb, "freeze", "now", "--for", "6h", "--reason", "peak trading", "--name", "flash-sale", "--json")
    assert done.returncode == 0, done.stderr
    freeze = json.loads(done.stdout)["detail"]["freeze"]
    shown = cli(sb, "freeze")
    assert shown.returncode == 0 and freeze["id"] in shown.stdout and "flash-sale" in shown.stdout
    assert json.loads(cli(sb, "freeze", "--json").stdout)[0]["set_by"] == arn(sb, "alice")
    assert cli(sb, "freeze", "cancel", freeze["id"]).returncode == 0
    assert "no change freeze in force" in cli(sb, "freeze").stdout


def test_mode_set_applies_within_the_ceiling_and_mode_list_shows_it(sb: Sandbox) -> None:
    before = {r["key"]: r for r in json.loads(cli(sb, "mode", "list", "--json").stdout)}
    assert before["redshift_performance"]["mode"] == "recommend"
    assert before["msk_consumer_lag"]["why"].startswith("the catalog's start mode")

    too_high = cli(sb, "mode", "set", "redshift_performance", "auto", "--reason", "x")
    assert too_high.returncode == 2 and "above the catalog's ceiling recommend" in too_high.stderr

    done = cli(sb, "mode", "set", KEY, "approve", "--reason", "new vendor library")
    assert done.returncode == 0, done.stderr
    after = {r["key"]: r for r in json.loads(cli(sb, "mode", "list", "--json").stdout)}
    assert after[KEY]["mode"] == "approve" and arn(sb, "alice") in after[KEY]["why"]
    assert after["msk_consumer_lag"]["mode"] == "auto", "the playbook's other actions keep theirs"
    (record,) = audit(sb, f"mode:{KEY}")
    assert (record["kind"], record["from"], record["to"], record["by"]) == ("mode_changed", "auto", "approve",
                                                                            arn(sb, "alice"))
    screen = cli(sb, "mode", "list")
    assert "Effective modes" in screen.stdout and "new vendor library" in screen.stdout
