"""Step Functions in the sandbox: the synthesized state machines run for real in moto's ASL interpreter
(Choice, Map, Wait, intrinsics, Retry/Catch, aws-sdk integrations against the emulated account,
.waitForTaskToken with SendTaskSuccess/Failure/Heartbeat, HeartbeatSeconds and TimeoutSeconds), and their
Lambda tasks run the real handler code.

moto would hand a Lambda task to its Lambda emulation, which needs Docker (without it the payload comes back
as is). Here every Lambda invocation a state machine makes is answered by Sandbox.invoke: the function the
sandbox deployed from the templates, with its environment from the template, in this process. What it
returns is the task's result; what it raises becomes the task's error (errorType = the exception's class),
as a Lambda function error would. Functions the templates do not declare fall through to moto.

    enable(sandbox)        # Sandbox.start: execution on, moto's own calls pointed at this server, Lambda hooked
    stop_executions(s)     # before the account is reset: nothing keeps waiting on a token
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

_ACTIVE: Any = None
_LOCK = threading.RLock()  # one function at a time: Sandbox.invoke switches the process's environment
FUNCTION_LOCK = _LOCK  # held by Sandbox.invoke too: a Lambda task waits for the function that started its run
_ORIGINAL: Any = None


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
    return _ACTIVE


def enable(sandbox: Any) -> None:
    """Make `sandbox` the one whose deployed functions answer state machines' Lambda tasks."""
    global _ACTIVE, _ORIGINAL
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    # A failed state is an outcome the run records in its history; moto would also log it at ERROR.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    # moto's ASL interpreter calls AWS (aws-sdk integrations) on localhost:$MOTO_PORT: this server.
    os.environ["MOTO_PORT"] = sandbox.account.endpoint.rsplit(":", 1)[1]
    from sandbox import gaps_procedures

    with _LOCK:
        if _ORIGINAL is None:
            _ORIGINAL = lambda_eval_utils._invoke_lambda_function
            lambda_eval_utils._invoke_lambda_function = _invoke
        if _ACTIVE is not sandbox:  # another sandbox (another test module): nothing of the last one carries over
            gaps_procedures.reset()
            INVOCATIONS.clear()
        _ACTIVE = sandbox

    gaps_procedures.seed(sandbox.catalog, sandbox.account)


def after_reset(sandbox: Any) -> None:
    """The account was reset: the procedures' part of it is seeded again."""
    from sandbox import gaps_procedures

    gaps_procedures.restore_touched_tables(sandbox.catalog)
    gaps_procedures.reset()
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
    sandbox = _ACTIVE
    if sandbox is None:
        return None
    name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
    for spec in sandbox.deployment.functions.values():
        if name in (spec.name, spec.arn):
            return spec
    return None


def _invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
    spec = _function(str(parameters.get("FunctionName", "")))
    if spec is None:
        return dict(_ORIGINAL(parameters=parameters, region=region, state_credentials=state_credentials))
    raw = parameters.get("Payload") or b"{}"
    event = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    logs: list[str] = []
    with _LOCK:
        try:
            result = _ACTIVE.invoke(spec, event, logs)
        except Exception as error:
            INVOCATIONS.append(StepInvocation(spec.name, str(event.get("step") or event.get("mode", "")), False,
                                              f"{type(error).__name__}: {error}", logs))
            payload = {"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": []}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": payload, "ExecutedVersion": "$LATEST"}
    INVOCATIONS.append(StepInvocation(spec.name, str(event.get("step") or event.get("mode", "")), True, "", logs))
    return {"StatusCode": 200, "Payload": json.loads(json.dumps(result, default=str)), "ExecutedVersion": "$LATEST"}


def create_state_machine(account: Any, stack: str, logical: str, props: dict[str, Any]) -> tuple[str, str, str]:
    """AWS::StepFunctions::StateMachine (resolved properties) into the emulated account: (Ref, Arn, Name)."""
    sfn = account.client("stepfunctions")
    name = props.get("StateMachineName") or f"{stack}-{logical}"[:80]
    definition = props.get("DefinitionString")
    if isinstance(definition, dict):
        definition = json.dumps(definition)
    request: dict[str, Any] = {
        "name": name, "definition": definition, "type": props.get("StateMachineType", "STANDARD"),
        # Roles are not emulated (sandbox.cfn): a well-formed ARN stands in for the template's.
        "roleArn": f"arn:aws:iam::{account.account_id}:role/{stack}-{logical}"[:2048],
        "tracingConfiguration": {"enabled": bool(props.get("TracingConfiguration", {}).get("Enabled", False))},
    }
    logging = props.get("LoggingConfiguration")
    if logging:
        request["loggingConfiguration"] = {"level": logging.get("Level", "OFF"),
                                           "includeExecutionData": logging.get("IncludeExecutionData", False)}
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines().get("stateMachines", [])}
    if name in existing:
        arn = existing[name]
        sfn.update_state_machine(stateMachineArn=arn, definition=definition)
    else:
        arn = sfn.create_state_machine(**request)["stateMachineArn"]
    return arn, arn, name
