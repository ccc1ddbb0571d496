"""`remedy report weekly|redshift|lifecycle|posture`: a maintenance job's report, produced by the real
function against the sandbox.

Each command starts the sandbox, seeds the history its job reads (a week of alarms and remediations for the
weekly review; a month of Redshift query history, WLM queues and disk usage for the analysis), invokes the
job's function with its schedule's payload and prints the report: tables with rich, or `--json` (the
function's answer: status, period, S3 key, report, text). Exit codes: 0 reported, 1 the job failed,
2 bad argument (one line).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

report_app = typer.Typer(no_args_is_help=True, help="Maintenance reports (runbook 'Maintenance') from the sandbox.")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EnvOption = Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")]
JsonOption = Annotated[bool, typer.Option("--json", help="The function's answer as JSON on stdout")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"remedy: {message}", markup=False, highlight=False)
    return typer.Exit(code)


def _catalog_path(env: str) -> Any:
    from functions.core.catalog import CatalogError, catalog_path_for, load_catalog

    path = catalog_path_for(env)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise _fail(f"unknown environment {env!r}: no config/{env}.yaml (known: {known})")
    try:
        load_catalog(path)
    except CatalogError as error:
        raise _fail(error.errors[0] if error.errors else str(error)) from None
    return path


def run_report(job: str, env: str, prepare: Callable[[Any, datetime], None] | None = None) -> dict[str, Any]:
    """Start the sandbox, prepare it (seed history), run the job's function once; its answer."""
    from functions.maintenance import function_name
    from sandbox.core import Sandbox

    path = _catalog_path(env)
    with err.status(f"starting the sandbox ({env}) and running {function_name_for(job, env)}…"):
        sandbox = Sandbox(env, catalog_path=path).start()
        try:
            now = datetime.now(UTC).replace(microsecond=0)
            if prepare is not None:
                prepare(sandbox, now)
            spec = sandbox.function(function_name(sandbox.catalog, job))
            logs: list[str] = []
            try:
                result = sandbox.invoke(spec, {"job": job, "scheduled_time": now.isoformat()}, logs)
            except Exception as error:  # the function's own failure: what Lambda would log
                raise _fail(f"{spec.name} failed: {type(error).__name__}: {str(error).splitlines()[0][:300]}",
                            1) from None
        finally:
            _stop(sandbox)
    if not isinstance(result, dict):
        raise _fail(f"{job}: unexpected answer {result!r:.200}", 1)
    return result


def function_name_for(job: str, env: str) -> str:
    return f"remedy-{env}-{job.replace('_', '-')}"


def _stop(sandbox: Any) -> None:
    from sandbox.redshift_wiring import detach_redshift

    detach_redshift(sandbox)
    sandbox.stop()


