"""`remedy`: validate the catalog, replay an alarm event, run the game day — all without an AWS account.

Exit codes: 0 ok, 1 a game day scenario missed its expected outcome, 2 bad input (catalog, event,
argument) — always one clear line, never a traceback, nothing half-applied.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from functions.core.catalog import CatalogError, catalog_path_for, load_catalog

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Runbook autopilot for the retail data lake: catalog, replay, game day.")
catalog_app = typer.Typer(no_args_is_help=True, help="The pipeline catalog (config/<env>.yaml).")
app.add_typer(catalog_app, name="catalog")
app.add_typer(__import__("remedy.commands.report", fromlist=["report_app"]).report_app, name="report")
app.add_typer(__import__("remedy.commands.incident", fromlist=["incident_app"]).incident_app, name="incident")
__import__("remedy.commands.incidents")  # incident list | show | report, on the same command group
app.add_typer(__import__("remedy.commands.dlq", fromlist=["dlq_app"]).dlq_app, name="dlq")
app.add_typer(__import__("remedy.commands.redshift", fromlist=["redshift_app"]).redshift_app, name="redshift")
app.command("faults")(__import__("remedy.commands.faults", fromlist=["faults"]).faults)  # the fault matrix
app.command("doctor")(__import__("remedy.commands.doctor", fromlist=["doctor_command"]).doctor_command)  # preflight
_safety = __import__("remedy.commands.safety", fromlist=["mode_app"])  # the guard's rules a person sets
app.command("snooze")(_safety.snooze_command)
app.command("freeze")(_safety.freeze_command)
app.add_typer(_safety.mode_app, name="mode")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EnvOption = Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]


class Refused(Exception):
    """Bad input: printed as one line, exit code 2."""


def _catalog_for_env(env: str) -> Path:
    config = catalog_path_for("dev").parent
    known = ", ".join(sorted(p.stem for p in config.glob("*.yaml")))
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", env):  # a name in config/, not a path to somewhere else
        raise Refused(f"unknown environment {env[:60]!r}: environments are named like dev (known: {known})")
    path = catalog_path_for(env)
    if not path.exists():
        raise Refused(f"unknown environment {env!r}: no {path.relative_to(path.parents[1])} (known: {known})")
    return path


@catalog_app.command("endpoints")
def catalog_endpoints(env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """The VPC endpoints the in-VPC functions need (or a NAT path), derived from the synthesized stacks."""
    try:
        catalog_path = _catalog_for_env(env)
        catalog = load_catalog(catalog_path)
    except (Refused, CatalogError) as error:
        err.print(f"remedy: {str(error).splitlines()[0]}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    import infra  # noqa: F401 - quiets jsii's Node banner before aws_cdk starts it
    from infra.network import required_endpoints
    from infra.template import synthesized

    with err.status("synthesizing the stacks…"):
        endpoints = required_endpoints(synthesized(env, catalog_path=catalog_path).templates, catalog.region)
    if as_json:
        print(json.dumps([e.__dict__ for e in endpoints], indent=2))
        return
    egress = catalog.network.egress if catalog.network else "no network section: no function runs in a VPC"
    out.print(f"egress of the private subnets (network.egress): {egress}", highlight=False)
    for e in endpoints:
        out.print(f"  {e.name:<45} {e.kind:<9} for {', '.join(sorted(set(e.functions)))}", highlight=False)
    if catalog.network and catalog.network.egress == "nat":
        out.print("a NAT gateway path serves all of them; endpoints keep the traffic off the internet", highlight=False)


@catalog_app.command("validate")
def catalog_validate(file: Annotated[Path, typer.Argument(help="Catalog file to check")]) -> None:
    """Check a catalog: every error is printed with its path; exit 2 if there is any."""
    try:
        catalog = load_catalog(file)
    except CatalogError as error:
        for line in error.errors:
            err.print(f"{file}: {line}", markup=False, highlight=False)
        if len(error.errors) > 1:
            err.print(f"{file}: {len(error.errors)} errors", style="bold red")
        raise typer.Exit(2) from None
    jobs = len(catalog.glue_jobs)
    out.print(f"{file}: valid — env {catalog.env}, {len(catalog.msk.topics)} topics, {jobs} Glue jobs, "
              f"{len(catalog.redshift.tables)} tables, {len(catalog.lineage)} lineage edges", highlight=False)


@app.command()
def replay(
    event_file: Annotated[Path, typer.Argument(help="An EventBridge event (JSON), e.g. a CloudWatch Alarm "
                                                    "State Change")],
    env: EnvOption = "dev",
    as_json: JsonOption = False,
) -> None:
    """Run one event through the synthesized routing and the matching handler, against the sandbox."""
    event = _read_event(event_file)
    catalog_path = _catalog_for_env(env)
    from remedy.replay import replay_event

    with err.status("starting the sandbox (synthesizing the stacks, seeding the data lake)…"):
        report = replay_event(event, env, catalog_path)
    if as_json:
        print(json.dumps(report, indent=2, default=str))
    else:
        from remedy.render import print_replay

        print_replay(out, report)
    if report["status"] in ("NO_RULE", "REJECTED"):
        err.print(report["reason"], markup=False, highlight=False)
        raise typer.Exit(2)


@app.command()
def gameday(
    scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Run only these (repeatable)")] = None,
    env: EnvOption = "dev",
    as_json: JsonOption = False,
    report_dir: Annotated[Path, typer.Option("--report-dir")] = Path("gameday-report"),
    list_only: Annotated[bool, typer.Option("--list", help="List the scenarios and exit")] = False,
) -> None:
    """Inject each runbook fault into the sandbox and check the service's response."""
    from remedy.gameday import registry

    scenarios = registry.select(scenario or [])
    if list_only:
        for item in registry.all_scenarios():
            out.print(f"{item.name:28} {item.title}  [dim]({item.runbook})[/dim]")
        return
    catalog_path = _catalog_for_env(env)
    from remedy.gameday.runner import run_gameday

    results = run_gameday(scenarios, env, catalog_path, report_dir, out if not as_json else err)
    if as_json:
        print(json.dumps([r.as_dict() for r in results], indent=2, default=str))
    if any(not r.passed for r in results):
        raise typer.Exit(1)


