"""`make bench`: the figures the README quotes, measured on this machine in one run.

- cold start per handler, in a fresh interpreter, median of several runs, as a ratio to a minimal
  Powertools handler with the same utilities (Logger, Tracer, Metrics decorators) measured in the same run:
  "init" (import and module-level init: the target, at most 1.5 times) and "init + first event" (init, then
  one event the function refuses, or up to its first AWS call, which fails for want of credentials: there is
  no AWS here). The second figure shows where the cost that lazy imports take out of init went;
- deployment asset size per function (the bundled asset directory);
- AWS API calls per playbook branch: every game day scenario's invocations, counted by the sandbox;
- state transitions per procedure execution of the game day (Standard workflows are priced per transition):
  the *StateEntered events of each execution's history;
- storm throughput: the alarm storm of tests/integration/test_storm.py (1,000 events, its own driver)
  through the sandbox's routing and the real handler, in events per second;
- game day wall time;
- scale (issue 16, remedy/scale.py): synthetic catalogs of 2, 50 and 200 pipelines synthesized and measured
  against AWS's limits (resources and bytes per stack, composite rules, dashboard widgets, event patterns), synth
  time, and the monthly cost of the alarms, composites, dashboards and probes from bench/prices-2026-12.yaml.
  `python -m remedy.bench scale` runs this part alone (bench-results/scale.json).

Results go to bench-results/bench.json and are printed as tables. Exit status 0 only when every handler
meets the cold-start target.
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
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
TARGET_RATIO = 1.5
# The minimal handler of Powertools' docs, with the utilities (and options) every handler of ours uses.
BASELINE = '''
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Baseline")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return {}
'''
# No function accepts it: a playbook or probe refuses it, a procedure step fails on it, a maintenance job or
# the freshness probe gets as far as its first AWS call.
FIRST_EVENT = {"bench": "an event no function accepts"}
# Run in the fresh interpreter: import (init), then one event; prints one line: BENCH <json>.
_FRESH = '''
import importlib, json, sys, time
sys.path.insert(0, {path!r})


class Context:
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self):  # what every Lambda context answers (functions budget their waits)
        return 60_000


began = time.perf_counter()
module = importlib.import_module({module!r})
init = time.perf_counter() - began
try:
    result = getattr(module, {attr!r})({event!r}, Context())
    outcome = str(result.get("status", "ok")) if isinstance(result, dict) else "ok"
except Exception as error:  # what the first event did is reported, not judged
    outcome = type(error).__name__
first = time.perf_counter() - began
print("BENCH " + json.dumps({{"init": init, "first_event": first, "outcome": outcome}}))
'''


def fresh_environment(variables: Mapping[str, Any], catalog_path: Path, region: str) -> dict[str, str]:
    """The function's environment as Lambda sets it (its template variables, references as placeholders),
    no AWS endpoint and no credentials (a call fails at once, nothing leaves the machine), tracing off by
    configuration as in the sandbox."""
    env = {k: v if isinstance(v, str) else "bench" for k, v in variables.items()}
    env.update({"CATALOG_PATH": str(catalog_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PYTHONDONTWRITEBYTECODE": "1", "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return env


def fresh_start(handler: str, path: str, env: Mapping[str, str]) -> dict[str, Any]:
    """One fresh interpreter: seconds to import the handler's module, seconds to the end of its first event."""
    module, _, attr = handler.rpartition(".")
    code = _FRESH.format(path=path, module=module, attr=attr, event=FIRST_EVENT)
    # Our own interpreter and module names: nothing untrusted reaches the command line.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,  # noqa: S603
                         check=True, env=dict(env), cwd=ROOT)
    lines = [line for line in out.stdout.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise RuntimeError(f"{handler}: no measurement from the fresh interpreter: {out.stderr[-500:]}")
    return dict(json.loads(lines[-1].removeprefix("BENCH ")))


def cold_start_row(function: str, handler: str, baseline: list[dict[str, Any]],
                   ours: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the runs; the target is on init (import + module init) only."""
    def median_ms(runs: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(r[key] for r in runs) * 1000, 1)

    init, base_init = median_ms(ours, "init"), median_ms(baseline, "init")
    first, base_first = median_ms(ours, "first_event"), median_ms(baseline, "first_event")
    ratio = round(init / base_init, 2)
    return {"function": function, "handler": handler,
            "init_ms": init, "baseline_init_ms": base_init, "ratio": ratio,
            "target": TARGET_RATIO, "meets_target": init / base_init <= TARGET_RATIO,
            "first_event_ms": first, "baseline_first_event_ms": base_first,
            "first_event_ratio": round(first / base_first, 2),
            "first_event": Counter(r["outcome"] for r in ours).most_common(1)[0][0]}


def cold_starts(functions: Mapping[str, tuple[str, Mapping[str, str]]], runs: int = RUNS) -> list[dict[str, Any]]:
    """`functions`: name -> (handler, environment)."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "baseline_handler.py").write_text(BASELINE, encoding="utf-8")
        rows = []
        for name, (handler, env) in sorted(functions.items()):
            baseline, ours = [], []
            for _ in range(runs):  # interleaved, so machine noise hits both alike
                baseline.append(fresh_start("baseline_handler.handler", tmp, env))
                ours.append(fresh_start(handler, str(ROOT), env))
            rows.append(cold_start_row(name, handler, baseline, ours))
        return rows


def transitions(history: Iterable[Mapping[str, Any]]) -> int:
    """State transitions of one execution, as Standard workflows are billed: every state entered."""
    return sum(1 for event in history if str(event.get("type", "")).endswith("StateEntered"))


def procedure_executions(sandbox: Any, scenario: str) -> list[dict[str, Any]]:
    """Every execution in the sandbox's account now: its procedure, status and state transitions."""
    from functions.procedures import PROCEDURES, state_machine_name

    procedures = {state_machine_name(sandbox.catalog.prefix, p): p for p in PROCEDURES}
    sfn = sandbox.client("stepfunctions")
    rows = []
    for machine in sfn.list_state_machines().get("stateMachines", []):
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"]).get("executions", []):
            history: list[dict[str, Any]] = []
            for page in sfn.get_paginator("get_execution_history").paginate(
                    executionArn=execution["executionArn"]):
                history += page["events"]
            rows.append({"scenario": scenario, "procedure": procedures.get(machine["name"], machine["name"]),
                         "status": execution["status"], "transitions": transitions(history)})
    return rows


def asset_sizes(env: str) -> dict[str, int]:
    from functions.core.catalog import catalog_path_for, load_catalog
    from infra.bundling import write_asset

    with tempfile.TemporaryDirectory() as tmp:
        write_asset(tmp, load_catalog(catalog_path_for(env, ROOT)))
        return {"shared functions asset": sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())}


def game_day(sandbox: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """Every scenario: API calls per playbook invocation, and the procedures' executions."""
    from remedy.gameday import registry
    from remedy.gameday.drill import Drill

    calls: list[dict[str, Any]] = []
    executions: list[dict[str, Any]] = []
    began = time.monotonic()
    for index, scenario in enumerate(registry.all_scenarios()):
        if index:
            sandbox.reset()
        drill = Drill(sandbox)
        original = sandbox.invoke_async

        def counting(spec: Any, event: dict[str, Any], _scenario: str = scenario.name,
                     _original: Any = original) -> Any:
            invocation = _original(spec, event)
            result = invocation.result if isinstance(invocation.result, dict) else {}
            calls.append({"scenario": _scenario, "function": spec.name, "status": result.get("status", "?"),
                          "api_calls": len(invocation.api_calls), "calls": invocation.api_calls})
            return invocation

        sandbox.invoke_async = counting  # type: ignore[method-assign]
        try:
            scenario.run(drill)
        finally:
            sandbox.invoke_async = original  # type: ignore[method-assign]
        executions += procedure_executions(sandbox, scenario.name)  # before the reset forgets them
    return calls, executions, time.monotonic() - began


def storm_throughput(sandbox: Any) -> dict[str, Any]:
    """The storm of tests/integration/test_storm.py, driven by its own `storm()`, timed from the first
    delivery to the last: routing (the synthesized patterns) and the real handler, in this process."""
    from remedy.gameday.drill import Drill
    from tests.integration.test_storm import JOBS, storm

    sandbox.reset()
    d = Drill(sandbox)
    for job in JOBS:  # the test's set-up: two pipelines down, their lag alarms in ALARM
        d.stop_streaming_job(job)
        d.consumer_lag(job, [30_000] * 5)
    first = {e.alarm_name.rsplit(":", 1)[1]: event for e, event in sandbox.evaluate_alarms(d.now)
             if "/consumer-lag/" in e.alarm_name}
    events = storm(first)
    statuses: Counter[str] = Counter()
    began = time.perf_counter()
    for _, event in events:
        delivery = sandbox.deliver(event)
        for invocation in delivery.invocations:
            statuses[invocation.result["status"] if isinstance(invocation.result, dict) else "error"] += 1
        if not delivery.invocations:
            statuses["not routed"] += 1
    seconds = time.perf_counter() - began
    return {"events": len(events), "seconds": round(seconds, 1), "events_per_second": round(len(events) / seconds, 1),
            "outcomes": dict(statuses)}


def _functions(env: str) -> dict[str, tuple[str, dict[str, str]]]:
    from functions.core.catalog import catalog_path_for, load_catalog
    from sandbox.templates import templates_for

    path = catalog_path_for(env, ROOT)
    region = load_catalog(path).region
    templates = templates_for(env, path)
    return {r["Properties"]["FunctionName"]: (
                r["Properties"]["Handler"],
                fresh_environment(r["Properties"].get("Environment", {}).get("Variables", {}), path, region))
            for t in templates.values() for r in t["Resources"].values()
            if r["Type"] == "AWS::Lambda::Function" and isinstance(r["Properties"].get("FunctionName"), str)
            and r["Properties"].get("Handler", "").startswith("functions.")}


def _print(console: Any, starts: list[dict[str, Any]], calls: list[dict[str, Any]],
           executions: list[dict[str, Any]], storm: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"cold start, median of {RUNS} fresh interpreters (baseline: minimal Powertools handler "
                        f"with Logger, Tracer, Metrics)")
    for column in ("function", "init ms", "baseline", "ratio", f"<= {TARGET_RATIO}x", "init + 1st event ms",
                   "baseline", "ratio", "1st event"):
        table.add_column(column)
    for row in starts:
        table.add_row(row["function"], f"{row['init_ms']}", f"{row['baseline_init_ms']}", f"{row['ratio']}",
                      "yes" if row["meets_target"] else "[red]no[/red]", f"{row['first_event_ms']}",
                      f"{row['baseline_first_event_ms']}", f"{row['first_event_ratio']}", row["first_event"])
    console.print(table)
    calls_table = Table(title="AWS API calls per playbook branch (game day)")
    for column in ("scenario", "function", "outcome", "API calls"):
        calls_table.add_column(column)
    for row in calls:
        calls_table.add_row(row["scenario"], row["function"], row["status"], str(row["api_calls"]))
    console.print(calls_table)
    runs_table = Table(title="state transitions per procedure execution (game day; Standard pricing)")
    for column in ("scenario", "procedure", "status", "transitions"):
        runs_table.add_column(column)
    for row in executions:
        runs_table.add_row(row["scenario"], row["procedure"], row["status"], str(row["transitions"]))
    console.print(runs_table)
    console.print(f"storm: {storm['events']} events in {storm['seconds']} s = {storm['events_per_second']} events/s "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(storm['outcomes'].items()))})")


