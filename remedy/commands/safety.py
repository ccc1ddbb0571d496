"""`remedy snooze`, `remedy freeze`, `remedy mode`: the guard's rules a person sets (docs/safety.md).

    remedy snooze RESOURCE --for 2h --reason TEXT     leave one resource alone (diagnosed, notified, not acted on)
    remedy snooze list | remedy snooze cancel RESOURCE
    remedy freeze                                      the freezes in force now (catalog windows and ad-hoc)
    remedy freeze now --for 6h --reason TEXT           auto behaves as approve; procedures ask before each step
    remedy freeze cancel ID
    remedy mode list                                   every playbook's (and action's) effective mode and why
    remedy mode set PLAYBOOK[.ACTION] auto --reason TEXT

Setting and cancelling go through the answer function's IAM-authenticated URL (remedy.commands.incident.
send_answer: SigV4 with your credentials), so who set it is the identity AWS verified, and the catalog's
allow-lists decide whether you may. Listing reads the breaker table directly (dynamodb:GetItem/Scan).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from remedy.commands.incident import Clients, IncidentError, _boto, _catalog, _run, send_answer

out = Console(soft_wrap=True)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}

EnvOption = Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]
ForOption = Annotated[str, typer.Option("--for", help="How long: 90m, 2h, 3d")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (the audit trail and the next person read it)")]


def parse_for(text: str) -> int:
    """'90m', '2h', '3d' -> minutes; IncidentError (one line) otherwise."""
    found = re.fullmatch(r"\s*([1-9][0-9]{0,4})\s*([mhd])\s*", text or "")
    if found is None:
        raise IncidentError(f"--for {text[:40]!r}: a duration like 90m, 2h or 3d")
    return int(timedelta(**{_UNITS[found.group(2)]: int(found.group(1))}).total_seconds() // 60)


def _store(clients: Clients, catalog: Any) -> Any:
    from functions.core.adapters.clients import Clients as LazyClients
    from functions.core.adapters.safety import DynamoSafety
    from infra.names import breaker_table

    return DynamoSafety(LazyClients({"dynamodb": clients("dynamodb")}), breaker_table(catalog))


def setting(clients: Clients, catalog: Any, body: dict[str, Any], credentials: Any = None) -> dict[str, Any]:
    """Send one setting through the answer function, signed as the holder of `credentials` (default: yours);
    its result, or IncidentError with the one line that refused it."""
    result = send_answer(clients, catalog, body, credentials)
    if result.get("outcome") != "DONE":
        rule = f" [{result['rule']}]" if result.get("rule") else ""
        raise IncidentError(f"{result.get('message', 'refused')}{rule}")
    return result


# -- readers (direct) ----------------------------------------------------------------------------------------

def snooze_rows(clients: Clients, catalog: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    from functions.core.safety import snoozes

    return [s.model_dump(mode="json") for s in snoozes(_store(clients, catalog), now or datetime.now(UTC))]


def freeze_rows(clients: Clients, catalog: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    from functions.core.safety import freezes

    return [f.model_dump(mode="json") for f in freezes(catalog, _store(clients, catalog), now or datetime.now(UTC))]


def mode_rows(clients: Clients, catalog: Any) -> list[dict[str, Any]]:
    from functions.core.autonomy import listing

    state = _store(clients, catalog).load_modes()[1]
    return [{"key": e.key, "mode": e.mode.value, "start": e.bounds.start.value, "floor": e.bounds.floor.value,
             "ceiling": e.bounds.ceiling.value, "why": e.why} for e in listing(catalog, state)]


# -- the commands ------------------------------------------------------------------------------------------

def _print(rows: list[dict[str, Any]], as_json: bool, title: str, columns: list[tuple[str, str]],
           empty: str) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        out.print(empty, highlight=False, markup=False)
        return
    table = Table(title=title, title_justify="left")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(str(row.get(key, "")) for _, key in columns))
    out.print(table)


def _done(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        out.print(result.get("message", ""), highlight=False, markup=False)


def snooze_command(
    what: Annotated[str, typer.Argument(help="RESOURCE (glue:orders-stream or orders-stream) | list | cancel")],
    resource: Annotated[str | None, typer.Argument(help="cancel: the resource")] = None,
    for_: ForOption = "", reason: ReasonOption = "", env: EnvOption = "dev", as_json: JsonOption = False,
) -> None:
    """Leave one resource alone for a while (diagnosed and notified, never acted on); `list`, `cancel RESOURCE`."""
    catalog = _catalog(env)
    clients = _boto(catalog)
    if what == "list":
        rows = _run(lambda: snooze_rows(clients, catalog))
        _print(rows, as_json, f"Snoozes in force ({catalog.prefix})",
               [("resource", "resource"), ("until (UTC)", "until"), ("set by", "set_by"), ("reason", "reason")],
               "no snooze in force")
        return
    if what == "cancel":
        if not resource:
            raise _usage("remedy snooze cancel RESOURCE")
        _done(_run(lambda: setting(clients, catalog, {"kind": "snooze_cancel", "target": resource})), as_json)
        return
    if not for_ or not reason:
        raise _usage("remedy snooze RESOURCE --for 2h --reason TEXT")
    minutes = _run(lambda: parse_for(for_))
    _done(_run(lambda: setting(clients, catalog, {"kind": "snooze", "target": what, "minutes": minutes,
                                                  "reason": reason})), as_json)


def freeze_command(
    what: Annotated[str, typer.Argument(help="list (default) | now | cancel")] = "list",
    freeze_id: Annotated[str | None, typer.Argument(help="cancel: the freeze id (fz-…)")] = None,
    for_: ForOption = "", reason: ReasonOption = "",
    name: Annotated[str, typer.Option("--name", help="now: a name for the freeze")] = "",
    env: EnvOption = "dev", as_json: JsonOption = False,
) -> None:
    """Change freezes: the ones in force (`remedy freeze`), `now --for 6h --reason`, `cancel ID`."""
    catalog = _catalog(env)
    clients = _boto(catalog)
    if what == "list":
        rows = _run(lambda: freeze_rows(clients, catalog))
        _print(rows, as_json, f"Change freezes in force ({catalog.prefix}): auto behaves as approve",
               [("id", "id"), ("name", "name"), ("from (UTC)", "start"), ("until (UTC)", "until"),
                ("set by", "set_by"), ("reason", "reason")], "no change freeze in force")
        return
    if what == "cancel":
        if not freeze_id:
            raise _usage("remedy freeze cancel ID")
        _done(_run(lambda: setting(clients, catalog, {"kind": "freeze_cancel", "target": freeze_id})), as_json)
        return
    if what != "now" or not for_ or not reason:
        raise _usage("remedy freeze now --for 6h --reason TEXT")
    minutes = _run(lambda: parse_for(for_))
    _done(_run(lambda: setting(clients, catalog, {"kind": "freeze", "minutes": minutes, "reason": reason,
                                                  "name": name})), as_json)


mode_app = typer.Typer(no_args_is_help=True, help="Earned autonomy: each playbook's effective mode and why.")


@mode_app.command("list")
def mode_list_command(env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Every playbook (and action with its own bounds or record): effective mode, floor, ceiling, why."""
    catalog = _catalog(env)
    clients = _boto(catalog)
    rows = _run(lambda: mode_rows(clients, catalog))
    _print(rows, as_json, f"Effective modes ({catalog.prefix})",
           [("playbook[.action]", "key"), ("mode", "mode"), ("floor", "floor"), ("ceiling", "ceiling"),
            ("why", "why")], "no playbook")


