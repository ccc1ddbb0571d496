"""The fault matrix (`remedy faults`, `make faults`): every AWS call each playbook branch and procedure step
makes, answered with each of four faults, and what the service made of it.

1. **Calls.** Representative game day scenarios of the playbooks, probes and maintenance jobs run once
   (REPRESENTATIVE; `--every-scenario`: all of them), and each procedure once to its end (approved). Every
   call the functions make and every aws-sdk integration of the state machines is recorded by unit (the
   function, or the procedure with all its steps): the matrix's rows, `service:Operation`. The functions are
   told apart from the sandbox's own calls by their access key: each function and each state machine signs with
   its own role's (sandbox.iam), the sandbox with its admin key.
   Before each function invocation the emulated account is checkpointed (sandbox.checkpoint).
2. **Faults.** For each (call, fault) the account goes back to the checkpoint of the first invocation that made
   the call, and the call answers with the fault — every attempt and every occurrence, to the functions and
   state machines only, so botocore's whole retry budget is spent — while the invocation is delivered again
   as EventBridge delivers it (asynchronously: 2 retries, then the on-failure queue). A function that talks
   SQL to the Redshift stand-in (a real PostgreSQL, not in checkpoints) is replayed from its checkpoint only
   while the stand-in shows what it showed then; otherwise its scenario is replayed from the start, the fault
   armed for that invocation only. A procedure is started again from its prepared
   state and driven to its end (every approval given). Backoffs and waits pass 1,000 times faster
   (sandbox.faults.accelerated): the same attempts, less waiting.
3. **Judgement.** A case survives when it ends in a record:
   - the invocation returned and the audit trail holds its outcome (ESCALATED, REFUSED, …: the error named,
     or the fault tolerated and the outcome recorded all the same), or
   - every attempt failed, the attempts were bounded (1 + the function's async retries) and the event is in
     the function's on-failure queue;
   - a procedure's run ended: SUCCEEDED, or FAILED through its failure path with the failure report sent to
     on call (or, when the report itself cannot be sent, recorded in the audit trail);
   and nothing was left half done: every change a playbook made (a successful mutating call) has its action
   record, every procedure that changed something and failed has its failure report. A fault the run never
   reached is a failure of the matrix itself ("not reached").

Results: a table (calls x faults, survived/total) in bench-results/fault-matrix.md and the cases in
bench-results/fault-matrix.json.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox import aws, iam
from sandbox.checkpoint import Checkpoint, capture, prepared_once, restore
from sandbox.faults import FAULTS, accelerated, fault_for
from sandbox.people import answering

ROOT = Path(__file__).resolve().parents[1]

def _function_keys() -> frozenset[str]:
    """The access key ids the deployed functions sign with (their roles', sandbox.iam)."""
    return iam.keys("lambda")


def _callers() -> frozenset[str]:
    """The functions' and the state machines' keys: the calls the matrix records and answers with faults."""
    return iam.keys("lambda") | iam.keys("states")

WAIT_FACTOR = 0.001  # backoffs, Retry intervals and Wait states last 0.1 % of their time (every attempt made)
PROCEDURE_TIMEOUT = 30.0  # seconds a procedure run may take in the matrix before it counts as stuck
APPROVAL_POLL = 0.05  # seconds between two looks at whether a run waits for an answer
READS = ("Get", "List", "Describe", "Query", "Scan", "Lookup", "Simulate", "Filter", "BatchGet", "Search", "Head",
         "Select", "Test", "Validate", "Estimate")
BOOKKEEPING = {"dynamodb", "sns", "sqs", "logs", "cloudwatch", "ssm", "stepfunctions"}  # records, not changes


class _Stop(BaseException):  # not an error: passes through a scenario's `except Exception`
    """Ends a replayed scenario right after the invocation under test."""


# -- what the matrix is made of -----------------------------------------------------------------------------

@dataclass
class Replay:
    """How to bring back the moment of a call: a function invocation (from its checkpoint, or by replaying
    its scenario up to it), or a procedure run."""

    kind: str  # "invocation" | "scenario" | "procedure"
    scenario: str = ""
    index: int = 0  # the invocation's position in its scenario
    function: str = ""
    event: dict[str, Any] = field(default_factory=dict)
    catalog_path: str = ""
    checkpoint: Checkpoint | None = None
    stand_in: str | None = None  # what the Redshift stand-in showed then (functions that reach it)
    procedure: str = ""


@dataclass
class Row:
    unit: str  # the function (without the catalog prefix) or "procedure <name>"
    service: str
    operation: str
    via: list[str] = field(default_factory=list)  # scenario / step that made the call
    replay: Replay | None = None

    @property
    def call(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass
class Case:
    unit: str
    call: str
    fault: str
    code: str
    declared: bool  # the operation's model declares this error
    survived: bool
    outcome: str  # ESCALATED, on-failure queue, FAILED at <step>, tolerated (REMEDIATED), not reached …
    detail: str = ""
    hits: int = 0  # requests answered with the fault (every attempt of every occurrence)
    seconds: float = 0.0


@dataclass
class Matrix:
    rows: list[Row]
    cases: list[Case]
    seconds: float
    enumerate_seconds: float

    @property
    def survived(self) -> int:
        return sum(1 for c in self.cases if c.survived)

    @property
    def failures(self) -> list[Case]:
        return [c for c in self.cases if not c.survived]


# -- procedures: how each is prepared and started -----------------------------------------------------------

def _prepare_security(sandbox: Any, now: datetime) -> dict[str, Any]:
    from remedy.gameday.scenarios.procedures import suspicious_user

    suspect = suspicious_user(sandbox, now)
    return {"principal": suspect["key"], "start": (now - timedelta(hours=2)).isoformat(), "end": now.isoformat()}


def _prepare_corruption(sandbox: Any, now: datetime) -> dict[str, Any]:
    from remedy.gameday.scenarios.procedures import corrupt_customers, corrupt_landing

    now = now.replace(microsecond=0)
    corrupt_customers(sandbox, now)
    prefix = "landing/customers/replay/"
    corrupt_landing(sandbox, now, prefix)
    return {"tables": ["analytics.dim_customer"], "prefixes": [prefix],
            "start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(minutes=1)).isoformat()}


def _prepare_outage(sandbox: Any, now: datetime) -> dict[str, Any]:
    """Earlier today a scale-up by the scale-glue procedure (recorded): the outage procedure rolls it back."""
    _drive(sandbox, "scale-glue", "FM-OUT-0", {"job": "sales-batch", "workers": 12})
    return {"reason": "dashboards red"}


@dataclass(frozen=True)
class ProcedureRun:
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[Any, datetime], dict[str, Any]] | None = None
    stand_in: bool = False  # prepares data in the Redshift stand-in: prepared again for every case


PROCEDURE_RUNS = (
    ProcedureRun("scale-glue", {"job": "sales-batch", "workers": 8, "worker_type": "G.2X"}),
    ProcedureRun("scale-msk", {"brokers": 6}),
    ProcedureRun("scale-redshift", {"nodes": 4}),
    ProcedureRun("security-incident", prepare=_prepare_security),
    ProcedureRun("data-corruption", prepare=_prepare_corruption, stand_in=True),
    ProcedureRun("service-outage", prepare=_prepare_outage),
)


def _end_reprocessing(sandbox: Any, incident_id: str) -> None:
    """Glue ends the re-processing run a data-corruption run started (runs end when the sandbox says so)."""
    from functions.procedures import PROCEDURES

    if "data-corruption" not in PROCEDURES:
        return
    for job in sandbox.account.glue_backend().jobs.values():
        for run in job.job_runs:
            if (run.status == "RUNNING" and (run.arguments or {}).get("--remedy_incident") == incident_id):
                run.status = "SUCCEEDED"


def _drive(sandbox: Any, procedure: str, incident_id: str, options: dict[str, Any],
           timeout: float = PROCEDURE_TIMEOUT) -> dict[str, Any]:
    """Start the procedure and see it to its end: every approval given, re-processing runs ended. The run's
    status is read from the emulated account in this process (cheap); whether it waits for an answer, from
    the approvals table and its history as `remedy incident` reads them, every APPROVAL_POLL seconds."""
    from remedy.commands import incident

    catalog = sandbox.catalog
    # The catalog's poll interval: Wait states pass on the sandbox's clock (no real time), so a shorter interval
    # would only add polls (a 5-minute table restore polled every second is 300 state transitions per case).
    incident.start(sandbox.client, catalog, procedure,
                   {"incident_id": incident_id, "poll_seconds": catalog.procedures.poll_seconds, **options})
    arn = incident.execution_arn(catalog, procedure, incident_id)
    sfn = sandbox.client("stepfunctions")
    # moto's record of the run, found once: its status is read every few milliseconds below, and finding it walks
    # every backend of every service (nothing replaces it while this case runs: the restore comes after).
    execution = _execution(arn)
    deadline, asked = time.monotonic() + timeout, 0.0
    while time.monotonic() < deadline:
        _end_reprocessing(sandbox, incident_id)
        if (execution.status if execution is not None else _execution_status(arn)) != "RUNNING":
            described = sfn.describe_execution(executionArn=arn)
            return {"status": described["status"], "waiting": False, "error": described.get("error", ""),
                    "cause": described.get("cause", "")}
        if time.monotonic() - asked >= APPROVAL_POLL:
            asked = time.monotonic()
            if _waiting_for_approval(sandbox, arn, incident_id):
                try:
                    incident.approve(sandbox.client, catalog, incident_id, reason="rehearsal", procedure=procedure,
                                     **answering(sandbox, "fault-matrix"))
                except incident.IncidentError as error:  # answered meanwhile, the run moved on, or it failed
                    if _execution_status(arn) == "RUNNING" and _waiting_for_approval(sandbox, arn, incident_id,
                                                                                      table=False):
                        # The answer function could not answer (the fault is in its calls): the person was told
                        # in one line and the run still waits, to end in its failure path at the approval's
                        # deadline (HeartbeatSeconds, wall-clock time the matrix does not wait for).
                        return {"status": "WAITING", "waiting": True, "error": "answer failed",
                                "cause": str(error)}
        time.sleep(0.005)
    return {"status": "RUNNING", "waiting": False, "error": "", "cause": f"still running after {timeout:.0f} s"}


def _stop_if_running(sandbox: Any, arn: str) -> None:
    """A case's run that is still going (held at an approval, or moving on after an answer the matrix counted as
    failed) is stopped before the next case restores the account: its thread would otherwise go on acting on the
    restored account (a scale-up it made after the restore left the next case's cluster UPDATING)."""
    from botocore.exceptions import ClientError

    if _execution_status(arn) != "RUNNING":
        return
    # As in AWS, the run is ABORTED when the call returns (sandbox.gaps.stepfunctions); an error here leaves it
    # to the restore, which stops what still runs.
    with contextlib.suppress(ClientError):
        sandbox.client("stepfunctions").stop_execution(executionArn=arn, error="FaultMatrix.CaseOver",
                                                       cause="the fault matrix case ended")
    time.sleep(0.05)  # the state it was in finishes its call; the program stops before the next state


def _execution(arn: str) -> Any:
    """The emulated account's record of the run (moto's), read in this process: the matrix polls it every few
    milliseconds, and an API call would cost a request and its serialization each time (a long history: 16 % of
    the procedures' part when it was read through GetExecutionHistory)."""
    from moto.core.base_backend import BackendDict
    from moto.stepfunctions.models import StepFunctionBackend

    for bd in list(BackendDict._instances):
        for asb in dict.values(bd):
            for backend in dict.values(asb):
                if isinstance(backend, StepFunctionBackend):
                    for machine in backend.state_machines:
                        for execution in machine.executions:
                            if execution.execution_arn == arn:
                                return execution
    return None


def _execution_status(arn: str) -> str:
    execution = _execution(arn)
    return "UNKNOWN" if execution is None else str(execution.status)


def _history_types(arn: str, last: int | None = None) -> list[tuple[str, str]]:
    """(event type, state entered or "") for the run's history events, the `last` ones only when given: what
    GetExecutionHistory answers, read without a request (see _execution)."""
    execution = _execution(arn)
    env = execution.exec_worker.env if execution is not None and execution.exec_worker is not None else None
    if env is None:
        return []
    manager = env.event_manager
    with manager._mutex:
        events = list(manager._history_event_list[-last:] if last else manager._history_event_list)
    # moto's event types are (str, Enum): their value is the name GetExecutionHistory answers
    return [(str(getattr(e["type"], "value", e["type"])), str(e.get("stateEnteredEventDetails", {}).get("name", "")))
            for e in events]


def _waiting_for_approval(sandbox: Any, arn: str, incident_id: str, table: bool = True) -> bool:
    """An approval of this run is pending and its task waits on the token (the step's Lambda has returned).
    table=False: the run's history alone (the approvals table may say EXPIRED when the answer function was told
    the token no longer exists, an injected TaskDoesNotExist, while the run still waits on it)."""
    from functions.core.adapters.clients import Clients as LazyClients
    from functions.procedures import approvals_table_name
    from functions.procedures.adapters import ApprovalTable

    # The history first: it is read in this process, the table through a query (polled every APPROVAL_POLL,
    # the query was 7 % of the procedures' part while most looks found the run still busy).
    if not any(kind == "TaskSubmitted" for kind, _state in _history_types(arn, last=5)):
        return False
    approvals = ApprovalTable(LazyClients({"dynamodb": sandbox.client("dynamodb")}),
                              approvals_table_name(sandbox.catalog.prefix))
    return not table or any(p["execution"] == arn for p in approvals.pending(incident_id))


# -- the sandbox as the matrix uses it ----------------------------------------------------------------------

def _calls_since(start: int, callers: frozenset[str] | None = None,
                 thread: int | None = None) -> list[tuple[str, str, str, int]]:
    """The calls made since `start` by `callers` (the functions' and state machines' keys), by `thread` only when
    given: an invocation's own calls (and those of the functions it invokes synchronously) are made in its
    thread; a function it queued (SNS -> Slack, Invoke with Event) runs on the asynchronous queue's worker
    meanwhile, and replaying the invocation alone does not make those calls again."""
    callers = _callers() if callers is None else callers
    calls = aws.CALLS_BY[start:]
    threads = aws.CALLS_THREAD[start:start + len(calls)]
    return [c for c, t in zip(calls, threads, strict=True) if c[2] in callers and (thread is None or t == thread)]


def _unit(sandbox: Any, function: str) -> str:
    prefix = f"{sandbox.catalog.prefix}-"
    return function[len(prefix):] if function.startswith(prefix) else function


def _needs_stand_in(spec: Any) -> bool:
    return "redshift" in spec.handler  # the sandbox attaches the stand-in to these (Sandbox._enter_function_env)


def _stand_in_view(sandbox: Any) -> str | None:
    """What a function reading the Redshift stand-in sees of it: table statistics, running and queued queries.
    The stand-in is a real PostgreSQL, not in checkpoints: a function that reaches it is replayed from its
    checkpoint only while this view is what it was at the checkpoint."""
    standin = sandbox.redshift
    if standin is None or not getattr(standin, "port", None):
        return None
    views = [standin.execute('SELECT "schema", "table", stats_off, tbl_rows FROM svv_table_info ORDER BY 1, 2'),
             standin.execute("SELECT pid, user_name, status, query FROM stv_recents ORDER BY 1, 2, 4"),
             standin.execute("SELECT query, service_class, state FROM stv_wlm_query_state ORDER BY 1")]
    return json.dumps(views, default=str)


def _open_inbox(sandbox: Any) -> str:
    """An SQS queue subscribed to the on-call topic: what on call was told."""
    sqs, sns = sandbox.client("sqs"), sandbox.client("sns")
    url = sqs.create_queue(QueueName="fault-matrix-on-call")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith(f":{sandbox.catalog.notifications.on_call_topic}"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return str(url)


def _messages(sandbox: Any, url: str) -> list[dict[str, Any]]:
    sqs, found = sandbox.client("sqs"), []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# -- 1. the calls -------------------------------------------------------------------------------------------

# The game day scenarios the functions' calls are enumerated from: together they take every playbook, probe and
# maintenance job through the branches that make its calls (`remedy faults --every-scenario` enumerates from the
# whole game day instead: slower, the same rows today).
REPRESENTATIVE = ("streaming-job-down", "lag-under-capacity", "glue-transient-failure", "glue-access-denied",
                  "glue-broker-port-closed", "stale-landing-prefix", "data-quality-rerun-approval",
                  "redshift-stale-stats-recommend", "weekly-review",
                  # the procedure-start function (an outage alarm starts its procedure): the other scenarios reach
                  # it only when their timing happens to take the outage alarm to ALARM (seen under load)
                  "procedure-outage-from-alarm")


def representative() -> list[str]:
    """REPRESENTATIVE, then the scenario each playbook declares (functions/playbooks) when not among them."""
    from functions.playbooks import PLAYBOOKS

    declared = [d.scenario for d in PLAYBOOKS.values() if d.scenario]
    return [*REPRESENTATIVE, *(s for s in declared if s not in REPRESENTATIVE)]


def _scenarios(every: bool = False) -> list[Any]:
    from remedy.gameday import registry

    if every:
        return [s for s in registry.all_scenarios() if not s.name.startswith("procedure-")]
    return registry.select(representative())


PARTS = ("procedures", "invocations")  # what a shard of the matrix enumerates: the procedures' steps, or the
# functions' invocations in the representative scenarios. The two share no row: split, they run side by side
# (and the procedures' part can be split again by procedure: `procedures=`).


def enumerate_calls(sandbox: Any, baseline: Checkpoint, every_scenario: bool = False,
                    part: str | None = None, procedures: tuple[str, ...] | None = None) -> list[Row]:
    from remedy.gameday.drill import Drill

    rows: dict[tuple[str, str, str], Row] = {}
    # The procedures first: data-corruption changes the Redshift stand-in, the scenarios after it set it up
    # as their functions expect it (and their cases, rehearsed before the procedures', find it so).
    runs = [r for r in PROCEDURE_RUNS if procedures is None or r.name in procedures]
    for run in runs if part in (None, "procedures") else ():
        for key, via in _procedure_calls(sandbox, baseline, run).items():
            rows[key] = Row(*key, via=sorted(via), replay=Replay("procedure", procedure=run.name))
    for scenario in _scenarios(every_scenario) if part in (None, "invocations") else ():
        restore(sandbox, baseline)
        position = [0]
        original = sandbox.invoke_async

        def recording(spec: Any, event: dict[str, Any], _scenario: str = scenario.name,
                      _original: Any = original, _position: list[int] = position) -> Any:
            index, _position[0] = _position[0], _position[0] + 1
            replay = Replay("invocation", scenario=_scenario, index=index, function=spec.name, event=event,
                            catalog_path=str(sandbox.catalog_path), checkpoint=capture(sandbox))
            if _needs_stand_in(spec):
                replay.stand_in = _stand_in_view(sandbox)
                replay.kind = "invocation" if replay.stand_in is not None else "scenario"
            start = len(aws.CALLS_BY)
            invocation = _original(spec, event)
            for service, operation, _key, _status in _calls_since(start, _function_keys(), threading.get_ident()):
                key = (_unit(sandbox, spec.name), service, operation)
                if key not in rows:
                    rows[key] = Row(*key, via=[f"{_scenario} #{index + 1}"], replay=replay)
            return invocation

        sandbox.invoke_async = recording
        try:
            scenario.run(Drill(sandbox))
        except Exception:  # noqa: S110 - a scenario that broke still made its calls; the game day reports it
            pass
        finally:
            del sandbox.invoke_async
    return sorted(rows.values(), key=lambda r: (r.unit.startswith("procedure"), r.unit, r.call))


_PREPARED: dict[str, tuple[Checkpoint | None, dict[str, Any]]] = {}


def _prepared(sandbox: Any, baseline: Checkpoint, run: ProcedureRun) -> dict[str, Any]:
    """The account ready for the run (its prepare step done) and the run's options."""
    if run.stand_in or run.name not in _PREPARED:
        restore(sandbox, baseline)
        options = {**run.options, **(run.prepare(sandbox, datetime.now(UTC)) if run.prepare else {})}
        _PREPARED[run.name] = (None if run.stand_in else capture(sandbox), options)
        return options
    checkpoint, options = _PREPARED[run.name]
    if checkpoint is not None:
        restore(sandbox, checkpoint)
    return options


def _procedure_calls(sandbox: Any, baseline: Checkpoint, run: ProcedureRun) -> dict[tuple[str, str, str], set[str]]:
    options = _prepared(sandbox, baseline, run)
    steps: list[tuple[int, int, str]] = []
    original = sandbox.invoke

    def recording(spec: Any, event: dict[str, Any], logs: list[str] | None = None) -> Any:
        start = len(aws.CALLS_BY)
        try:
            return original(spec, event, logs)
        finally:
            step = str(event.get("step") or event.get("mode") or "") if isinstance(event, dict) else ""
            steps.append((start, len(aws.CALLS_BY), step or _unit(sandbox, spec.name)))

    start = len(aws.CALLS_BY)
    sandbox.invoke = recording
    try:
        _drive(sandbox, run.name, "FM-ENUM", options)
    finally:
        del sandbox.invoke
    found: dict[tuple[str, str, str], set[str]] = {}
    unit = f"procedure {run.name}"
    machines, functions = iam.keys("states"), iam.keys("lambda")
    for position, (service, operation, key, _status) in enumerate(aws.CALLS_BY[start:], start):
        if key in machines:
            via = "state machine (aws-sdk)"
        elif key in functions:
            via = next((f"{name} (λ)" for lo, hi, name in steps if lo <= position < hi), "a step (λ)")
        else:
            continue
        found.setdefault((unit, service, operation), set()).add(via)
    return found


# -- 2. the faults, 3. the judgement ------------------------------------------------------------------------

@contextmanager
def _armed(row: Row, kind: str) -> Iterator[Any]:
    fault = fault_for(row.service, row.operation, kind)
    with aws.inject_error(row.service, row.operation, fault.code, f"{fault.code} (fault matrix)", status=fault.status,
                          callers=_callers()):
        yield fault


def _hits(start: int, row: Row, status: int, thread: int | None = None) -> int:
    return sum(1 for s, o, _k, answered in _calls_since(start, thread=thread) if (s, o) == (row.service, row.operation)
               and answered == status)


def _changes(calls: list[tuple[str, str, str, int]]) -> list[str]:
    """Successful calls that change something outside the service's own records."""
    return [f"{s}:{o}" for s, o, _k, status in calls
            if status < 400 and s not in BOOKKEEPING and not o.startswith(READS)]


def run_case(sandbox: Any, baseline: Checkpoint, row: Row, kind: str) -> Case:
    began = time.monotonic()
    fault = fault_for(row.service, row.operation, kind)
    case = Case(row.unit, row.call, kind, fault.code, fault.declared, False, "")
    assert row.replay is not None
    try:
        if row.replay.kind == "procedure":
            _procedure_case(sandbox, baseline, row, kind, case)
        else:
            _invocation_case(sandbox, baseline, row, kind, case)
    except Exception as error:  # the matrix itself must not stop: the case is a crash
        case.survived, case.outcome, case.detail = False, "crash", f"{type(error).__name__}: {error}"[:300]
    case.seconds = round(time.monotonic() - began, 3)
    return case


def _is_playbook(spec: Any) -> bool:
    from functions.playbooks import PLAYBOOKS

    return spec.handler in {declaration.handler for declaration in PLAYBOOKS.values()}


def _actions(sandbox: Any, spec: Any) -> int:
    """Action records in the audit trail (a playbook's: the others record none)."""
    return sum(1 for r in sandbox.audit() if r["kind"] == "action") if _is_playbook(spec) else 0


def _invoke_under_fault(sandbox: Any, baseline: Checkpoint, row: Row, kind: str) -> tuple[Any, Any, int, int]:
    """The invocation again with the fault armed: (spec, invocation, CALLS_BY position before it, action
    records in the audit trail before it)."""
    from remedy.gameday import registry
    from remedy.gameday.drill import Drill

    replay = row.replay
    assert replay is not None
    spec = sandbox.function(replay.function)
    if replay.kind == "invocation" and (not _needs_stand_in(spec) or _stand_in_view(sandbox) == replay.stand_in):
        assert replay.checkpoint is not None
        restore(sandbox, replay.checkpoint)
        original_path = sandbox.catalog_path
        sandbox.catalog_path = Path(replay.catalog_path)
        start, actions = len(aws.CALLS_BY), _actions(sandbox, spec)
        try:
            with _armed(row, kind):
                return spec, sandbox.invoke_async(spec, replay.event), start, actions
        finally:
            sandbox.catalog_path = original_path
    # The scenario again from the healthy account, the fault armed for the invocation under test only.
    restore(sandbox, baseline)
    scenario = next(s for s in registry.all_scenarios() if s.name == replay.scenario)
    position, caught = [0], {}
    original = sandbox.invoke_async

    def stepping(spec_: Any, event: dict[str, Any]) -> Any:
        index, position[0] = position[0], position[0] + 1
        if index != replay.index:
            return original(spec_, event)
        caught["start"], caught["actions"] = len(aws.CALLS_BY), _actions(sandbox, spec_)
        with _armed(row, kind):
            caught["invocation"] = original(spec_, event)
        raise _Stop

    sandbox.invoke_async = stepping
    try:
        scenario.run(Drill(sandbox))
    except _Stop:
        pass
    finally:
        del sandbox.invoke_async
    if "invocation" not in caught:
        raise RuntimeError(f"{replay.scenario} made no invocation #{replay.index + 1} this time")
    return spec, caught["invocation"], caught["start"], caught["actions"]


def _invocation_case(sandbox: Any, baseline: Checkpoint, row: Row, kind: str, case: Case) -> None:
    from functions.procedures.start import HELD, REFUSED, STARTED

    spec, invocation, start, actions = _invoke_under_fault(sandbox, baseline, row, kind)
    fault = fault_for(row.service, row.operation, kind)
    calls = _calls_since(start, _function_keys(), threading.get_ident())
    case.hits = _hits(start, row, fault.status, threading.get_ident())
    if not case.hits:
        case.outcome, case.detail = "not reached", "the invocation did not make the call this time"
        return
    changes = _changes(calls)
    if invocation.error:
        queue = spec.on_failure_arn.rsplit(":", 1)[1] if spec.on_failure_arn else ""
        queued = bool(queue) and any(m.get("requestContext", {}).get("condition") == "RetriesExhausted"
                                     for m in _queue(sandbox, queue))
        bounded = invocation.attempts == spec.max_retries + 1
        case.outcome = f"on-failure queue after {invocation.attempts} attempts" if queued else "lost"
        case.detail = invocation.error[:240]
        case.survived = queued and bounded
    else:
        result = invocation.result if isinstance(invocation.result, dict) else {}
        status = str(result.get("status", "?"))
        incident = result.get("incident")
        incident_id = incident.get("id") if isinstance(incident, dict) else incident
        records = sandbox.audit(incident_id) if isinstance(incident_id, str) and incident_id else []
        # The outcome: a playbook's `outcome` (or `duplicate`, a second delivery), or what the procedure-start
        # function records of a start (started, held, refused).
        outcome_recorded = any(r["kind"] in ("outcome", "duplicate", STARTED, HELD, REFUSED) for r in records)
        named = fault.code in json.dumps(result, default=str) or fault.code in json.dumps(records, default=str)
        case.detail = str(result.get("summary") or result.get("reason") or "")[:240]
        if isinstance(incident, dict) or incident_id:  # a playbook: its outcome must be in the audit trail
            case.survived = outcome_recorded
            case.outcome = (status if named else f"tolerated ({status})") if outcome_recorded else \
                f"{status}, no outcome recorded"
        else:  # a probe, a maintenance job, a scheduled check: its answer is its record
            case.survived = True
            case.outcome = status if named else f"tolerated ({status})"
    # A playbook changes things only through its actions, each recorded: a change without a new record is half
    # done. (Probes and maintenance jobs write their measurements and reports: that is their answer.)
    if changes and _is_playbook(spec) and _actions(sandbox, spec) == actions:
        case.survived, case.outcome = False, f"half done: {', '.join(sorted(set(changes)))} without an action record"


def _queue(sandbox: Any, name: str) -> list[dict[str, Any]]:
    sqs = sandbox.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return _messages(sandbox, url)


def _procedure_case(sandbox: Any, baseline: Checkpoint, row: Row, kind: str, case: Case) -> None:
    from remedy.commands import incident

    assert row.replay is not None
    run = next(r for r in PROCEDURE_RUNS if r.name == row.replay.procedure)
    options = _prepared(sandbox, baseline, run)
    inbox = _INBOX[0]
    _messages(sandbox, inbox)  # what the preparation told on call is not this case's
    fault = fault_for(row.service, row.operation, kind)
    incident_id = "FM-CASE"
    start = len(aws.CALLS_BY)
    with _armed(row, kind):
        state = _drive(sandbox, run.name, incident_id, options)
    _stop_if_running(sandbox, incident.execution_arn(sandbox.catalog, run.name, incident_id))
    case.hits = _hits(start, row, fault.status)
    inbox_messages = _messages(sandbox, inbox)  # the run's report, and what else it sent (the outage's page)
    told = [m for m in inbox_messages if f"{run.name} {incident_id}" in str(m.get("Subject", ""))]
    ends = [m for m in told if "APPROVAL NEEDED" not in str(m.get("Subject", ""))]
    arn = incident.execution_arn(sandbox.catalog, run.name, incident_id)
    states = [state for _kind, state in _history_types(arn) if state]
    recorded = any(r["kind"] == "procedure_outcome" for r in sandbox.audit(incident_id))
    named = any(fault.code in str(m.get("Message", "")) for m in inbox_messages)
    changes = _changes(_calls_since(start))
    case.detail = f"{state.get('error', '')}: {state.get('cause', '')}".strip(": ")[:240]
    if not case.hits:
        case.outcome = "not reached"
        return
    failed_at = next((s.rsplit(" ", 1)[0] for s in states if s.endswith(" failed")), "?")
    if state["status"] == "SUCCEEDED":
        case.survived = bool(ends) and recorded
        case.outcome = ("SUCCEEDED" if named else "tolerated (SUCCEEDED)") if ends else "SUCCEEDED, not reported"
    elif state["status"] == "FAILED" and state.get("error") == "Remedy.ReportFailed":
        # The failure report itself could not be completed: told or recorded, at least one of the two.
        case.survived = bool(ends) or recorded or not changes
        case.outcome = f"FAILED at {failed_at}, " + ("told on call, not recorded" if ends else
                                                     "recorded, not told" if recorded else
                                                     "neither told nor recorded")
    elif state["status"] == "FAILED":
        case.survived = bool(ends) and recorded
        case.outcome = f"FAILED at {failed_at}" + ("" if case.survived else ", not reported")
    elif state["status"] == "WAITING":
        # The approval could not be answered: safe when the person got one line and nothing after the approval
        # was done (the run holds at the approval until its deadline, then takes its failure path).
        answer_told = bool(state["cause"]) and "\n" not in state["cause"]
        case.survived = answer_told
        case.outcome = "answer refused in one line, run still waiting for approval" if answer_told else \
            "answer failed without a word"
        case.detail = state["cause"][:240]
    else:
        case.outcome = f"{state['status']} (stuck)"


_INBOX: list[str] = [""]


class UnknownUnit(ValueError):
    """A unit asked for that no enumerated call belongs to: the one line a person reads."""


def run_matrix(env: str = "dev", workdir: Path | None = None, on_case: Callable[[Case], None] | None = None,
               units: set[str] | None = None, every_scenario: bool = False, part: str | None = None,
               procedures: tuple[str, ...] | None = None) -> Matrix:
    """Start a sandbox, enumerate the calls, rehearse every (call, fault) of `units` (all when None); the
    matrix. UnknownUnit, before any fault is injected, when a unit makes no call. `part` (one of PARTS)
    enumerates and rehearses that part only: a shard another process can run beside the other."""
    if part is not None and part not in PARTS:
        raise ValueError(f"unknown part {part!r} (known: {', '.join(PARTS)})")
    strangers = sorted(set(procedures or ()) - {run.name for run in PROCEDURE_RUNS})
    if strangers:
        known = ", ".join(r.name for r in PROCEDURE_RUNS)
        raise ValueError(f"unknown procedure {strangers[0]!r} (known: {known})")
    from sandbox.core import Sandbox

    began = time.monotonic()
    sandbox = Sandbox(env, workdir=workdir).start()
    _PREPARED.clear()
    # A unit that is neither a deployed function nor a procedure is refused at once, before the calls are
    # enumerated (minutes); one that is but makes no call is refused after the enumeration, below.
    deployed = {_unit(sandbox, spec.name) for spec in sandbox.deployment.functions.values()} | {
        f"procedure {run.name}" for run in PROCEDURE_RUNS}
    strangers = sorted(set(units or ()) - deployed)
    if strangers:
        sandbox.stop()
        raise UnknownUnit(f"unknown unit {strangers[0]!r} (known: {', '.join(sorted(deployed))})")
    try:
        with accelerated(WAIT_FACTOR), prepared_once():
            _INBOX[0] = _open_inbox(sandbox)
            baseline = capture(sandbox)
            rows = enumerate_calls(sandbox, baseline, every_scenario, part, procedures)
            known = sorted({r.unit for r in rows})
            unknown = sorted(set(units or ()) - set(known))
            if unknown:
                raise UnknownUnit(f"unknown unit {unknown[0]!r} (known: {', '.join(known)})")
            rows = [r for r in rows if not units or r.unit in units]
            enumerated = time.monotonic() - began
            cases = []
            for row in rows:
                for kind in FAULTS:
                    case = run_case(sandbox, baseline, row, kind)
                    cases.append(case)
                    if on_case is not None:
                        on_case(case)
    finally:
        _PREPARED.clear()
        sandbox.stop()
    return Matrix(rows=rows, cases=cases, seconds=round(time.monotonic() - began, 1),
                  enumerate_seconds=round(enumerated, 1))


# -- the table ----------------------------------------------------------------------------------------------

MARK = {True: "✓", False: "✗"}


def table(matrix: Matrix) -> str:
    """Markdown: one row per call, one column per fault, each cell what it ended in; totals at the end."""
    by = {(c.unit, c.call, c.fault): c for c in matrix.cases}
    lines = [f"# Fault matrix: {len(matrix.rows)} calls x {len(FAULTS)} faults, "
             f"{matrix.survived}/{len(matrix.cases)} survived",
             "",
             f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {matrix.seconds:.0f} s "
             f"(calls enumerated in {matrix.enumerate_seconds:.0f} s). `python -m remedy.faults` to regenerate.",
             "",
             "| unit | call | " + " | ".join(FAULTS) + " |",
             "|---|---|" + "---|" * len(FAULTS)]
    for row in matrix.rows:
        cells = []
        for kind in FAULTS:
            case = by.get((row.unit, row.call, kind))
            cells.append("" if case is None else f"{MARK[case.survived]} {case.code}: {case.outcome}")
        lines.append(f"| {row.unit} | {row.call} | " + " | ".join(cells) + " |")
    lines += ["", "| fault | survived |", "|---|---|"]
    for kind in FAULTS:
        mine = [c for c in matrix.cases if c.fault == kind]
        lines.append(f"| {kind} | {sum(c.survived for c in mine)}/{len(mine)} |")
    kinds: dict[str, int] = {}
    for case in matrix.cases:
        kinds[_kind_of(case)] = kinds.get(_kind_of(case), 0) + 1
    lines += ["", "| ended in | cases |", "|---|---|"] + [f"| {k} | {n} |" for k, n in sorted(kinds.items())]
    units = sorted({r.unit for r in matrix.rows})
    lines += ["", "| unit | calls | survived |", "|---|---|---|"]
    for unit in units:
        mine = [c for c in matrix.cases if c.unit == unit]
        lines.append(f"| {unit} | {len({c.call for c in mine})} | {sum(c.survived for c in mine)}/{len(mine)} |")
    if matrix.failures:
        lines += ["", "## Did not survive", ""]
        lines += [f"- {c.unit} {c.call} x {c.fault} ({c.code}): {c.outcome} — {c.detail}" for c in matrix.failures]
    return "\n".join(lines) + "\n"


def _kind_of(case: Case) -> str:
    if not case.survived:
        return "did not survive"
    if case.outcome.startswith("on-failure"):
        return "the event in the on-failure queue (bounded retries)"
    if case.unit.startswith("procedure"):
        return "a procedure's failure path, reported" if case.outcome.startswith("FAILED") else \
            "a procedure run that succeeded all the same"
    if case.outcome.startswith("tolerated"):
        return "an outcome recorded, the fault tolerated"
    return "an outcome recorded, the fault named"


def write(matrix: Matrix, out: Path = ROOT / "bench-results") -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "fault-matrix.md", out / "fault-matrix.json"
    md.write_text(table(matrix), encoding="utf-8")
    js.write_text(json.dumps({"calls": len(matrix.rows), "faults": list(FAULTS), "cases": len(matrix.cases),
                              "survived": matrix.survived, "seconds": matrix.seconds,
                              "rows": [{"unit": r.unit, "call": r.call, "via": r.via} for r in matrix.rows],
                              "results": [asdict(c) for c in matrix.cases]}, indent=2), encoding="utf-8")
    return md, js


def main() -> int:
    import sys

    def progress(case: Case) -> None:
        print(f"{MARK[case.survived]} {case.unit:28} {case.call:42} {case.fault:14} {case.outcome} "
              f"({case.seconds:.2f}s)", file=sys.stderr, flush=True)

    matrix = run_matrix(on_case=progress)
    md, _ = write(matrix)
    print(table(matrix))
    print(f"written to {md}", file=sys.stderr)
    return 0 if not matrix.failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
