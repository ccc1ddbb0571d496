"""`remedy incident start|status|approve|reject|extend`: the emergency and scaling procedures (Step Functions),
and the answers to playbook actions awaiting approval.

    remedy incident start data-corruption --table analytics.fact_sales --from 2026-11-25T09:00Z --to 2026-11-25T10:00Z
    remedy incident status data-corruption-20261125-1a2b3c
    remedy incident approve data-corruption-20261125-1a2b3c --reason "checked the counts"
    remedy incident reject  data-corruption-20261125-1a2b3c --reason "restore tonight instead"

The commands talk to whatever AWS endpoint boto3 is configured for: the account in your AWS credentials, or
an emulated one through AWS_ENDPOINT_URL. The same operations are Python functions (start, status, approve,
reject, wait) that the game day and the tests call in-process with the sandbox's clients.

`approve`, `reject` and `extend` answer through the answer function (functions/answers), the one answer path
for playbook actions (ID is then the approval id, ap-… in the notification, or the playbook incident's id) and
procedure approvals: the command signs an HTTPS request to the function's URL with your AWS credentials (SigV4,
service lambda; the URL's AuthType is AWS_IAM), so the identity recorded is the one AWS verified, never one the
command claims. The catalog's allow-list and two-person rule decide whether you may answer; `--by` is only a
name shown next to your verified ARN. Nobody's credentials can send a task token's answer themselves (IAM: only
the answer function may; docs/security.md).

Input is validated before anything is called (functions/procedures/inputs.py): bad input is one line on
stderr, exit code 2, nothing started. Execution names are <procedure>--<incident id>: a second start of the
same incident is refused by Step Functions (ExecutionAlreadyExists), reported in one line, exit 2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

incident_app = typer.Typer(no_args_is_help=True,
                           help="Emergency and scaling procedures: start, follow, approve or reject (Step Functions).")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Clients = Callable[[str], Any]  # service name -> boto3 client (boto3.client, or Sandbox.client)


class IncidentError(Exception):
    """A refused request: printed as one line, exit code 2."""


# -- the operations (in-process API) ------------------------------------------------------------------------

def execution_arn(catalog: Any, procedure: str, incident_id: str) -> str:
    from functions.procedures import execution_name, state_machine_name
    from infra.names import partition_for

    return (f"arn:{partition_for(catalog.region)}:states:{catalog.region}:{catalog.account_id}:execution:"
            f"{state_machine_name(catalog.prefix, procedure)}:{execution_name(procedure, incident_id)}")


def state_machine_arn(catalog: Any, procedure: str) -> str:
    from functions.procedures import state_machine_name
    from infra.names import partition_for

    return (f"arn:{partition_for(catalog.region)}:states:{catalog.region}:{catalog.account_id}:stateMachine:"
            f"{state_machine_name(catalog.prefix, procedure)}")


def prepare(catalog: Any, procedure: str, options: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The execution input: options validated against the procedure's schema and the catalog, defaults
    filled in (incident id, approval window, poll interval). InputRefused (one line) otherwise."""
    from functions.procedures.inputs import default_incident_id, validate

    now = now or datetime.now(UTC)
    data = {k: v for k, v in options.items() if v not in (None, [], "")}
    data.setdefault("approval_timeout_seconds", catalog.procedures.approval_timeout_minutes * 60)
    data.setdefault("poll_seconds", catalog.procedures.poll_seconds)
    if procedure == "service-outage":
        data.setdefault("window_hours", catalog.procedures.evidence_window_hours)
    data.setdefault("incident_id", default_incident_id(procedure, data, now))
    parsed = validate(procedure, data, catalog, now)
    return json.loads(parsed.model_dump_json())


