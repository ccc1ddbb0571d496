"""Step Functions in the sandbox: the synthesized state machines run for real in moto's ASL interpreter
(Choice, Map, Wait on the sandbox's clock, intrinsics, Retry/Catch, aws-sdk integrations against the emulated account,
.waitForTaskToken with SendTaskSuccess/Failure/Heartbeat, HeartbeatSeconds and TimeoutSeconds), and their
Lambda tasks run the real handler code.

moto would hand a Lambda task to its Lambda emulation, which needs Docker (without it the payload comes back
as is). Here every Lambda invocation a state machine makes is answered by Sandbox.invoke: the function the
sandbox deployed from the templates, with its environment from the template, in this process. What it
returns is the task's result; what it raises becomes the task's error (errorType = the exception's class),
as a Lambda function error would. Functions the templates do not declare fall through to moto.

Every task signs with the state machine's own role (sandbox.iam): moto's interpreter would sign its aws-sdk
integrations with a fixed key; here they carry the role's key, and a Lambda task is evaluated as
`lambda:InvokeFunction` on the function before it runs.

What this engine patches in moto, and why (the service's own gaps, SendTaskFailure's cause, aws-sdk error names
and definite JSONPaths, are fills: sandbox/gaps/stepfunctions.py):
- lambda_eval_utils._invoke_lambda_function: a Lambda task runs the deployed function's handler here (moto's
  Lambda needs Docker and knows none of the synthesized functions);
- boto_client.boto_client_for (and the interpreter modules that imported it): a task's client signs with the
  state machine role's key, so IAM (sandbox.iam) judges the machine's calls as AWS would (and is reused while
  its service, region, server and key are the same);
- WaitFunction._wait_interval: a Wait state advances the sandbox's clock instead of sleeping;
- HeartbeatEndpoint (__init__, notify, clear_and_wait): a task's HeartbeatSeconds (the approval window) count
  on the sandbox's clock (moto waits them on the wall clock): an unanswered approval lapses when time is advanced;
- StepFunctionsParserBackend._validate_definition: a definition is parsed once per process (same answer);
- utils.json_path.parse: a JSONPath is parsed once per process (jsonpath_ng builds a parser each time: 6 % of a
  procedure run's CPU; a parsed path is only read by find);
- default_user_config["stepfunctions"]["execute_state_machine"] = True: executions run at all.

    enable(sandbox)        # Sandbox.start: execution on, moto's own calls pointed at this server, Lambda hooked
    stop_executions(s)     # before the account is reset: nothing keeps waiting on a token
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from sandbox import active as _active
from sandbox.active import FUNCTION_LOCK

_LOCK = FUNCTION_LOCK  # one function at a time: Sandbox.invoke switches the process's environment; a Lambda
# task waits for the function that started its run (sandbox.active.FUNCTION_LOCK, held by Sandbox.invoke too)
_ORIGINAL: Any = None
_BOTO_CLIENT_USERS = (  # moto's modules that build their clients with boto_client_for (aws-sdk, Lambda, S3 ...)
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)


@dataclass
class StepInvocation:
    """One Lambda task, as the sandbox ran it (the game day shows them; tests assert on them)."""

    function: str
    step: str
    ok: bool
    error: str = ""
    logs: list[str] = field(default_factory=list)


INVOCATIONS: list[StepInvocation] = []


def active() -> Any:
    """The sandbox whose functions answer (sandbox.active, where the gap fills read it)."""
    return _active.active()


_PARSED: dict[str, Any] = {}


def _validate_once() -> None:
    """moto validates a state machine's definition by parsing it with its ANTLR grammar at every CreateStateMachine
    and UpdateStateMachine: about a quarter of a second per definition, six per deployment, and the sandbox deploys
    the same six definitions again at every reset. The same text parses to the same answer: it is parsed once per
    process (what a definition is checked against is unchanged; an invalid one still fails the same way)."""
    from moto.stepfunctions.parser import models

    if getattr(models.StepFunctionsParserBackend._validate_definition, "_once", False):
        return
    original = models.StepFunctionsParserBackend._validate_definition

    def validate(definition: str) -> None:
        if definition not in _PARSED:
            original(definition)  # raises on an invalid definition: nothing is remembered then
            _PARSED[definition] = True

    validate._once = True  # type: ignore[attr-defined]
    models.StepFunctionsParserBackend._validate_definition = staticmethod(validate)  # type: ignore[method-assign]


def _parse_paths_once() -> None:
    """The interpreter parses a state's JSONPath (InputPath, Parameters' "x.$", ResultSelector ...) at every
    evaluation, and jsonpath_ng builds its parser each time: 6 % of a procedure run's CPU. The same text parses
    to the same expression, which evaluation only reads (find): parsed once per process."""
    from moto.stepfunctions.parser.asl.utils import json_path

    if not hasattr(json_path.parse, "cache_info"):
        json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)


def enable(sandbox: Any) -> None:
    """Make `sandbox` the one whose deployed functions answer state machines' Lambda tasks."""
    global _ORIGINAL
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    _validate_once()
    _parse_paths_once()
    # A failed state is an outcome the run records in its history; moto would also log it at ERROR.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    # moto's ASL interpreter calls AWS (aws-sdk integrations) on localhost:$MOTO_PORT: this server.
    os.environ["MOTO_PORT"] = sandbox.account.endpoint.rsplit(":", 1)[1]
    from sandbox import clock, gaps, seed_procedures

    clock.install_function_clock()  # functions that wait for AWS wait on the sandbox's clock
    with _LOCK:
        if _ORIGINAL is None:
            _ORIGINAL = lambda_eval_utils._invoke_lambda_function
            lambda_eval_utils._invoke_lambda_function = _invoke
            _sign_with_role()
            _wait_on_the_sandbox_clock()
            _heartbeats_on_the_sandbox_clock()
        if _active.active() is not sandbox:  # another sandbox (another test module): nothing of the last carries over
            gaps.reset()
            INVOCATIONS.clear()
        _active.set_active(sandbox)

    seed_procedures.seed(sandbox.catalog, sandbox.account)


