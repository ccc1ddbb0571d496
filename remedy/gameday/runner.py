"""Runs the scenarios against one sandbox (reset between them), shows progress, writes the report."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from remedy.gameday.drill import Drill, Step
from remedy.gameday.registry import Scenario
from sandbox.core import Sandbox

MARK = {"inject": "[magenta]inject [/magenta]", "alarm": "[yellow]alarm  [/yellow]", "route": "[blue]route  [/blue]",
        "handler": "[cyan]handler[/cyan]", "note": "note   "}


@dataclass
class ScenarioResult:
    name: str
    title: str
    runbook: str
    passed: bool
    seconds: float
    steps: list[Step] = field(default_factory=list)
    error: str | None = None
    timelines: list[dict[str, Any]] = field(default_factory=list)  # model-driven scenarios (remedy.gameday.timeline)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _printer(console: Console) -> Any:
    def show(step: Step) -> None:
        if step.kind == "expect":
            mark = "[green]  ✓ expect[/green]" if step.ok else "[red]  ✗ expect[/red]"
            console.print(f"{mark} {step.text}", highlight=False, markup=True)
        else:
            console.print(f"    {MARK.get(step.kind, step.kind)} {step.text}", highlight=False)

    return show


def run_gameday(scenarios: list[Scenario], env: str, catalog_path: Path, report_dir: Path,
                console: Console, after_each: Callable[[ScenarioResult, Sandbox], None] | None = None,
                ) -> list[ScenarioResult]:
    """Each scenario on the sandbox, reset between them. `after_each` looks at the account a scenario left
    before the next reset empties it (an audit of what the functions wrote, say), after its result is known."""
    started = time.monotonic()
    with console.status("starting the sandbox: synthesizing the stacks, deploying them into the emulated "
                        "account, seeding the data lake…"):
        sandbox = Sandbox(env, catalog_path=catalog_path).start()
    console.print(f"sandbox up in {time.monotonic() - started:.1f}s: {len(sandbox.deployment.alarms)} alarms, "
                  f"{len(sandbox.deployment.rules)} rules, {len(sandbox.deployment.functions)} functions "
                  f"from the synthesized templates ({env})", highlight=False)
    results = []
    try:
        for index, item in enumerate(scenarios, 1):
            if index > 1:
                sandbox.reset()
            console.print(f"\n[bold]▶ {index}/{len(scenarios)} {item.name}[/bold]: {item.title}", highlight=False)
            results.append(_run_one(item, sandbox, console))
            if after_each is not None:
                after_each(results[-1], sandbox)
    finally:
        sandbox.stop()
    _summary(results, console)
    paths = write_report(results, env, report_dir)
    console.print(f"report: {paths[0]} and {paths[1]}", highlight=False)
    return results


def _run_one(item: Scenario, sandbox: Sandbox, console: Console) -> ScenarioResult:
    from sandbox import iam

    drill = Drill(sandbox, on_step=_printer(console))
    began = time.monotonic()
    error = None
    denied, unmapped = len(iam.DENIALS), len(iam.UNMAPPED)
    try:
        item.run(drill)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        error = f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"
        console.print(f"  [red]✗ error[/red] {error}", highlight=False)
    for denial in iam.DENIALS[denied:]:  # IAM is enforced (sandbox.iam): what a role was refused
        console.print(f"    [red]iam    [/red] denied {denial.action} on {denial.resource} to {denial.principal}",
                      highlight=False)
    if iam.UNMAPPED[unmapped:]:  # a call the sandbox could not evaluate fails the scenario, whatever it expected
        error = error or f"IAM not evaluated: {'; '.join(iam.UNMAPPED[unmapped:])}"
        console.print(f"  [red]✗ error[/red] {error}", highlight=False)
    return ScenarioResult(item.name, item.title, item.runbook, passed=error is None and drill.passed,
                          seconds=round(time.monotonic() - began, 2), steps=drill.steps, error=error,
                          timelines=[t.as_dict() for t in getattr(drill, "timelines", [])])


def _summary(results: list[ScenarioResult], console: Console) -> None:
    table = Table(title="game day")
    for column in ("scenario", "runbook section", "expectations", "result", "seconds"):
        table.add_column(column)
    for r in results:
        checks = [s for s in r.steps if s.kind == "expect"]
        met = sum(1 for s in checks if s.ok)
        table.add_row(r.name, r.runbook, f"{met}/{len(checks)}",
                      "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]", f"{r.seconds:.1f}")
    console.print()
    console.print(table)
    failed = [r.name for r in results if not r.passed]
    console.print(f"[red]{len(failed)} scenario(s) missed their expected outcome: {', '.join(failed)}[/red]"
                  if failed else f"[green]all {len(results)} scenarios met their expected outcome[/green]")


def write_report(results: list[ScenarioResult], env: str, report_dir: Path) -> tuple[Path, Path]:
    from jinja2 import Environment, PackageLoader, select_autoescape

    report_dir.mkdir(parents=True, exist_ok=True)
    data = {"env": env, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "passed": all(r.passed for r in results), "scenarios": [r.as_dict() for r in results]}
    json_path = report_dir / "report.json"
    json_path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    jinja = Environment(loader=PackageLoader("remedy", "templates"), autoescape=select_autoescape())
    html_path = report_dir / "index.html"
    from markupsafe import Markup

    from remedy.gameday.svg import timeline_svg

    svgs = {id(t): Markup(timeline_svg(t)) for s in data["scenarios"] for t in s.get("timelines", [])}  # noqa: S704
    html_path.write_text(jinja.get_template("gameday.html.j2").render(**data, svgs=svgs, id=id), encoding="utf-8")
    return json_path, html_path
