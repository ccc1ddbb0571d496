"""Cold start: a handler module loads Powertools (functions/core/observability.py) and nothing else of ours at
init; the runtimes, playbooks, procedures and their pydantic models load on the first event (`make bench`
measures the time; this checks the property, without timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(p.stem for p in (ROOT / "functions" / "handlers").glob("*.py") if p.stem != "__init__")
DEFERRED = ("pydantic", "boto3", "yaml", "functions.core.runtime", "functions.playbooks", "functions.procedures",
            "functions.probes", "functions.maintenance", "functions.core.catalog")


def test_every_handler_module_imports_only_the_observability_module_at_init() -> None:
    code = ("import importlib, sys\n"
            f"for name in {HANDLERS!r}:\n"
            "    importlib.import_module('functions.handlers.' + name)\n"
            "ours = sorted(n for n in sys.modules if n.startswith('functions') and not n.startswith('functions.handlers'))\n"
            f"deferred = [n for n in {DEFERRED!r} if n in sys.modules]\n"
            "print(ours, deferred)\n"
            "assert ours == ['functions', 'functions.core', 'functions.core.observability'], ours\n"
            "assert deferred == [], deferred\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False, env={"PATH": "/usr/bin:/bin", "POWERTOOLS_SERVICE_NAME": "remedy"})
    assert len(HANDLERS) > 10
    assert result.returncode == 0, result.stderr[-1500:]


def test_no_function_code_loads_the_xray_sdk_at_init_or_on_its_first_event() -> None:
    """Powertools Tracer is gone (issue 16): it imported the AWS X-Ray SDK at init (about 200 ms here, and that SDK
    is in maintenance mode until its end of support on 2027-02-25). Lambda's active tracing needs no SDK in the
    function; nothing of ours may bring it back, at init or with what loads on the first event."""
    later = sorted(f"functions.{p.parent.name}.{p.stem}" for d in ("core", "playbooks", "procedures", "probes",
                                                                    "maintenance", "answers", "chat", "doctor")
                   for p in (ROOT / "functions" / d).glob("*.py") if p.stem != "__init__")
    code = ("import importlib, sys\n"
            f"for name in {HANDLERS!r}:\n"
            "    importlib.import_module('functions.handlers.' + name)\n"
            "assert not [n for n in sys.modules if n.startswith('aws_xray_sdk')], 'at init'\n"
            "assert not hasattr(importlib.import_module('functions.core.observability'), 'tracer')\n"
            f"for name in {later!r}:\n"
            "    importlib.import_module(name)\n"
            "loaded = sorted(n for n in sys.modules if n.startswith('aws_xray_sdk'))\n"
            "assert not loaded, loaded\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False, env={"PATH": "/usr/bin:/bin", "POWERTOOLS_SERVICE_NAME": "remedy",
                                              "AWS_DEFAULT_REGION": "eu-west-1"})
    assert len(later) > 20
    assert result.returncode == 0, result.stderr[-1500:]