def start(clients: Clients, catalog: Any, procedure: str, options: dict[str, Any],
          now: datetime | None = None) -> dict[str, Any]:
    """Validate and start one procedure run. IncidentError when the same incident was started before."""
    from botocore.exceptions import ClientError

    from functions.procedures import execution_name

    data = prepare(catalog, procedure, options, now)
    incident = data["incident_id"]
    sfn = clients("stepfunctions")
    try:  # Step Functions answers a repeated start with the same input as success while the run goes on
        earlier = sfn.describe_execution(executionArn=execution_arn(catalog, procedure, incident))
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"ExecutionDoesNotExist", "StateMachineDoesNotExist"}:
            raise
    else:
        raise IncidentError(f"{procedure} {incident} was started before ({earlier['status']} since "
                            f"{earlier['startDate']:%Y-%m-%d %H:%M:%S}Z): not started again (see remedy incident "
                            f"status {incident}; a new incident needs --incident ID)")
    try:
        started = sfn.start_execution(
            stateMachineArn=state_machine_arn(catalog, procedure), name=execution_name(procedure, incident),
            input=json.dumps(data))
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
            raise IncidentError(f"{procedure} {incident} was started before: not started again (see remedy "
                                f"incident status {incident}; a new incident needs --incident ID)") from None
        if error.response["Error"]["Code"] == "StateMachineDoesNotExist":
            raise IncidentError(f"no state machine {state_machine_arn(catalog, procedure)}: is the procedures "
                                f"stack deployed (make deploy)?") from None
        raise
    return {"procedure": procedure, "incident_id": incident, "execution": started["executionArn"],
            "started": str(started["startDate"]), "input": data}


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    request: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**request)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        request["nextToken"] = page["nextToken"]


def _timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per state entered: its name, when, and how it ended (ok / failed: error / waiting)."""
    steps: list[dict[str, Any]] = []
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            steps.append({"state": event["stateEnteredEventDetails"]["name"], "at": str(event["timestamp"]),
                          "result": "running"})
        elif kind.endswith("StateExited"):
            name = event.get("stateExitedEventDetails", {}).get("name")
            step = next((s for s in reversed(steps) if s["state"] == name), None)
            if step is not None and step["result"] in ("running", "waiting"):
                step["result"] = "ok"
        elif kind == "TaskSubmitted" and steps:
            steps[-1]["result"] = "waiting"
        elif (kind.endswith("Failed") or kind.endswith("TimedOut") or kind == "ExecutionAborted") and steps:
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            if steps[-1]["result"] in ("running", "waiting"):
                steps[-1]["result"] = f"failed: {details.get('error', kind)}"
    return steps


def status(clients: Clients, catalog: Any, incident_id: str) -> dict[str, Any]:
    """Every run of the incident (one per procedure started with its id): status, the states it went
    through, what waits for an answer, and the incident's audit trail."""
    from botocore.exceptions import ClientError

    from functions.core.adapters.clients import Clients as LazyClients
    from functions.procedures import PROCEDURES, approvals_table_name
    from functions.procedures.adapters import ApprovalTable

    sfn = clients("stepfunctions")
    runs = []
    for procedure in PROCEDURES:
        arn = execution_arn(catalog, procedure, incident_id)
        try:
            described = sfn.describe_execution(executionArn=arn)
        except ClientError as error:
            if error.response["Error"]["Code"] in {"ExecutionDoesNotExist", "StateMachineDoesNotExist"}:
                continue
            raise
        run = {"procedure": procedure, "execution": arn, "status": described["status"],
               "started": str(described["startDate"]), "stopped": str(described.get("stopDate", "")),
               "error": described.get("error", ""), "cause": described.get("cause", ""),
               "steps": _timeline(_history(sfn, arn))}
        runs.append(run)
    table = ApprovalTable(LazyClients({"dynamodb": clients("dynamodb")}), approvals_table_name(catalog.prefix))
    approvals = table.items(incident_id)
    audit = _audit(clients, catalog, incident_id)
    return {"incident_id": incident_id, "runs": runs, "approvals": approvals, "audit": audit}


def _audit(clients: Clients, catalog: Any, incident_id: str) -> list[dict[str, Any]]:
    from infra.names import audit_table

    pages = clients("dynamodb").get_paginator("query").paginate(
        TableName=audit_table(catalog), KeyConditionExpression="incident_id = :i",
        ExpressionAttributeValues={":i": {"S": incident_id}})
    records = [audit_record(item) for page in pages for item in page["Items"]]
    return sorted(records, key=lambda r: r["at"])