def main(env: str = "dev") -> int:
    from rich.console import Console

    from sandbox.core import Sandbox

    console = Console()
    with console.status("cold starts (fresh interpreters)…"):
        starts = cold_starts(_functions(env))
    sandbox = Sandbox(env).start()
    try:
        with console.status("game day, counting API calls and state transitions…"):
            calls, executions, gameday_seconds = game_day(sandbox)
        with console.status("alarm storm…"):
            storm = storm_throughput(sandbox)
    finally:
        sandbox.stop()
    from remedy.scale import print_scale, scale_table

    with console.status("scale: synthesizing 2, 50 and 200 pipelines…"):
        scale = scale_table()
    sizes = asset_sizes(env)
    per_procedure: dict[str, list[int]] = {}
    for row in executions:
        per_procedure.setdefault(row["procedure"], []).append(row["transitions"])
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "cold_start": starts, "asset_bytes": sizes, "api_calls": calls,
              "procedure_transitions": {"executions": executions, "per_procedure": per_procedure},
              "storm": storm, "gameday_seconds": round(gameday_seconds, 1), "scale": scale}
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2), encoding="utf-8")

    _print(console, starts, calls, executions, storm)
    print_scale(console, scale)
    for name, size in sizes.items():
        console.print(f"asset: {name}: {size / 1024:.0f} KiB")
    console.print(f"game day: {gameday_seconds:.1f} s; results in {out / 'bench.json'} ({result['machine']})")
    return 0 if all(r["meets_target"] for r in starts) and all(r["within_limits"] for r in scale) else 1


def scale_main() -> int:
    """The scale part alone: bench-results/scale.json (and the scale entry of bench.json, when there is one)."""
    from rich.console import Console

    from remedy.scale import print_scale, scale_table

    console = Console()
    rows = scale_table()
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "scale": rows}
    (out / "scale.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    bench = out / "bench.json"
    if bench.exists():  # keep make figures' one source current
        data = json.loads(bench.read_text(encoding="utf-8"))
        data["scale"], data["scale_date"] = rows, result["date"]
        bench.write_text(json.dumps(data, indent=2), encoding="utf-8")
    print_scale(console, rows)
    return 0 if all(r["within_limits"] for r in rows) else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["scale"]:
        sys.exit(scale_main())
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dev"))