def _emit(result: dict[str, Any], as_json: bool, show: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        show(result)
        where = result.get("key", "")
        out.print(f"\n[dim]{result.get('status')}: kept as {where} in the reports bucket"
                  + ("; sent to the on-call topic" if result.get("status") == "REPORTED" and result.get("job") !=
                     "posture" else "") + "[/dim]", highlight=False)
    if result.get("status") not in ("REPORTED", "ALREADY_REPORTED"):
        raise _fail(f"{result.get('job')}: {result.get('status')}: {result.get('reason', '')}", 1)


# --- weekly ----------------------------------------------------------------------------------------------

@report_app.command()
def weekly(env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Weekly review: alarms fired and for how long, remediations by outcome, recovery times, threshold
    candidates, backup posture (the sandbox is seeded with a week of history)."""

    def prepare(sandbox: Any, now: datetime) -> None:
        from functions.maintenance import function_name
        from sandbox.seed_maintenance import seed_week

        seed_week(sandbox.catalog, sandbox.account, now)
        sandbox.invoke(sandbox.function(function_name(sandbox.catalog, "posture")), {"job": "posture"})

    _emit(run_report("weekly_review", env, prepare), as_json, _show_weekly)


def _show_weekly(result: dict[str, Any]) -> None:
    report = result["report"]
    window = f"{report['window_start'][:16]} → {report['window_end'][:16]} UTC"
    out.print(f"[bold]{escape(result['subject'])}[/bold]  ({window})", highlight=False)
    for week in report["pipelines"]:
        table = Table(title=f"pipeline {week['name']}", title_justify="left", show_edge=False)
        table.add_column("alarm (signal, component)", no_wrap=True)
        for column in ("fired", "in ALARM min", "longest min", "% of week"):
            table.add_column(column, justify="right")
        for alarm in week["alarms"]:
            table.add_row(f"{alarm['signal']} {alarm['component']}", str(alarm["fired"]),
                          f"{alarm['minutes_in_alarm']:.0f}", f"{alarm['longest_minutes']:.0f}",
                          f"{alarm['percent_of_week']:.0f}")
        out.print(table)
        outcomes = Table(show_edge=False)
        for column in ("playbook", "verified", "failed", "refused", "awaiting approval", "other"):
            outcomes.add_column(column, justify="left" if column in ("playbook", "other") else "right")
        for t in week["remediations"]:
            other = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(t["other"].items()))
            outcomes.add_row(t["playbook"], str(t["verified"]), str(t["failed"]), str(t["refused"]),
                             str(t["awaiting_approval"]), other)
        if week["remediations"]:
            out.print(outcomes)
        recovery = week["recovery"]
        if recovery["count"]:
            out.print(f"  alarm → verified recovery: median {recovery['median_minutes']:.0f} min, worst "
                      f"{recovery['worst_minutes']:.0f} min over {recovery['count']}; "
                      f"{week['duplicates']} duplicate deliveries answered without acting", highlight=False)
    noisy = [c for c in report["threshold_candidates"] if c["kind"] == "fires_constantly"]
    quiet = [c for c in report["threshold_candidates"] if c["kind"] == "never_fired"]
    out.print("\n[bold]threshold candidates[/bold]")
    for c in noisy:
        out.print(f"  [yellow]fires constantly[/yellow] {escape(c['alarm_name'])}: {escape(c['reason'])}",
                  highlight=False)
    if quiet:
        out.print(f"  [cyan]never fired[/cyan] {len(quiet)} alarms: "
                  + ", ".join(c["alarm_name"].split("/", 1)[1] for c in quiet), highlight=False)
    style = "green" if "kept" in report["posture_summary"] and "broken" not in report["posture_summary"] else "red"
    out.print(f"\n[bold]backup posture[/bold] [{style}]{report['posture_summary']}[/{style}]", highlight=False)


# --- redshift --------------------------------------------------------------------------------------------

@report_app.command()
def redshift(env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Monthly Redshift analysis: slowest and most frequent queries, WLM queue waits, stale statistics and
    unsorted tables, disk trend, recommendations (the stand-in is seeded with a month of history)."""

    def prepare(sandbox: Any, now: datetime) -> None:
        from sandbox import redshift_history
        from sandbox.redshift_wiring import reset_redshift

        standin = reset_redshift(sandbox)
        redshift_history.seed_month(standin, sandbox.catalog, now)
        redshift_history.seed_previous_analyses(sandbox, now)

    _emit(run_report("redshift_analysis", env, prepare), as_json, _show_redshift)


def _show_redshift(result: dict[str, Any]) -> None:
    report = result["report"]
    out.print(f"[bold]{escape(result['subject'])}[/bold]", highlight=False)
    for title, rows in (("slowest queries", report["slowest"]), ("most frequent queries", report["frequent"])):
        table = Table(title=title, title_justify="left", show_edge=False)
        for column in ("runs", "avg s", "max s", "total s", "query"):
            table.add_column(column, justify="left" if column == "query" else "right")
        for q in rows[:5]:
            table.add_row(str(q["runs"]), f"{q['avg_seconds']:,.1f}", f"{q['max_seconds']:,.1f}",
                          f"{q['total_seconds']:,.0f}", escape(q["sql"][:80]))
        out.print(table)
    _show_queues_and_tables(report)
    disk = report.get("disk")
    if disk:
        trend = " → ".join(f"{p['period']} {p['used_percent']:.0f}%" for p in disk["history"])
        out.print(f"[bold]disk[/bold] {disk['used_percent']:.1f}% used: {trend}", highlight=False)
    out.print("\n[bold]recommendations[/bold]")
    for r in report["recommendations"]:
        out.print(f"  [yellow]{r['kind']}[/yellow] {escape(r['target'])}: {escape(r['reason'])}", highlight=False)
        if r["command"]:
            out.print(f"      [cyan]{escape(r['command'])}[/cyan]", highlight=False)
    if not report["recommendations"]:
        out.print("  none")


def _show_queues_and_tables(report: dict[str, Any]) -> None:
    queues = Table(title="WLM queues", title_justify="left", show_edge=False)
    for column in ("queue", "class", "slots", "queries", "avg wait s", "p90 wait s", "max wait s"):
        queues.add_column(column, justify="left" if column == "queue" else "right")
    for q in report["queues"]:
        queues.add_row(q["name"], str(q["service_class"]), str(q["slots"] or "?"), str(q["queries"]),
                       f"{q['avg_wait_seconds']:.1f}", f"{q['p90_wait_seconds']:.1f}", f"{q['max_wait_seconds']:.1f}")
    out.print(queues)
    tables = Table(title="catalog tables", title_justify="left", show_edge=False)
    for column in ("table", "stats off %", "unsorted %", "MB", "rows"):
        tables.add_column(column, justify="left" if column == "table" else "right")
    for t in report["tables"]:
        tables.add_row(t["table"], _num(t["stats_off"]), _num(t["unsorted"]), str(t["size_mb"]), f"{t['rows']:,}")
    out.print(tables)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


# --- lifecycle -------------------------------------------------------------------------------------------

@report_app.command()
def lifecycle(env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Quarterly S3 lifecycle review of the data lake bucket, per zone prefix."""
    _emit(run_report("lifecycle_review", env), as_json, _show_lifecycle)


def _show_lifecycle(result: dict[str, Any]) -> None:
    report = result["report"]
    out.print(f"[bold]{escape(result['subject'])}[/bold] (versioning {report['versioning'].lower()})", highlight=False)
    table = Table(show_edge=False)
    for column in ("zone", "rules", "current objects", "noncurrent", "findings"):
        table.add_column(column)
    for zone in report["zones"]:
        rules = "\n".join(f"{r['id']} [{r['status']}]: " + ", ".join(
            [*r["transitions"], *([f"expire {r['expiration_days']} d"] if r["expiration_days"] else []),
             *([f"noncurrent expire {r['noncurrent_expiration_days']} d"] if r["noncurrent_expiration_days"] else [])])
            for r in zone["rules"]) or "[red]none[/red]"
        stored = "\n".join(f"{c['storage_class']}: {c['objects']} ({c['bytes']:,} B)" for c in zone["current"]) or "-"
        table.add_row(f"{zone['zone']}\n{zone['prefix']}", rules, stored,
                      f"{zone['noncurrent_versions']} ({zone['noncurrent_bytes']:,} B)",
                      "\n".join(f"[yellow]{escape(f)}[/yellow]" for f in zone["flags"]) or "[green]ok[/green]")
    out.print(table)


# --- posture ---------------------------------------------------------------------------------------------

@report_app.command()
def posture(env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Backup and recovery posture: Redshift snapshots, S3 versioning and lifecycle, Terraform state."""
    _emit(run_report("posture", env), as_json, _show_posture)


def _show_posture(result: dict[str, Any]) -> None:
    report = result["report"]
    out.print(f"[bold]{escape(result['subject'])}[/bold]", highlight=False)
    table = Table(show_edge=False)
    table.add_column("promise", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("checks")
    for p in report["promises"]:
        checks = "\n".join(f"{'ok' if c['ok'] else '[red]NO[/red]'} {c['name']}: {escape(c['detail'])}"
                            for c in p["checks"])
        table.add_row(f"{p['promise']}\n{p['resource']}", "[green]kept[/green]" if p["kept"] else "[red]BROKEN[/red]",
                      checks)
    out.print(table)
    out.print("alarms: " + ", ".join(p["alarm_name"] for p in report["promises"]), highlight=False)


if __name__ == "__main__":  # pragma: no cover
    report_app()
    sys.exit(0)