def audit_record(item: dict[str, Any]) -> dict[str, Any]:
    """One audit table item as {incident_id, kind, at, payload} (a payload that is not JSON reads as {})."""
    try:
        payload = json.loads(item.get("payload", {}).get("S", "{}"))
    except ValueError:
        payload = {}
    return {"incident_id": item["incident_id"]["S"], "kind": item["kind"]["S"], "at": item.get("at", {}).get("S", ""),
            "payload": payload}


def answer_url(clients: Clients, catalog: Any) -> str:
    """The answer function's URL (lambda:GetFunctionUrlConfig: the URL's id is Lambda's, not derivable)."""
    from functions.answers import answer_function_name

    return str(clients("lambda").get_function_url_config(FunctionName=answer_function_name(catalog.prefix))
               ["FunctionUrl"])


def _signing_credentials(credentials: Any) -> Any:
    """botocore credentials to sign with: given (a dict of AWS_* variables, or credentials), else the default
    chain's, as the SDK's clients resolve them (profile, SSO, environment, instance role)."""
    from botocore.credentials import Credentials

    if isinstance(credentials, dict):
        return Credentials(credentials["AWS_ACCESS_KEY_ID"], credentials["AWS_SECRET_ACCESS_KEY"],
                           credentials.get("AWS_SESSION_TOKEN"))
    if credentials is not None:
        return credentials
    import boto3

    found = boto3.session.Session().get_credentials()
    if found is None:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()
    return found.get_frozen_credentials()


def send_answer(clients: Clients, catalog: Any, body: dict[str, Any], credentials: Any = None) -> dict[str, Any]:
    """POST `body` to the answer URL, signed (SigV4, service lambda, the caller's credentials); the answer
    function's result (functions.answers.AnswerResult). IncidentError when Lambda refused the request (403)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = answer_url(clients, catalog)
    if not url.startswith(("https://", "http://")):
        raise IncidentError(f"the answer function's URL is not HTTP(S): {url}")
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=url, data=data, headers={"content-type": "application/json"})
    SigV4Auth(_signing_credentials(credentials), "lambda", catalog.region).add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=data, method="POST",  # noqa: S310 - checked above
                                  headers={k: v for k, v in prepared.headers.items()})
    try:  # one attempt: a retried answer is answered by its dedupe key anyway, but need not be sent twice
        with urllib.request.urlopen(sent, timeout=120) as response:  # noqa: S310 - checked above
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    if status == 403:
        raise IncidentError(f"the answer URL refused the request (403 Forbidden): the signature did not verify, "
                            f"or your identity may not call it (attach {catalog.prefix}-responder to your role: "
                            f"docs/security.md)")
    try:
        return dict(json.loads(raw or b"{}"))
    except ValueError:
        raise IncidentError(f"the answer URL answered {status} without a result") from None


ANSWERED = ("APPROVED", "REJECTED", "EXTENDED")


def _answer(clients: Clients, catalog: Any, ident: str, decision: str, reason: str, procedure: str | None,
            credentials: Any, display: str) -> dict[str, Any]:
    import uuid

    result = send_answer(clients, catalog, {
        "approval": ident, "decision": decision, "reason": reason[:1024], "procedure": procedure,
        "display": display[:128], "dedupe": str(uuid.uuid4())}, credentials)
    if result.get("outcome") not in ANSWERED:
        rule = f" [{result['rule']}]" if result.get("rule") else ""
        raise IncidentError(f"{result.get('message', 'refused')}{rule}")
    detail = result.get("detail") or {}
    answered = {"incident_id": result.get("incident_id") or ident, "procedure": result.get("procedure") or "",
                "decision": result["outcome"], "by": result.get("by", ""), "reason": reason,
                "message": result.get("message", ""), "verified": True}
    if "approval_id" in detail:  # a playbook's action: what its function did
        answered.update(approval_id=detail["approval_id"], action=detail.get("action", ""),
                        outcome=detail.get("outcome") or {})
    else:
        answered.update(step=detail.get("step", ""), execution=detail.get("execution", ""))
    return answered


def approve(clients: Clients, catalog: Any, incident_id: str, reason: str = "", procedure: str | None = None,
            *, credentials: Any = None, display: str = "") -> dict[str, Any]:
    """Answer the waiting approval with yes (a playbook's action, carried out by its function; or a procedure's,
    which goes on): through the answer function, as the holder of `credentials` (default: yours)."""
    return _answer(clients, catalog, incident_id, "approve", reason, procedure, credentials, display)


def reject(clients: Clients, catalog: Any, incident_id: str, reason: str = "", procedure: str | None = None,
           *, credentials: Any = None, display: str = "") -> dict[str, Any]:
    """Answer with no: a playbook's action is dropped (recorded, nothing done); a procedure takes its failure
    path (SendTaskFailure Remedy.Rejected, sent by the answer function)."""
    return _answer(clients, catalog, incident_id, "reject", reason, procedure, credentials, display)


def extend(clients: Clients, catalog: Any, incident_id: str, procedure: str | None = None,
           *, credentials: Any = None) -> dict[str, Any]:
    """A heartbeat on the waiting approval (sent by the answer function): another full answer window, up to
    the state's one-day cap."""
    return _answer(clients, catalog, incident_id, "extend", "", procedure, credentials, "")


