"""Lambda `Invoke` (RequestResponse and Event) of the functions the sandbox deployed from the templates.

moto would hand an invocation to its Lambda emulation, which needs Docker and knows none of the synthesized
functions (the sandbox deploys them as FunctionSpecs, not into moto). `remedy incident approve|reject` answers
a playbook's pending approval by invoking the playbook's function directly (functions/core/approvals.py), so
here an Invoke of a deployed function runs its real handler in this process with its template environment
(Sandbox.invoke, as a Step Functions Lambda task does): the result is the response payload, an exception is
a function error (`X-Amz-Function-Error: Unhandled`, payload errorType/errorMessage), as AWS answers. Any other
function name falls through to moto. The CLI's code path is the same against AWS and against the sandbox, in
process (game day) or as a subprocess pointed at it through AWS_ENDPOINT_URL.

InvocationType=Event is answered 202 and queued (sandbox.lambda_async: run after the caller, retried, then the
on-failure destination), as Lambda's asynchronous invocation is; Slack's lazy listeners depend on it. A function
that invokes another one synchronously (the Slack function asking the answer function) waits for it: the callee
runs nested, in the caller's turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from sandbox.gaps import Fill

_API = "https://docs.aws.amazon.com/lambda/latest/api"
OPERATIONS: dict[str, Fill] = {
    "lambda:Invoke": Fill("behaviour", "a deployed function's real handler runs in this process (moto's Lambda "
                                       "needs Docker and knows none of them); a raised error is a function error",
                          f"{_API}/API_Invoke.html"),
    "lambda:GetLayerVersionByArn": Fill("missing", "the public Powertools layer version the templates use (another "
                                                   "account's: moto keeps layers per account); AccessDenied for "
                                                   "an unknown one", f"{_API}/API_GetLayerVersionByArn.html"),
    "lambda:GetFunctionUrlConfig": Fill("behaviour", "a deployed function's URL (AWS::Lambda::Url of the templates, "
                                                   "served on loopback by sandbox.function_urls); "
                                                   "ResourceNotFoundException for a function without one",
                                        f"{_API}/API_GetFunctionUrlConfig.html"),
    "lambda:GetAccountSettings": Fill("missing", "the account's concurrency limit (default 1,000 per region) minus "
                                                 "what functions reserve", f"{_API}/API_GetAccountSettings.html"),
}
DEFAULT_CONCURRENCY = 1000  # Lambda's default concurrent executions quota per region (Lambda quotas page)


@dataclass
class _State:
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)  # layer version ARN -> GetLayerVersion answer
    concurrency_limit: int = DEFAULT_CONCURRENCY


STATE = _State()
_INSTALLED = False


def reset() -> None:
    global STATE
    STATE = _State()


def set_concurrency_limit(limit: int) -> None:
    """The account's concurrent executions quota (a new account's can be as low as 10)."""
    STATE.concurrency_limit = limit


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _fill_layers_and_settings()
    from moto.awslambda.responses import LambdaResponse

    original = LambdaResponse.invoke

    def invoke(self: Any) -> Any:
        from sandbox import active

        name = unquote(self.path.rsplit("/", 2)[-2]).split(":function:", 1)[-1].split(":", 1)[0]
        sandbox = active.active()
        spec = next((s for s in sandbox.deployment.functions.values() if name in (s.name, s.arn)), None) \
            if sandbox is not None else None
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if spec is None or kind not in ("RequestResponse", "Event"):
            return original(self)
        raw = self.body or b"{}"
        event = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        if kind == "Event":  # queued, 202 with no payload; runs after the caller (sandbox.lambda_async)
            from sandbox import lambda_async

            request_id = lambda_async.submit(sandbox, spec, event)
            return 202, {"x-amzn-requestid": request_id, "status": "202"}, ""
        headers = {"content-type": "application/json", "x-amz-executed-version": "$LATEST"}
        try:
            if _from_running_function(sandbox, self.headers.get("Authorization", "")):
                # A running function waits for this answer (Lambda to Lambda, RequestResponse): it holds the
                # sandbox's function lock, so the callee runs in its turn (Sandbox.invoke_nested).
                result = sandbox.invoke_nested(spec, event)
            else:
                with active.FUNCTION_LOCK:  # one function at a time: invoking switches the process's environment
                    result = sandbox.invoke(spec, event)
        except Exception as error:
            headers["x-amz-function-error"] = "Unhandled"
            return 200, headers, json.dumps({"errorType": type(error).__name__, "errorMessage": str(error),
                                             "stackTrace": []})
        return 200, headers, json.dumps(result, default=str)

    LambdaResponse.invoke = invoke
    _fill_function_urls()
    _INSTALLED = True


def _fill_function_urls() -> None:
    from moto.awslambda.responses import LambdaResponse

    original = LambdaResponse.get_function_url_config

    def get_function_url_config(self: Any) -> Any:
        from sandbox.active import active

        name = unquote(self.path.rstrip("/").rsplit("/", 2)[-2]).split(":function:", 1)[-1].split(":", 1)[0]
        sandbox = active()
        spec = next((s for s in sandbox.deployment.functions.values() if name in (s.name, s.arn)), None) \
            if sandbox is not None else None
        if spec is None:
            return original(self)
        url = getattr(sandbox.deployment, "function_urls", {}).get(spec.arn)
        if url is None:
            return 404, {"x-amzn-ErrorType": "ResourceNotFoundException", "Content-Type": "application/json",
                         "status": "404"}, json.dumps({"Type": "User", "Message": f"The resource you requested "
                                                                                  f"does not exist: {spec.arn}"})
        return 200, {"Content-Type": "application/json"}, json.dumps({
            "FunctionUrl": url["url"], "FunctionArn": spec.arn, "AuthType": url["AuthType"],
            "CreationTime": "2026-01-01T00:00:00.000+0000", "LastModifiedTime": "2026-01-01T00:00:00.000+0000",
            "InvokeMode": "BUFFERED"})

    LambdaResponse.get_function_url_config = get_function_url_config


def _from_running_function(sandbox: Any, authorization: str) -> bool:
    """Whether the request is signed by the function the sandbox is running right now (its role's key)."""
    from sandbox import iam
    from sandbox.aws import _access_key

    running = getattr(sandbox, "running", None)
    return running is not None and _access_key(authorization) == iam.function_key(running)


def _fill_layers_and_settings() -> None:
    from moto.awslambda import responses, urls

    def get_layer_version_by_arn(self: Any) -> Any:
        # GET /2018-10-31/layers?find=LayerVersion&Arn=…: moto has no method for it.
        arn = (parse_qs(self.parsed_url.query).get("Arn") or [""])[0]
        found = STATE.layers.get(arn)
        if found is None:
            # AWS: an unknown version of another account's layer is answered like one you may not read.
            return 403, {"x-amzn-ErrorType": "AccessDeniedException", "Content-Type": "application/json",
                         "status": "403"}, \
                json.dumps({"Type": "User", "Message": f"User is not authorized to perform: "
                                                       f"lambda:GetLayerVersion on resource: {arn}"})
        return 200, {"Content-Type": "application/json"}, json.dumps(found)

    def get_account_settings(self: Any) -> Any:
        reserved = sum(int(getattr(fn, "reserved_concurrency", None) or 0)
                       for fn in self.backend.list_functions())
        return 200, {"Content-Type": "application/json"}, json.dumps({
            "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                             "CodeSizeZipped": 52428800, "ConcurrentExecutions": STATE.concurrency_limit,
                             "UnreservedConcurrentExecutions": STATE.concurrency_limit - reserved},
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(self.backend.list_functions())}})

    responses.LambdaResponse.get_layer_version_by_arn = get_layer_version_by_arn
    responses.LambdaResponse.get_account_settings = get_account_settings
    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = responses.LambdaResponse.dispatch
