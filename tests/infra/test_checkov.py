"""checkov (framework cloudformation) on the synthesized templates: no failed check; each skip is in the template
on its resource with its reason (infra/checkov.py), and hides a finding checkov really makes there.

checkov lives in its own venv (.venv-checkov, `make venv`): every checkov 3.x pins boto3, packaging and networkx
below this project's pins. One checkov process reads both envs' templates twice: as synthesized, and with the
skips taken out (what checkov would find without them).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.app_builder import ROOT
from tests.infra.helpers import Synth

pytestmark = pytest.mark.infra

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# Every id skipped anywhere, and why in a few words (the full reason is on each resource).
SKIPPABLE = {
    "CKV_AWS_115": "no reserved concurrency (shared account pool; the guard serialises actions)",
    "CKV_AWS_116": "no DLQ (on-failure destinations, synchronous callers, or nothing to replay)",
    "CKV_AWS_117": "not in a VPC (AWS APIs only)",
    "CKV_AWS_173": "environment variables without a customer managed key (no secret in them)",
    "CKV_AWS_158": "log groups without a customer managed key (default encryption, nothing secret logged)",
    "CKV_AWS_119": "DynamoDB on the AWS managed key",
    "CKV_AWS_26": "on-call topic without a KMS key (alarm actions cannot use aws/sns)",
    "CKV_AWS_27": "queue on SSE-SQS, which checkov does not recognise",
    "CKV_AWS_111": "Lambda VPC network-interface actions on '*'",
    # Only the Slack function's URL (Slack cannot sign with SigV4; Bolt's signature check is the gate, tested in
    # tests/integration/test_slack.py and tests/infra/test_slack.py checks it is that URL alone).
    "CKV_AWS_258": "a function URL without IAM auth",
}
SECRET_LIKE = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY", re.IGNORECASE)


def without_skips(template: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(template)
    for resource in stripped["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    return stripped


@pytest.fixture(scope="module")
def checkov(synths: dict[str, Synth], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: `make venv` installs checkov in its own venv")
    root = tmp_path_factory.mktemp("checkov")
    for kind, transform in (("as-synthesized", lambda t: t), ("unskipped", without_skips)):
        (root / kind).mkdir()
        for synth in synths.values():
            for stack, template in synth.templates.items():
                (root / kind / f"{stack}.json").write_text(json.dumps(transform(template)), encoding="utf-8")
    # --skip-download: no Prisma Cloud calls (guidelines, severities); the checks themselves ship in the wheel.
    # --compact: no code block per check. A template is one JSON line, so each of the ~3,600 results would carry
    # the whole template (a 470 MB report, two thirds of checkov's time spent printing it); nothing here reads it.
    result = subprocess.run([str(CHECKOV), "--directory", str(root), "--framework", "cloudformation", "--output",
                             "json", "--skip-download", "--soft-fail", "--compact"], capture_output=True, text=True,
                            timeout=300, check=False, cwd=root, env={**os.environ, "LOG_LEVEL": "WARNING"})
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    [report] = report if isinstance(report, list) else [report]
    assert report["check_type"] == "cloudformation" and report["summary"]["parsing_errors"] == 0
    found: dict[str, dict[str, list[dict[str, Any]]]] = {"as-synthesized": {}, "unskipped": {}}
    for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
        for check in report["results"][outcome]:
            kind = Path(check["file_path"]).parent.name
            found[kind].setdefault(outcome, []).append(check)
    return found


def where(check: dict[str, Any]) -> tuple[str, str, str]:
    return Path(check["file_path"]).stem, check["resource"], check["check_id"]


def test_templates_pass_checkov(checkov: dict[str, Any]) -> None:
    synthesized = checkov["as-synthesized"]
    failed = [f"{where(c)}: {c['check_name']}" for c in synthesized.get("failed_checks", [])]
    assert failed == []
    assert len(synthesized["passed_checks"]) > 1000  # checkov did look at the resources


def test_every_skip_hides_a_real_finding_and_says_why(checkov: dict[str, Any]) -> None:
    skipped = checkov["as-synthesized"].get("skipped_checks", [])
    would_fail = {where(c) for c in checkov["unskipped"].get("failed_checks", [])}
    assert {where(c) for c in skipped} == would_fail, "a skip without a finding, or a finding without a skip"
    assert {c["check_id"] for c in skipped} <= set(SKIPPABLE)
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) > 60, where(check)


def test_skips_sit_on_their_resource_in_the_template(synths: dict[str, Synth]) -> None:
    for synth in synths.values():
        for stack, template in synth.templates.items():
            for logical, resource in template["Resources"].items():
                skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
                ids = [s["id"] for s in skips]
                assert len(ids) == len(set(ids)), (stack, logical)
                if "CKV_AWS_173" in ids:  # "no secret in the environment": nothing named like one, at least
                    variables = resource["Properties"]["Environment"]["Variables"]
                    assert not [n for n in variables if SECRET_LIKE.search(n)], (stack, logical)
