"""`make bench`: the figures the README quotes, measured on this machine in one run.

- cold start per handler: import + init in a fresh interpreter, median of several runs, as a ratio to a
  minimal Powertools handler measured in the same run (target at most 1.5 times);
- deployment asset size per function (the bundled asset directory);
- AWS API calls per playbook branch: every game day scenario's invocations, counted by the sandbox;
- game day wall time.

Results go to bench-results/bench.json and are printed as a table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
TARGET_RATIO = 1.5
BASELINE = '''
from aws_lambda_powertools import Logger

logger = Logger(service="baseline")


@logger.inject_lambda_context
def handler(event, context):
    return {}
'''


def _import_seconds(module: str, path: str) -> float:
    code = (f"import sys, time; sys.path.insert(0, {path!r}); t = time.perf_counter(); import {module}; "
            "print(time.perf_counter() - t)")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # Our own interpreter and module names: nothing untrusted reaches the command line.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,  # noqa: S603
                         check=True, env=env, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def cold_starts(handlers: dict[str, str]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "baseline_handler.py").write_text(BASELINE, encoding="utf-8")
        rows = []
        for name, handler in sorted(handlers.items()):
            module = handler.rpartition(".")[0]
            baseline, ours = [], []
            for _ in range(RUNS):  # interleaved, so machine noise hits both alike
                baseline.append(_import_seconds("baseline_handler", tmp))
                ours.append(_import_seconds(module, str(ROOT)))
            b, o = statistics.median(baseline), statistics.median(ours)
            rows.append({"function": name, "handler": handler, "import_ms": round(o * 1000, 1),
                         "baseline_ms": round(b * 1000, 1), "ratio": round(o / b, 2), "target": TARGET_RATIO,
                         "meets_target": o / b <= TARGET_RATIO})
        return rows


def asset_sizes(env: str) -> dict[str, int]:
    from functions.core.catalog import catalog_path_for, load_catalog
    from infra.bundling import write_asset

    with tempfile.TemporaryDirectory() as tmp:
        write_asset(tmp, load_catalog(catalog_path_for(env, ROOT)))
        return {"shared functions asset": sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())}


def api_calls_per_branch(env: str) -> tuple[list[dict[str, Any]], float]:
    from remedy.gameday import registry
    from remedy.gameday.drill import Drill
    from sandbox.core import Sandbox

    rows = []
    began = time.monotonic()
    sandbox = Sandbox(env).start()
    try:
        for index, scenario in enumerate(registry.all_scenarios()):
            if index:
                sandbox.reset()
            drill = Drill(sandbox)
            original = sandbox.invoke_async

            def counting(spec: Any, event: dict[str, Any], _scenario: str = scenario.name,
                         _original: Any = original) -> Any:
                invocation = _original(spec, event)
                result = invocation.result if isinstance(invocation.result, dict) else {}
                rows.append({"scenario": _scenario, "function": spec.name, "status": result.get("status", "?"),
                             "api_calls": len(invocation.api_calls), "calls": invocation.api_calls})
                return invocation

            sandbox.invoke_async = counting  # type: ignore[method-assign]
            try:
                scenario.run(drill)
            finally:
                sandbox.invoke_async = original  # type: ignore[method-assign]
    finally:
        sandbox.stop()
    return rows, time.monotonic() - began


def main(env: str = "dev") -> int:
    console = Console()
    from functions.core.catalog import catalog_path_for
    from sandbox.templates import templates_for

    templates = templates_for(env, catalog_path_for(env, ROOT))
    handlers = {r["Properties"]["FunctionName"]: r["Properties"]["Handler"]
                for t in templates.values() for r in t["Resources"].values()
                if r["Type"] == "AWS::Lambda::Function" and isinstance(r["Properties"].get("FunctionName"), str)
                and r["Properties"].get("Handler", "").startswith("functions.")}
    with console.status("cold starts (fresh interpreters)…"):
        starts = cold_starts(handlers)
    with console.status("game day, counting API calls…"):
        calls, gameday_seconds = api_calls_per_branch(env)
    sizes = asset_sizes(env)
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "cold_start": starts, "asset_bytes": sizes, "api_calls": calls,
              "gameday_seconds": round(gameday_seconds, 1)}
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2), encoding="utf-8")

    table = Table(title=f"cold start: import + init, median of {RUNS} fresh interpreters")
    for column in ("function", "ms", "baseline ms", "ratio", f"<= {TARGET_RATIO}x"):
        table.add_column(column)
    for row in starts:
        table.add_row(row["function"], f"{row['import_ms']}", f"{row['baseline_ms']}", f"{row['ratio']}",
                      "yes" if row["meets_target"] else "[red]no[/red]")
    console.print(table)
    calls_table = Table(title="AWS API calls per playbook branch (game day)")
    for column in ("scenario", "function", "outcome", "API calls"):
        calls_table.add_column(column)
    for row in calls:
        calls_table.add_row(row["scenario"], row["function"], row["status"], str(row["api_calls"]))
    console.print(calls_table)
    for name, size in sizes.items():
        console.print(f"asset: {name}: {size / 1024:.0f} KiB")
    console.print(f"game day: {gameday_seconds:.1f} s; results in {out / 'bench.json'} ({result['machine']})")
    return 0 if all(r["meets_target"] for r in starts) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dev"))