def _wait_on_the_sandbox_clock() -> None:
    """A Wait state lets its seconds pass on the sandbox's clock (sandbox.clock) instead of sleeping them: a
    state machine that polls a 15-minute resize every minute runs its fifteen polls at once, and the resize
    is done when the clock says so."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    from sandbox import clock

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0 and env.is_running():
            clock.advance(wait_seconds)

    wait_function.WaitFunction._wait_interval = wait_interval


def _heartbeats_on_the_sandbox_clock() -> None:
    """A `.waitForTaskToken` task's HeartbeatSeconds are counted on the sandbox's clock from when the task
    started or last heard a heartbeat (SendTaskHeartbeat): the task times out once that much sandbox time passed
    in silence (its history says States.Timeout; a Catch or Retry may match it as States.HeartbeatTimeout, as AWS
    documents in "Handling errors in Step Functions workflows"). The clock is the wall clock plus the time
    scenarios let pass, so untouched it lapses when moto's would; advanced, it lapses at once (the clock wakes
    its waiting tasks to look again: a waiting task does not poll). The count restarts at the moment the
    heartbeat arrives, not when the waiting thread next runs (a test that advances the clock right after a
    heartbeat would otherwise outrun it). An answer (SendTaskSuccess/Failure, StopExecution) wakes it too."""
    import threading
    import weakref
    from datetime import timedelta

    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatEndpoint

    from sandbox import clock

    waiting: weakref.WeakSet[Any] = weakref.WeakSet()
    waiting_lock = threading.Lock()  # tasks start and end waiting on their own threads while the clock moves
    original_init, original_notify = HeartbeatEndpoint.__init__, HeartbeatEndpoint.notify

    def __init__(self: Any, heartbeat_seconds: int) -> None:
        original_init(self, heartbeat_seconds)
        self.heard_at = clock.now()  # the task sets its heartbeat up as it starts
        self.look_again = threading.Event()  # a heartbeat, an answer, or the clock moved

    def notify(self: Any) -> None:
        self.heard_at = clock.now()
        original_notify(self)
        self.look_again.set()

    def clear_and_wait(self: Any) -> bool:
        with self._mutex:
            if self._next_heartbeat_event.is_set():
                self._next_heartbeat_event.clear()
                return True
        with waiting_lock:
            waiting.add(self)
        try:
            while (left := (self.heard_at + timedelta(seconds=self._heartbeat_seconds) - clock.now())
                   .total_seconds()) > 0:
                self.look_again.wait(timeout=left)
                self.look_again.clear()
                if self._next_heartbeat_event.is_set():
                    return True
            return False
        finally:
            with waiting_lock:
                waiting.discard(self)

    def clock_moved() -> None:
        with waiting_lock:
            looking = list(waiting)
        for endpoint in looking:
            endpoint.look_again.set()

    HeartbeatEndpoint.__init__ = __init__
    HeartbeatEndpoint.notify = notify
    HeartbeatEndpoint.clear_and_wait = clear_and_wait
    clock.on_advance(clock_moved)


def after_reset(sandbox: Any) -> None:
    """The account was reset: the procedures' part of it is seeded again."""
    from sandbox import gaps
    from sandbox.gaps import redshift

    redshift.restore_touched_tables(sandbox.catalog)
    gaps.reset()
    INVOCATIONS.clear()
    enable(sandbox)


def stop_executions(sandbox: Any) -> None:
    """End every running execution (a test or scenario that left one waiting for an answer)."""
    sfn = sandbox.client("stepfunctions")
    for machine in sfn.list_state_machines().get("stateMachines", []):
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"],
                                             statusFilter="RUNNING").get("executions", []):
            sfn.stop_execution(executionArn=execution["executionArn"], error="Sandbox.Reset",
                               cause="the sandbox was reset")


