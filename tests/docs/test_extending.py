"""The Extending page's "Add a playbook" steps, followed literally, add a working playbook.

In a copy of the repository (functions, infra, config, docs and the unit fakes), the shell blocks of that section
run as the page shows them (rendered: `;--8<--` is how the page escapes a snippet line it shows verbatim). Then,
in a fresh interpreter on that copy: the registry has the new playbook, its signal is routed to it, the catalogs
load with its guardrails, its alarms are among the monitoring stack's and in the detection page's table, its role's
grants and its rule's prefixes derive from its declaration (tests/infra synthesizes a function, role and rule per
declaration), its page is in the nav and the playbooks table, and its handler's playbook answers one of its alarms
through the loop (fakes for AWS). No CDK synthesis here: it would take the test past 10 s."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("functions", "infra", "config", "docs", "cdk.json", "mkdocs.yml", "tests/__init__.py",
          "tests/unit/__init__.py", "tests/unit/fakes.py")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})sh\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S)


def playbook_steps(page: str) -> list[str]:
    """The shell blocks of "Add a playbook", as a reader sees them (dedented, snippet escapes rendered)."""
    section = page.split("## Add a playbook", 1)[1].split("\n## ", 1)[0]
    return [textwrap.dedent(m["body"]).replace(";--8<--", "--8<--") for m in FENCE.finditer(section)]


CHECK = r'''
import json, importlib.util, sys
from datetime import UTC, datetime
from pathlib import Path

from functions.core.catalog import load_catalog
from functions.core.naming import SIGNALS
from functions.playbooks import PLAYBOOKS, playbook_names
from infra.permissions import function_statements
from infra.signals import alarm_specs

found = {"names": list(playbook_names()), "routed": SIGNALS.get("example-signal")}
dev, prod = load_catalog("config/dev.yaml"), load_catalog("config/prod.yaml")
found["guardrails"] = [c.guardrails.playbooks["example_issue"].mode.value for c in (dev, prod)]
found["alarms"] = sorted(a.name for a in alarm_specs(dev) if a.signal == "example-signal")
found["jobs"] = sorted(f"{dev.prefix}/example-signal/glue:{j.name}" for j in dev.glue_jobs)
found["grants"] = sorted({a for s in function_statements(dev, PLAYBOOKS["example_issue"]) for a in s.actions})

spec = importlib.util.spec_from_file_location("hook", "docs/hooks/repo.py")
hook = importlib.util.module_from_spec(spec); spec.loader.exec_module(hook)
found["in_alarm_table"] = all(name in hook.alarms_table() for name in found["alarms"])
found["in_signal_table"] = "`example-signal` | `example_issue`" in hook.signals_table()
found["in_playbook_table"] = "[`example_issue`](example_issue.md)" in hook.playbooks_table()
# The page's snippet resolves to the new module's code (what the strict build does with it).
found["page"] = hook.SNIPPET.sub(hook._snippet, Path("docs/playbooks/example_issue.md").read_text())
nav = [{"Playbooks": ["playbooks/index.md"]}]
hook._playbook_pages_in_nav(nav)
found["nav"] = nav[0]["Playbooks"]

# Its route: the rule the remediation stack creates per declaration matches these alarm name prefixes.
from functions.core.naming import signal_prefix
found["routes"] = [signal_prefix(dev.prefix, s) for s in PLAYBOOKS["example_issue"].signals]
found["handler"] = PLAYBOOKS["example_issue"].handler

# Its handler's playbook answers one of its alarms through the loop.
from functions.core.events import parse_alarm_event
from functions.core.playbook import Context, run
from functions.handlers.example_issue import playbook
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeGlue, FakeKillSwitch, FakeNotifier, FakePorts, FixedClock
name = found["alarms"][0]
event = {"version": "0", "id": "x", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
         "account": dev.account_id, "time": "2026-11-25T10:04:41Z", "region": dev.region,
         "resources": [f"arn:aws:cloudwatch:{dev.region}:{dev.account_id}:alarm:{name}"],
         "detail": {"alarmName": name, "state": {"value": "ALARM", "reason": "Threshold Crossed",
                                                 "timestamp": "2026-11-25T10:04:40.989+0000"}}}
incident = parse_alarm_event(event, dev, "example_issue")
notifier, audit = FakeNotifier(), FakeAudit()
glue = FakeGlue()
glue.add_job(incident.resource.removeprefix("glue:"), workers=2)
ctx = Context(catalog=dev, ports=FakePorts(glue=glue), kill_switch=FakeKillSwitch(), breaker=FakeBreaker(),
              audit=audit, notifier=notifier, clock=FixedClock(datetime(2026, 11, 25, 10, 5, tzinfo=UTC)))
outcome = run(playbook(), incident, ctx)
found["outcome"] = [outcome.incident.playbook, outcome.status.value, outcome.summary]
found["notified"] = len(notifier.published)
print(json.dumps(found))
'''


def test_the_extending_page_adds_a_working_playbook(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for path in COPIED:
        source, target = ROOT / path, repo / path
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    steps = playbook_steps((ROOT / "docs" / "extending.md").read_text(encoding="utf-8"))
    assert len(steps) >= 4, "the page's steps are shell blocks"
    for step in steps:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", step], cwd=repo, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, f"step failed:\n{step}\n{done.stderr}"

    env = {**os.environ, "PYTHONPATH": str(repo), "POWERTOOLS_SERVICE_NAME": "remedy"}
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])

    assert "example_issue" in found["names"] and found["routed"] == "example_issue"
    assert found["guardrails"] == ["observe", "observe"]
    assert found["alarms"] == found["jobs"] and found["alarms"], "one alarm per Glue job of the dev catalog"
    assert "glue:GetJobRuns" in found["grants"]
    assert found["in_alarm_table"] and found["in_signal_table"] and found["in_playbook_table"]
    assert {"Example issue": "playbooks/example_issue.md"} in found["nav"]
    assert re.search(r'--8<-- "functions/playbooks/example_issue.py:\d+:\d+"', found["page"]), found["page"]
    assert found["routes"] == ["remedy-dev/example-signal/"]
    assert found["handler"] == "functions.handlers.example_issue.handler"
    playbook, status, summary = found["outcome"]
    assert (playbook, status) == ("example_issue", "NO_ACTION") and "no run on record" in summary
    assert found["notified"] == 1