def _approvals(clients: Clients, catalog: Any) -> Any:
    from functions.core.adapters.clients import Clients as LazyClients
    from functions.core.adapters.dynamodb import DynamoApprovals
    from infra.names import breaker_table

    return DynamoApprovals(LazyClients({"dynamodb": clients("dynamodb")}), breaker_table(catalog))


def caller(clients: Clients) -> str:
    """The caller's AWS identity (STS GetCallerIdentity, which needs no permission): who started a procedure."""
    try:
        return str(clients("sts").get_caller_identity()["Arn"])
    except Exception:  # an endpoint without STS: nobody in particular
        return ""


def wait(clients: Clients, catalog: Any, procedure: str, incident_id: str, timeout: float = 60.0,
         poll: float = 0.05, until_end: bool = False) -> dict[str, Any]:
    """Until the run waits for an approval (unless `until_end`), or has ended: {'status', 'waiting', …}."""
    from functions.core.adapters.clients import Clients as LazyClients
    from functions.procedures import approvals_table_name
    from functions.procedures.adapters import ApprovalTable

    sfn = clients("stepfunctions")
    arn = execution_arn(catalog, procedure, incident_id)
    table = ApprovalTable(LazyClients({"dynamodb": clients("dynamodb")}), approvals_table_name(catalog.prefix))
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return {"status": described["status"], "waiting": False, "execution": arn,
                    "error": described.get("error", ""), "cause": described.get("cause", "")}
        if not until_end and any(p["execution"] == arn for p in table.pending(incident_id)) and _submitted(sfn, arn):
            return {"status": "RUNNING", "waiting": True, "execution": arn, "error": "", "cause": ""}
        if time.monotonic() > deadline:
            raise TimeoutError(f"{procedure} {incident_id} neither ended nor asked for approval in {timeout} s")
        time.sleep(poll)


def _submitted(sfn: Any, arn: str) -> bool:
    """The approval task is waiting on its token (its Lambda has returned)."""
    events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=5)["events"]
    return any(e["type"] == "TaskSubmitted" for e in events)


# -- the commands -------------------------------------------------------------------------------------------

EnvOption = Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]


def _fail(message: str) -> typer.Exit:
    err.print(f"remedy: {message}", markup=False, highlight=False)
    return typer.Exit(2)


def _catalog(env: str) -> Any:
    from functions.core.catalog import CatalogError, catalog_path_for, load_catalog

    path = catalog_path_for(env)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise _fail(f"unknown environment {env!r}: no config/{env}.yaml (known: {known})")
    try:
        return load_catalog(path)
    except CatalogError as error:
        raise _fail(error.errors[0] if error.errors else str(error)) from None


def _boto(catalog: Any) -> Clients:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=catalog.region)
    made: dict[str, Any] = {}
    # An approval's answer waits for the playbook function (timeout 60 s): read long enough, and never retried by
    # the SDK (a retry would arrive as a second answer, refused as answered already, and hide the first's result).
    lambda_config = Config(read_timeout=120, connect_timeout=10, retries={"total_max_attempts": 1})

    def client(service: str) -> Any:
        if service not in made:
            made[service] = session.client(service, config=lambda_config) if service == "lambda" else \
                session.client(service)
        return made[service]

    return client


