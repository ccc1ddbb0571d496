"""Step Functions (the service's API and moto's ASL interpreter, where it answers unlike AWS).

- SendTaskFailure: moto drops the cause; AWS hands it to the Catch as Cause.
- StopExecution: moto drops the error and cause the caller gives and leaves the run RUNNING until its thread next
  looks (a task waiting on a token looks at its heartbeat, an hour later); in AWS the run is ABORTED when the call
  returns, at the stopDate it answers, with that error and cause, and ExecutionAborted is its history's last event.
- aws-sdk integration errors are named like AWS's: <Service>.<Code>, PascalCase service, "Exception" appended
  when the code lacks it (also for unmodelled codes); an error without a request id (a fault the sandbox
  injects) does not break the cause moto writes from it.
- A definite path through an array index ($.Clusters[0].NumberOfNodes) selects one value, as in AWS; moto's
  interpreter wraps it in a list when the index is not the last step.

Running the state machines (their Lambda tasks run the real handlers, tasks sign with the machine's role, Wait
states pass on the sandbox's clock) is the engine's: sandbox.stepfunctions.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult

from sandbox.gaps import Fill

OPERATIONS: dict[str, Fill] = {
    "stepfunctions:SendTaskFailure": Fill("behaviour", "the cause reaches the task's Catch",
                                          "https://docs.aws.amazon.com/step-functions/latest/apireference/"
                                          "API_SendTaskFailure.html"),
    "stepfunctions:StopExecution": Fill("behaviour", "ABORTED when it returns, with the caller's error and cause",
                                        "https://docs.aws.amazon.com/step-functions/latest/apireference/"
                                        "API_StopExecution.html"),
}
# What the fills change in moto's interpreter, beside the operations (the AWS document each follows).
INTERPRETER = {
    "aws-sdk error names": "https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html",
    "definite JSONPath through an index": "https://docs.aws.amazon.com/step-functions/latest/dg/"
                                          "amazon-states-language-paths.html",
}

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _fill_stepfunctions()
    _INSTALLED = True


_SDK_SERVICE_NAMES = {"glue": "Glue", "iam": "Iam", "ec2": "Ec2", "kafka": "Kafka", "redshift": "Redshift",
                      "secretsmanager": "SecretsManager", "sns": "Sns", "dynamodb": "DynamoDb", "s3": "S3",
                      "cloudtrail": "CloudTrail", "sfn": "Sfn", "lambda": "Lambda"}


def _fill_stepfunctions() -> None:
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    sdk._SERVICE_ERROR_NAMES.update({k.lower(): v for k, v in _SDK_SERVICE_NAMES.items()})

    def normalise(norm_service_name: str, ex: Exception) -> str:
        # AWS: <Service>.<error code>, "Exception" appended when the code lacks it (also for unmodeled codes).
        code = str(getattr(ex, "response", {}).get("Error", {}).get("Code", "")) or ex.__class__.__name__
        name = f"{norm_service_name}.{code}"
        return name if name.endswith("Exception") else f"{name}Exception"

    sdk.StateTaskServiceAwsSdk._normalise_exception_name = staticmethod(normalise)
    original_from_error = sdk.StateTaskServiceAwsSdk._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        # AWS answers every request with a request id; an error without one (a fault the sandbox injects)
        # must not break the cause moto writes from it.
        metadata = getattr(ex, "response", {}).get("ResponseMetadata")
        if isinstance(metadata, dict):
            metadata.setdefault("RequestId", "sandbox-injected-fault")
            metadata.setdefault("HTTPStatusCode", 400)
        return original_from_error(self, env, ex)

    sdk.StateTaskServiceAwsSdk._from_error = from_error

    def send_task_failure(self: Any) -> ActionResult:
        # moto drops the cause; AWS hands it to the Catch as Cause.
        self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                    cause=self._get_param("cause"))
        from moto.core.responses import EmptyResult

        return EmptyResult()

    responses.StepFunctionResponse.send_task_failure = send_task_failure
    _fill_stop_execution()
    _fill_definite_paths()


def _fill_stop_execution() -> None:
    """A stopped run is ABORTED at once, with the caller's error and cause and its last event ExecutionAborted
    (moto: RUNNING until its thread next looks, an hour later for a task waiting on a token, neither kept, and
    the woken task then wrote TaskTimedOut and ExecutionFailed after it). The run's thread is woken to end; what
    it would still record after the abort is dropped, as AWS records nothing after ExecutionAborted."""
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser.api import ExecutionAbortedEventDetails, ExecutionStatus, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.backend import execution as parser_execution

    def stop_execution(self: Any) -> ActionResult:
        from moto.core.utils import utcnow

        arn, error, cause = self._get_param("executionArn"), self._get_param("error"), self._get_param("cause")
        backend = self.stepfunction_backend
        backend._validate_execution_arn(arn)
        machine = backend._get_state_machine_for_execution(arn)
        run = next((e for e in machine.executions if e.execution_arn == arn), None)
        if run is None or not isinstance(run, parser_execution.Execution):
            run = backend.stop_execution(arn)  # moto's own answer: ExecutionDoesNotExist, or its mock engine
            return ActionResult({"stopDate": run.stop_date})
        if run.exec_status == ExecutionStatus.RUNNING:
            stop_date = utcnow()
            run.exec_status, run.stop_date, run.error, run.cause = ExecutionStatus.ABORTED, stop_date, error, cause
            env = run.exec_worker.env if run.exec_worker is not None else None
            if env is not None:
                env.set_stop(stop_date=stop_date, cause=cause, error=error)
                details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
                env.event_manager.add_event(
                    context=env.event_history_context, event_type=HistoryEventType.ExecutionAborted,
                    event_details=EventDetails(executionAbortedEventDetails=ExecutionAbortedEventDetails(**details)),
                    update_source_event_id=False)
                env.event_manager.closed = True
                for endpoint in list(env.callback_pool_manager._pool.values()):
                    endpoint.interrupt_all()  # a task waiting on a token wakes, sees the run stopped, ends
        return ActionResult({"stopDate": run.stop_date})

    responses.StepFunctionResponse.stop_execution = stop_execution
    original_add_event = EventManager.add_event

    def add_event(self: Any, *args: Any, **kwargs: Any) -> int:
        if getattr(self, "closed", False):
            return len(self._history_event_list)  # after ExecutionAborted, nothing more is recorded
        return int(original_add_event(self, *args, **kwargs))

    EventManager.add_event = add_event
    original_reflect = parser_execution.BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect(self: Any) -> None:
        if self.execution.exec_status == ExecutionStatus.ABORTED:
            return  # stopped by StopExecution: its date, error and cause stand
        original_reflect(self)

    parser_execution.BaseExecutionWorkerCommunication._reflect_execution_status = reflect


_INDEFINITE = re.compile(r"[*?:,]|\.\.")


def _fill_definite_paths() -> None:
    """A definite path through an array index ($.Clusters[0].NumberOfNodes) selects one value in AWS; moto's
    interpreter wraps it in a list when the index is not the last step. Answer such paths with the value."""
    import importlib
    import sys

    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if "[" in path and not _INDEFINITE.search(path):
            matches = json_path.parse(path).find(data)  # the interpreter's parse (sandbox.stepfunctions caches it)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    importlib.import_module("moto.stepfunctions.parser.models")  # loads the interpreter's modules
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) is original:
            module.extract_json = extract_json  # type: ignore[attr-defined]
