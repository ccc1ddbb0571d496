"""Terminal rendering of outcomes (rich): the same story the notification tells, with colour."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

VERDICT_STYLE = {"ALLOWED": "green", "REFUSED": "red", "AWAITING_APPROVAL": "yellow", "RECOMMENDED": "cyan",
                 "OBSERVED": "dim", "DRY_RUN": "magenta"}


def print_outcome(console: Console, outcome: dict[str, Any]) -> None:
    if "plan" not in outcome:  # duplicate or rejected: a one-line answer
        console.print(f"  [bold]{outcome.get('status')}[/bold]: {outcome.get('reason') or outcome.get('summary', '')}",
                      highlight=False)
        return
    incident = outcome["incident"]
    console.print(f"  incident  {incident['id']}", highlight=False)
    for finding in outcome["plan"]["findings"]:
        mark = "[green]ok[/green] " if finding["ok"] else "[red]BAD[/red]"
        console.print(f"  found     {mark} {finding['detail']}", highlight=False)
    for text in outcome["plan"]["recommendations"]:
        console.print(f"  note      {text}", highlight=False)
    for action in outcome["plan"]["actions"]:
        console.print(f"  plan      {action['name']} {action['params']} — {action['reason']}", highlight=False)
    for decision in outcome["decisions"]:
        style = VERDICT_STYLE.get(decision["verdict"], "white")
        console.print(f"  guard     [{style}]{decision['verdict']}[/{style}] by {decision['rule']}: "
                      f"{decision['reason']}", highlight=False)
    for result in outcome["results"]:
        console.print(f"  action    {result['status']} {result['action']['name']}: {result['detail']}",
                      highlight=False)
    verification = outcome["verification"]
    console.print(f"  verify    {verification['status']}: {verification['detail']}", highlight=False)
    console.print(f"  outcome   [bold]{outcome['status']}[/bold]: {outcome['summary']}", highlight=False)


def print_replay(console: Console, report: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("matched rules", ", ".join(report["matched_rules"]) or "none")
    for invocation in report["invocations"]:
        table.add_row("handler", f"{invocation['function']} ({invocation['handler']}), "
                                 f"{invocation['attempts']} attempt(s)")
    console.print(table)
    for invocation in report["invocations"]:
        if invocation["error"]:
            console.print(f"  [red]failed[/red]: {invocation['error']}", highlight=False)
        elif isinstance(invocation["result"], dict):
            print_outcome(console, invocation["result"])
    for execution in report.get("executions", []):
        line = f"  procedure {execution['procedure']} {execution['incident']}: {execution['status']}"
        console.print(line + (f" ({execution['detail']})" if execution["detail"] else ""), markup=False,
                      highlight=False)
    console.print(f"[bold]{report['status']}[/bold]", highlight=False)