def _run(action: Callable[[], Any]) -> Any:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    from functions.procedures.inputs import InputRefused

    try:
        return action()
    except (InputRefused, IncidentError) as error:
        raise _fail(str(error)) from None
    except NoCredentialsError:
        raise _fail("no AWS credentials found (or set AWS_ENDPOINT_URL for an emulated account)") from None
    except EndpointConnectionError as error:
        raise _fail(f"cannot reach {error.kwargs.get('endpoint_url', 'the endpoint')}") from None
    except ClientError as error:
        raise _fail(f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}") from None


@incident_app.command("start")
def start_command(
    procedure: Annotated[str, typer.Argument(help="service-outage | data-corruption | security-incident | "
                                                  "scale-glue | scale-msk | scale-redshift")],
    incident: Annotated[str | None, typer.Option("--incident", help="Incident id (default: derived from the "
                                                                    "input and the day)")] = None,
    table: Annotated[list[str] | None, typer.Option("--table", help="data-corruption: schema.table (repeat)")] = None,
    prefix: Annotated[list[str] | None, typer.Option("--prefix", help="data-corruption: S3 prefix (repeat)")] = None,
    start_at: Annotated[str | None, typer.Option("--from", help="Range start, ISO 8601 with zone")] = None,
    end_at: Annotated[str | None, typer.Option("--to", help="Range end, ISO 8601 with zone")] = None,
    principal: Annotated[str | None, typer.Option("--principal", help="security-incident: user/role ARN, "
                                                                      "user/NAME, role/NAME or access key id")] = None,
    job: Annotated[str | None, typer.Option("--job", help="scale-glue: the Glue job")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="scale-glue: worker count")] = None,
    worker_type: Annotated[str | None, typer.Option("--worker-type", help="scale-glue: G.1X, G.2X, …")] = None,
    brokers: Annotated[int | None, typer.Option("--brokers", help="scale-msk: broker count")] = None,
    nodes: Annotated[int | None, typer.Option("--nodes", help="scale-redshift: node count")] = None,
    node_type: Annotated[str | None, typer.Option("--node-type", help="scale-redshift: node type")] = None,
    window_hours: Annotated[int | None, typer.Option("--window-hours", help="service-outage: evidence window")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with the run)")] = "",
    approval_minutes: Annotated[int | None, typer.Option("--approval-minutes",
                                                         help="How long the approval waits for an answer")] = None,
    env: EnvOption = "dev",
    as_json: JsonOption = False,
) -> None:
    """Start a procedure (validated first: bad input is refused with one line, nothing is started)."""
    catalog = _catalog(env)
    options = {"incident_id": incident, "tables": table, "prefixes": prefix, "start": start_at, "end": end_at,
               "principal": principal, "job": job, "workers": workers, "worker_type": worker_type,
               "brokers": brokers, "nodes": nodes, "node_type": node_type, "window_hours": window_hours,
               "reason": reason, "approval_timeout_seconds": approval_minutes * 60 if approval_minutes else None}
    from functions.procedures.inputs import INPUTS, InputRefused

    if procedure not in INPUTS:
        raise _fail(f"unknown procedure {procedure!r} (known: {', '.join(INPUTS)})")
    try:
        prepare(catalog, procedure, options)  # refuse bad input before touching AWS (no credentials needed)
    except InputRefused as error:
        raise _fail(str(error)) from None
    clients = _boto(catalog)
    # Who started it, as STS says (the two-person rule: they may not approve it too).
    options["requested_by"] = _run(lambda: caller(clients))
    result = _run(lambda: start(clients, catalog, procedure, options))
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    out.print(f"started {procedure} {result['incident_id']}\n  execution {result['execution']}\n"
              f"  follow:  remedy incident status {result['incident_id']}", highlight=False, markup=False)


@incident_app.command("status")
def status_command(incident_id: Annotated[str, typer.Argument(help="The incident id")], env: EnvOption = "dev",
                   as_json: JsonOption = False) -> None:
    """Where each run of the incident stands, its states and the answers given (audit trail)."""
    catalog = _catalog(env)
    report = _run(lambda: status(_boto(catalog), catalog, incident_id))
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    if not report["runs"]:
        raise _fail(f"no procedure run for incident {incident_id}")
    print_status(out, report)


