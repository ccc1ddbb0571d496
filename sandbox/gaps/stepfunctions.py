"""Step Functions (the service's API and moto's ASL interpreter, where it answers unlike AWS).

- SendTaskFailure: moto drops the cause; AWS hands it to the Catch as Cause.
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
    _fill_definite_paths()


_INDEFINITE = re.compile(r"[*?:,]|\.\.")


def _fill_definite_paths() -> None:
    """A definite path through an array index ($.Clusters[0].NumberOfNodes) selects one value in AWS; moto's
    interpreter wraps it in a list when the index is not the last step. Answer such paths with the value."""
    import importlib
    import sys

    from jsonpath_ng.ext import parse
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if "[" in path and not _INDEFINITE.search(path):
            matches = parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    importlib.import_module("moto.stepfunctions.parser.models")  # loads the interpreter's modules
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) is original:
            module.extract_json = extract_json  # type: ignore[attr-defined]