def _function(name_or_arn: str) -> Any:
    sandbox = _active.active()
    if sandbox is None:
        return None
    name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
    for spec in sandbox.deployment.functions.values():
        if name in (spec.name, spec.arn):
            return spec
    return None


def _sign_with_role() -> None:
    """Every client moto's interpreter builds for a task signs with the state machine role's credentials
    (state_credentials.role_arn: the machine's RoleArn, or the task's Credentials.RoleArn)."""
    import importlib

    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.utils import boto_client

    from sandbox import iam

    original = boto_client.boto_client_for
    # moto builds a client for every task it runs (~15 ms, a tenth of a procedure run's CPU); one built for the
    # same service, region, server and credentials answers the same, so it is reused.
    made: dict[tuple[Any, ...], Any] = {}

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        role_arn = getattr(state_credentials, "role_arn", None)
        creds = iam.credentials(iam.state_machine_key(str(role_arn))) if role_arn else None
        key = (region, service, moto_server_port(), botocore_stubber.enabled,
               tuple(sorted(creds.items())) if creds else None)
        if key in made:
            return made[key]
        client = original(region=region, service=service, state_credentials=state_credentials)
        if creds:
            from botocore.credentials import Credentials

            client._request_signer._credentials = Credentials(  # the client's signer, not a global setting
                creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], creds["AWS_SESSION_TOKEN"])
        made[key] = client
        return client

    for name in _BOTO_CLIENT_USERS:
        module = importlib.import_module(name)
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for
    boto_client.boto_client_for = boto_client_for


def _invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
    spec = _function(str(parameters.get("FunctionName", "")))
    if spec is None:
        return dict(_ORIGINAL(parameters=parameters, region=region, state_credentials=state_credentials))
    _authorize_invoke(spec, state_credentials)
    raw = parameters.get("Payload") or b"{}"
    event = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    logs: list[str] = []
    with _LOCK:
        try:
            result = _active.active().invoke(spec, event, logs)
        except Exception as error:
            INVOCATIONS.append(StepInvocation(spec.name, str(event.get("step") or event.get("mode", "")), False,
                                              f"{type(error).__name__}: {error}", logs))
            payload = {"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": []}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": payload, "ExecutedVersion": "$LATEST"}
    INVOCATIONS.append(StepInvocation(spec.name, str(event.get("step") or event.get("mode", "")), True, "", logs))
    return {"StatusCode": 200, "Payload": json.loads(json.dumps(result, default=str)), "ExecutedVersion": "$LATEST"}


def _authorize_invoke(spec: Any, state_credentials: Any) -> None:
    """lambda:InvokeFunction on the function, for the state machine's role: denied, the task fails as AWS fails
    it (Lambda.AccessDeniedException, the denial message in its cause)."""
    from botocore.exceptions import ClientError

    from sandbox import iam
    from sandbox.iam_policy import Request

    key = iam.state_machine_key(str(getattr(state_credentials, "role_arn", "")))
    who = iam.principal(key)
    if who is None:
        return
    denial = iam.decide(who, Request("lambda:InvokeFunction", (spec.arn,)), "lambda", "Invoke")
    if denial is not None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": denial.message},
                           "ResponseMetadata": {"HTTPStatusCode": 403, "RequestId": "sandbox-iam"}}, "Invoke")


def create_state_machine(account: Any, stack: str, logical: str, props: dict[str, Any]) -> tuple[str, str, str]:
    """AWS::StepFunctions::StateMachine (resolved properties) into the emulated account: (Ref, Arn, Name)."""
    sfn = account.client("stepfunctions")
    name = props.get("StateMachineName") or f"{stack}-{logical}"[:80]
    definition = props.get("DefinitionString")
    if isinstance(definition, dict):
        definition = json.dumps(definition)
    request: dict[str, Any] = {
        "name": name, "definition": definition, "type": props.get("StateMachineType", "STANDARD"),
        # The template's role (sandbox.cfn records it): its tasks sign with its credentials (sandbox.iam).
        "roleArn": str(props.get("RoleArn") or f"arn:aws:iam::{account.account_id}:role/{stack}-{logical}"),
        "tracingConfiguration": {"enabled": bool(props.get("TracingConfiguration", {}).get("Enabled", False))},
    }
    logging = props.get("LoggingConfiguration")
    if logging:
        request["loggingConfiguration"] = {"level": logging.get("Level", "OFF"),
                                           "includeExecutionData": logging.get("IncludeExecutionData", False)}
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines().get("stateMachines", [])}
    if name in existing:
        arn = existing[name]
        sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=request["roleArn"])
    else:
        arn = sfn.create_state_machine(**request)["stateMachineArn"]
    return arn, arn, name