def print_status(console: Console, report: dict[str, Any]) -> None:
    for run in report["runs"]:
        console.print(f"{run['procedure']} {report['incident_id']}: {run['status']}  (started {run['started']})"
                      + (f"\n  {run['error']}: {run['cause']}" if run["error"] else ""), highlight=False, markup=False)
        for step in run["steps"]:
            console.print(f"  {step['at'][11:19]}  {step['state']:<28} {step['result']}", highlight=False, markup=False)
    for item in report["approvals"]:
        answered = f" by {item.get('answered_by')}: {item.get('answer_reason')}" if item.get("answered_by") else ""
        console.print(f"approval {item['procedure']}: {item['status']}{answered}", highlight=False, markup=False)
        if item["status"] == "PENDING":
            console.print(f"  approve: remedy incident approve {report['incident_id']}   reject: remedy incident "
                          f"reject {report['incident_id']} --reason TEXT", highlight=False, markup=False)


def _answer_command(incident_id: str, approve_it: bool, reason: str, by: str, procedure: str | None, env: str,
                    as_json: bool) -> None:
    catalog = _catalog(env)
    operation = approve if approve_it else reject
    result = _run(lambda: operation(_boto(catalog), catalog, incident_id, reason, procedure, display=by))
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    elif "approval_id" in result:
        print_playbook_answer(out, result)
    else:
        out.print(f"{result['decision'].lower()} {result['procedure']} {incident_id} (by {result['by']}, verified "
                  f"by AWS)", highlight=False, markup=False)
    outcome = result.get("outcome") or {}
    if result.get("decision") == "APPROVED" and outcome.get("status") in ("REFUSED", "NO_ACTION"):
        raise typer.Exit(2)  # approved, but the guard said no: nothing was carried out (printed above)


def print_playbook_answer(console: Console, result: dict[str, Any]) -> None:
    outcome = result.get("outcome") or {}
    console.print(f"{result['decision'].lower()} {result['action']} ({result['approval_id']}, {result['procedure']}, "
                  f"incident {result['incident_id']}) by {result['by']}", highlight=False, markup=False)
    console.print(f"  {outcome.get('status', '?')}: {outcome.get('summary', '')}", highlight=False, markup=False)
    verification = outcome.get("verification") or {}
    if outcome.get("results"):
        console.print(f"  verification {verification.get('status')}: {verification.get('detail', '')}",
                      highlight=False, markup=False)
    window = outcome.get("follow_up")
    if window and outcome.get("status") == "ACTED":
        console.print(f"  checked again until {str(window.get('due_by', ''))[11:16]}Z (verification window); on "
                      f"call hears the verdict", highlight=False, markup=False)


ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit trail)")]
ByOption = Annotated[str, typer.Option("--by", help="A name shown next to your verified identity (who you are is "
                                                   "what AWS verified from your credentials' signature)")]
ProcedureOption = Annotated[str | None, typer.Option("--procedure", help="Which run, when the incident has "
                                                                         "more than one waiting")]


@incident_app.command("approve")
def approve_command(incident_id: Annotated[str, typer.Argument()], reason: ReasonOption = "", by: ByOption = "",
                    procedure: ProcedureOption = None, env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Approve what the procedure is waiting to do."""
    _answer_command(incident_id, True, reason, by, procedure, env, as_json)


@incident_app.command("reject")
def reject_command(incident_id: Annotated[str, typer.Argument()], reason: ReasonOption = "", by: ByOption = "",
                   procedure: ProcedureOption = None, env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Reject it: the procedure ends in its failure path, saying what is left to do by hand."""
    _answer_command(incident_id, False, reason, by, procedure, env, as_json)


@incident_app.command("extend")
def extend_command(incident_id: Annotated[str, typer.Argument()], procedure: ProcedureOption = None,
                   env: EnvOption = "dev") -> None:
    """More time to answer: a heartbeat restarts the approval's answer window (up to a day in all)."""
    catalog = _catalog(env)
    result = _run(lambda: extend(_boto(catalog), catalog, incident_id, procedure))
    out.print(result["message"], highlight=False, markup=False)
