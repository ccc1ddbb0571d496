"""Lambda `Invoke` (RequestResponse) of the functions the sandbox deployed from the templates.

moto would hand an invocation to its Lambda emulation, which needs Docker and knows none of the synthesized
functions (the sandbox deploys them as FunctionSpecs, not into moto). `remedy incident approve|reject` answers
a playbook's pending approval by invoking the playbook's function directly (functions/core/approvals.py), so
here an Invoke of a deployed function runs its real handler in this process with its template environment
(Sandbox.invoke, as a Step Functions Lambda task does): the result is the response payload, an exception is
a function error (`X-Amz-Function-Error: Unhandled`, payload errorType/errorMessage), as AWS answers. Any other
function name falls through to moto. The CLI's code path is the same against AWS and against the sandbox, in
process (game day) or as a subprocess pointed at it through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.awslambda.responses import LambdaResponse

    original = LambdaResponse.invoke

    def invoke(self: Any) -> Any:
        from sandbox import stepfunctions

        name = unquote(self.path.rsplit("/", 2)[-2]).split(":function:", 1)[-1].split(":", 1)[0]
        sandbox = stepfunctions.active()
        spec = next((s for s in sandbox.deployment.functions.values() if name in (s.name, s.arn)), None) \
            if sandbox is not None else None
        if spec is None or self.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
            return original(self)
        raw = self.body or b"{}"
        event = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        headers = {"content-type": "application/json", "x-amz-executed-version": "$LATEST"}
        with stepfunctions._LOCK:  # one function at a time: invoking switches the process's environment
            try:
                result = sandbox.invoke(spec, event)
            except Exception as error:
                headers["x-amz-function-error"] = "Unhandled"
                return 200, headers, json.dumps({"errorType": type(error).__name__, "errorMessage": str(error),
                                                 "stackTrace": []})
        return 200, headers, json.dumps(result, default=str)

    LambdaResponse.invoke = invoke
    _INSTALLED = True
