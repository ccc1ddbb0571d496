"""`remedy incident list | show ID | report ID`: the incidents as on call sees them, from the records the service
keeps (no state of their own).

    remedy incident list [--open] [--since 24h]   playbook incidents, pending approvals, procedure runs: one table
    remedy incident show ID                        the timeline, time to first action, time to recovery
    remedy incident report ID > review.md          a post-incident review draft in Markdown

The readers are those of `remedy incident status` (remedy.commands.incident: the audit trail, the procedures'
executions and approvals table) and the playbooks' approvals in the breaker table; remedy.review tells them.
Registered on the `incident` command group (remedy/cli.py).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from remedy.commands.incident import (
    Clients,
    IncidentError,
    _approvals,
    _boto,
    _catalog,
    _fail,
    _run,
    audit_record,
    incident_app,
    state_machine_arn,
    status,
)

out = Console(soft_wrap=True)

OPEN = {"AWAITING_APPROVAL", "ACTED", "RUNNING", "PENDING", "OPEN"}  # statuses that still need watching
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """'90m', '24h', '7d', '2w' -> a duration; IncidentError (one line) otherwise."""
    found = re.fullmatch(r"\s*([1-9][0-9]{0,4})\s*([mhdw])\s*", text or "")
    if found is None:
        raise IncidentError(f"--since {text[:40]!r}: a duration like 90m, 24h, 7d or 2w")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


# -- readers ------------------------------------------------------------------------------------------------

def _audit_since(clients: Clients, catalog: Any, since: datetime) -> list[dict[str, Any]]:
    """Every audit record written since `since` (a Scan with a filter: the table is keyed by incident)."""
    from infra.names import audit_table

    pages = clients("dynamodb").get_paginator("scan").paginate(
        TableName=audit_table(catalog), FilterExpression="#at >= :since", ExpressionAttributeNames={"#at": "at"},
        ExpressionAttributeValues={":since": {"S": since.strftime("%Y-%m-%dT%H:%M:%S")}})
    return sorted((audit_record(item) for page in pages for item in page["Items"]), key=lambda r: r["at"])


def who_answers(catalog: Any, playbook: str | None = None) -> str:
    """Who may answer, as the catalog says (its approvers' allow-list), else on call."""
    rails = catalog.guardrails.playbooks.get(playbook) if playbook else None
    approvers = getattr(rails, "approvers", None) if rails is not None else getattr(catalog.procedures,
                                                                                     "approvers", None)
    names = [*getattr(approvers, "iam", []), *getattr(approvers, "chat", [])] if approvers is not None else []
    shown = ", ".join(p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] if p.startswith("arn:") else p
                      for p in names[:3])
    return (shown + (f" +{len(names) - 3}" if len(names) > 3 else "")) if names else \
        f"on call ({catalog.notifications.on_call_topic})"


def _playbook_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_incident: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_incident.setdefault(record["incident_id"], []).append(record)
    rows = []
    for ident, items in by_incident.items():
        alarm = next((r["payload"] for r in items if r["kind"] == "incident"), None)
        if alarm is None:
            continue  # a procedure's records (its run is listed from Step Functions) or a duplicate's
        state = "OPEN"
        for r in items:
            if r["kind"] == "outcome":
                state = str(r["payload"].get("status", state))
            elif r["kind"] == "approval_lapsed":
                state = "LAPSED"
        rows.append({"id": ident, "kind": f"playbook {alarm.get('playbook', '')}", "status": state,
                     "since": _time(alarm.get("changed_at")), "resource": alarm.get("resource", ""),
                     "answer": ""})
    return rows


def _approval_rows(clients: Clients, catalog: Any) -> list[dict[str, Any]]:
    from functions.playbooks import PLAYBOOKS

    store = _approvals(clients, catalog)
    rows = []
    for playbook in PLAYBOOKS:
        for raw in store.waiting(playbook):
            rows.append({"id": raw["approval_id"], "kind": f"approval {raw['action']['name']}",
                         "status": "PENDING" + (" (reminded)" if raw.get("reminded_at") else ""),
                         "since": _time(raw.get("requested_at")), "resource": raw["incident"].get("resource", ""),
                         "answer": f"{who_answers(catalog, playbook)} until {str(raw['expires_at'])[11:16]}Z"})
    return rows