@mode_app.command("set")
def mode_set_command(
    key: Annotated[str, typer.Argument(help="PLAYBOOK or PLAYBOOK.ACTION")],
    mode: Annotated[str, typer.Argument(help="observe | recommend | approve | auto (at most the ceiling)")],
    reason: ReasonOption = "", env: EnvOption = "dev", as_json: JsonOption = False,
) -> None:
    """Set the effective mode (a promotion the weekly review recommended, or a step back), as you."""
    if mode not in ("observe", "recommend", "approve", "auto"):
        raise _usage("remedy mode set PLAYBOOK[.ACTION] observe|recommend|approve|auto --reason TEXT")
    if not reason:
        raise _usage("remedy mode set PLAYBOOK[.ACTION] MODE --reason TEXT (the reason is required)")
    catalog = _catalog(env)
    playbook = key.split(".", 1)[0]
    if playbook not in catalog.guardrails.playbooks:  # refused here, before any credentials or call
        known = ", ".join(sorted(catalog.guardrails.playbooks))
        raise _usage(f"remedy mode set PLAYBOOK[.ACTION] MODE: no playbook {playbook!r} in the {env} catalog "
                     f"(known: {known})")
    clients = _boto(catalog)
    _done(_run(lambda: setting(clients, catalog, {"kind": "mode", "target": key, "mode": mode,
                                                  "reason": reason})), as_json)


def _usage(line: str) -> typer.Exit:
    from remedy.commands.incident import _fail

    return _fail(f"usage: {line}")
