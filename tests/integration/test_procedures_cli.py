"""`remedy incident start` as a person types it: bad input is one line on stderr, exit code 2, and nothing is
started (validation happens before any AWS call: the endpoint below accepts no connection)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "eu-west-1"}


def incident(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **NOWHERE}
    return subprocess.run([sys.executable, "-m", "remedy.cli", "incident", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False, env=env)


@pytest.mark.parametrize(("args", "expected"), [
    (["start", "data-corruption", "--table", "analytics.fact_sales", "--from", "2026-11-25T11:00:00Z", "--to",
      "2026-11-25T10:00:00Z"], "remedy: end: 2026-11-25T10:00:00Z is not after start 2026-11-25T11:00:00Z "
                               "(inverted time range)"),
    (["start", "data-corruption", "--table", "analytics.orders", "--from", "2026-11-25T09:00:00Z", "--to",
      "2026-11-25T10:00:00Z"], "remedy: tables: unknown table 'analytics.orders' (catalog tables: "
                               "analytics.dim_customer, analytics.fact_sales)"),
    (["start", "security-incident", "--principal", "bob", "--from", "2026-11-25T09:00:00Z", "--to",
      "2026-11-25T10:00:00Z"], "remedy: principal: 'bob' is not an IAM user or role ARN, an assumed-role ARN, "
                               "user/NAME, role/NAME, or an access key id (AKIA… or ASIA…)"),
    (["start", "scale-glue", "--job", "orders-stream", "--workers", "64"],
     "remedy: workers: 64 is above the cap guardrails.max_glue_workers (20)"),
])
def test_bad_input_is_refused_in_one_line_and_nothing_is_started(args: list[str], expected: str) -> None:
    result = incident(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout and result.stdout == ""
    assert [line for line in result.stderr.splitlines() if line.strip()] == [expected]


def test_an_answer_to_an_unreachable_account_is_one_line() -> None:
    result = incident("approve", "INC-1")
    assert result.returncode == 2
    # The first call is the answer function's URL lookup (lambda:GetFunctionUrlConfig): one line naming it.
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "remedy: cannot reach http://127.0.0.1:9/2021-10-31/functions/remedy-dev-answer/url"]