def _procedure_rows(clients: Clients, catalog: Any, since: datetime) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    from functions.procedures import PROCEDURES

    sfn, rows = clients("stepfunctions"), []
    for procedure in PROCEDURES:
        try:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=state_machine_arn(catalog, procedure))
            executions = [e for page in pages for e in page["executions"]]
        except ClientError as error:
            if error.response["Error"]["Code"] == "StateMachineDoesNotExist":
                continue
            raise
        for execution in executions:
            started = execution["startDate"].astimezone(UTC)
            if started < since and execution["status"] != "RUNNING":
                continue
            incident = execution["name"].split("--", 1)[-1]
            rows.append({"id": incident, "kind": f"procedure {procedure}", "status": execution["status"],
                         "since": started, "resource": _procedure_resource(execution),
                         "answer": who_answers(catalog) if execution["status"] == "RUNNING" else ""})
    return rows


def _procedure_resource(execution: dict[str, Any]) -> str:
    return str(execution.get("stateMachineArn", "")).rsplit(":", 1)[-1]


def _time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def incidents(clients: Clients, catalog: Any, since: timedelta = timedelta(hours=24), only_open: bool = False,
              now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per playbook incident, pending approval and procedure run since `now - since` (newest first)."""
    now = now or datetime.now(UTC)
    start = now - since
    rows = (_playbook_rows(_audit_since(clients, catalog, start)) + _approval_rows(clients, catalog)
            + _procedure_rows(clients, catalog, start))
    if only_open:
        rows = [r for r in rows if r["status"].split()[0] in OPEN]
    return sorted(rows, key=lambda r: r["since"] or now, reverse=True)


def incident_record(clients: Clients, catalog: Any, incident_id: str) -> dict[str, Any]:
    """What the service recorded about one incident: the audit trail, the procedure runs' states, the playbook
    approvals. IncidentError when there is nothing."""
    from remedy import review

    found = status(clients, catalog, incident_id)  # runs, procedure approvals, audit trail
    asked = _approvals(clients, catalog).of_incident(incident_id)
    if not found["audit"] and not found["runs"] and not asked:
        raise IncidentError(f"no incident {incident_id!r}: nothing in the audit trail or the procedures' runs "
                            f"(see remedy incident list --since 7d)")
    steps = [{**step, "procedure": run["procedure"]} for run in found["runs"] for step in run["steps"]]
    return {"incident_id": incident_id, "records": found["audit"], "steps": steps, "runs": found["runs"],
            "approvals": found["approvals"] + asked, "measures": review.measures(found["audit"])}


# -- the commands -------------------------------------------------------------------------------------------

EnvOption = Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]


@incident_app.command("list")
def list_command(only_open: Annotated[bool, typer.Option("--open", help="Only what is not over yet")] = False,
                 since: Annotated[str, typer.Option("--since", help="How far back: 90m, 24h, 7d, 2w")] = "24h",
                 env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Playbook incidents, pending approvals and procedure runs in one table: status, age, resource, who answers."""
    from remedy.review import age

    try:
        window = parse_since(since)
    except IncidentError as error:
        raise _fail(str(error)) from None
    catalog = _catalog(env)
    rows = _run(lambda: incidents(_boto(catalog), catalog, window, only_open))
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        out.print(f"no {'open ' if only_open else ''}incident in the last {since}", highlight=False)
        return
    now = datetime.now(UTC)
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "what", "status", "age", "resource", "who must answer"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["id"], r["kind"], r["status"], age(r["since"], now), r["resource"], r["answer"])
    out.print(table)


@incident_app.command("show")
def show_command(incident_id: Annotated[str, typer.Argument(help="The incident id (remedy incident list)")],
                 env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """The incident's timeline from the audit trail, with time to first action and time to recovery."""
    from remedy import review

    catalog = _catalog(env)
    found = _run(lambda: incident_record(_boto(catalog), catalog, incident_id))
    lines = review.timeline(found["records"], found["steps"])
    if as_json:
        print(json.dumps({**found, "timeline": [line.__dict__ for line in lines]}, indent=2, default=str))
        return
    m = found["measures"]
    out.print(f"incident {incident_id}\n  time to first action {review.duration(m['time_to_first_action'])}   "
              f"time to recovery {review.duration(m['time_to_recovery'])}", highlight=False, markup=False)
    for line in lines:
        out.print(f"  {line.at[:19].replace('T', ' ')}  {line.phase:<12} {line.text}", highlight=False, markup=False)


@incident_app.command("report")
def report_command(incident_id: Annotated[str, typer.Argument(help="The incident id (remedy incident list)")],
                   env: EnvOption = "dev") -> None:
    """A post-incident review draft in Markdown (stdout), from the same records as `show`."""
    from remedy import review

    catalog = _catalog(env)
    found = _run(lambda: incident_record(_boto(catalog), catalog, incident_id))
    print(review.report(incident_id, found["records"], found["steps"], env=env))