def _read_event(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise Refused(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise Refused(f"{path}: not UTF-8 text (byte {error.start}: {error.reason})") from None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as error:
        raise Refused(f"{path}: not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise Refused(f"{path}: JSON nested too deeply to be an event") from None
    if not isinstance(event, dict):  # refused before the sandbox starts
        from functions.core.events import json_type

        raise Refused(f"{path}: an event is a JSON object, not {json_type(event)}")
    return event


def main() -> None:
    """Console entry point: bad input and unreachable endpoints end in one line, not a traceback."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError  # typer 0.29 carries click

    from remedy.gameday.registry import UnknownScenario
    from sandbox.home import SandboxHomeError

    try:
        # standalone_mode=False: click's usage errors come here instead of its multi-line usage panel.
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as error:  # `remedy`, `remedy incident`: the help, as asked
        error.show()
        sys.exit(2)
    except UsageError as error:  # an unknown option, a value of the wrong type, a missing argument
        names: list[str] = []
        ctx = error.ctx
        while ctx is not None and ctx.parent is not None:  # the subcommand, without how Python was started
            names.insert(0, ctx.info_name or "")
            ctx = ctx.parent
        command = " ".join(["remedy", *names])
        err.print(f"{command}: {' '.join(error.format_message().split())} (see {command} --help)", markup=False,
                  highlight=False)
        sys.exit(2)
    except ClickException as error:
        err.print(f"remedy: {' '.join(error.format_message().split())}", markup=False, highlight=False)
        sys.exit(error.exit_code)
    except typer.Abort:
        err.print("remedy: aborted", markup=False)
        sys.exit(130)
    except (Refused, UnknownScenario, SandboxHomeError) as error:
        err.print(f"remedy: {error}", markup=False, highlight=False)
        sys.exit(2)
    except CatalogError as error:
        err.print(f"remedy: {error.errors[0] if error.errors else error}", markup=False, highlight=False)
        sys.exit(2)
    except EndpointConnectionError as error:
        err.print(f"remedy: cannot reach {error.kwargs.get('endpoint_url', 'the endpoint')}", markup=False)
        sys.exit(2)
    except NoCredentialsError:
        err.print("remedy: no AWS credentials found", markup=False)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
