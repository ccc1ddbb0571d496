"""Lambda function URLs in the sandbox: each AWS::Lambda::Url of the templates is an HTTP endpoint on loopback.

What AWS documents (Lambda developer guide, "Invoking Lambda function URLs" and "Control access to Lambda
function URLs"): a function URL is a dedicated HTTPS endpoint; the request reaches the function as an event of
payload format 2.0 (version, rawPath, rawQueryString, headers with lower-case names, queryStringParameters,
requestContext with http.method/path/sourceIp, body, isBase64Encoded); the function's answer is mapped back
(statusCode, headers, body, isBase64Encoded; a JSON answer without statusCode is a 200 with that JSON); a
function error is a 502. AuthType NONE still needs a resource-based policy statement allowing
lambda:InvokeFunctionUrl to the principal "*" with lambda:FunctionUrlAuthType NONE (CDK writes it), else 403.
AuthType AWS_IAM: Lambda verifies the request's SigV4 signature and the caller's permission, then hands the
caller's identity to the function in requestContext.authorizer.iam: that check is `IAM_VERIFIER`, a hook the
answer path plugs its verification into; without it every AWS_IAM request is refused (403), never let through.

Each URL gets its own port (the path stays the function's own), kept for the process's life as a URL is kept
for the function's: a reset account serves the same URLs. Requests run the real handler with the function's
environment and role (Sandbox.invoke), one function at a time.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# (method, url, headers, body, function ARN, region) -> requestContext.authorizer.iam of the verified caller, or
# None: refused (sandbox.function_url_auth installs it).
IAM_VERIFIER: Callable[[str, str, dict[str, str], bytes, str, str], dict[str, Any] | None] | None = None

_SERVERS: dict[str, ThreadingHTTPServer] = {}  # function ARN -> its URL's server
_LOCK = threading.Lock()


def serve(function_arn: str) -> str:
    """The URL of `function_arn`'s function URL (started on first use)."""
    with _LOCK:
        server = _SERVERS.get(function_arn)
        if server is None:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.daemon_threads = True
            server.function_arn = function_arn  # type: ignore[attr-defined]
            threading.Thread(target=server.serve_forever, daemon=True, name=f"function-url {function_arn}").start()
            _SERVERS[function_arn] = server
        return f"http://127.0.0.1:{server.server_address[1]}/"


def allows_public_url(permissions: list[dict[str, Any]], function_arn: str) -> bool:
    """Whether the function's resource-based policy lets anyone call its AuthType NONE URL: since October 2025
    Lambda requires both lambda:InvokeFunctionUrl (FunctionUrlAuthType NONE) and lambda:InvokeFunction
    (InvokedViaFunctionUrl) for the principal (Lambda developer guide, "Control access to function URLs")."""
    name = function_arn.rsplit(":", 1)[-1]
    public = [p for p in permissions
              if p.get("Principal") == "*" and str(p.get("FunctionName")) in (function_arn, name)]
    url = any(p.get("Action") == "lambda:InvokeFunctionUrl" and p.get("FunctionUrlAuthType") == "NONE" for p in public)
    invoke = any(p.get("Action") == "lambda:InvokeFunction" and str(p.get("InvokedViaFunctionUrl")).lower() == "true"
                 for p in public)
    return url and invoke


def request_event(method: str, raw_url: str, headers: dict[str, str], body: bytes, url_id: str,
                  region: str, authorizer: dict[str, Any] | None) -> dict[str, Any]:
    """Payload format 2.0, as Lambda builds it for a function URL."""
    parts = urlsplit(raw_url)
    text = body.decode("utf-8") if body else ""
    is_text = headers.get("content-type", "").startswith(("application/json", "application/x-www-form-urlencoded",
                                                          "text/"))
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": parts.path or "/", "rawQueryString": parts.query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "anonymous" if authorizer is None else authorizer.get("accountId", "anonymous"),
            "apiId": url_id, "domainName": f"{url_id}.lambda-url.{region}.on.aws", "domainPrefix": url_id,
            "http": {"method": method, "path": parts.path or "/", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000)},
        "isBase64Encoded": not is_text and bool(body),
    }
    if authorizer is not None:
        event["requestContext"]["authorizer"] = {"iam": authorizer}
    if parts.query:
        event["queryStringParameters"] = dict(parse_qsl(parts.query, keep_blank_values=True))
    if body:
        event["body"] = text if is_text else base64.b64encode(body).decode()
    return event


def response_of(result: Any) -> tuple[int, dict[str, str], bytes]:
    """The function's answer as Lambda maps it to HTTP."""
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return int(result["statusCode"]), headers, raw
    if isinstance(result, str):
        return 200, {"content-type": "application/json"}, result.encode()
    return 200, {"content-type": "application/json"}, json.dumps(result).encode()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        del format, args  # the function's own logs say what happened

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        from sandbox import stepfunctions

        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k: v for k, v in self.headers.items()}
        function_arn = self.server.function_arn  # type: ignore[attr-defined]
        sandbox = stepfunctions.active()
        spec = sandbox.deployment.functions.get(function_arn) if sandbox is not None else None
        url = sandbox.deployment.function_urls.get(function_arn) if spec is not None else None
        if spec is None or url is None:
            return self._answer(404, {}, b'{"Message":"Not Found"}')
        authorizer = None
        if url["AuthType"] == "AWS_IAM":
            authorizer = IAM_VERIFIER(self.command, self.path, headers, body, function_arn,
                                      sandbox.catalog.region) if IAM_VERIFIER else None
            if authorizer is None:
                return self._answer(403, {"content-type": "application/json"}, b'{"Message":"Forbidden"}')
        elif not allows_public_url(sandbox.deployment.permissions, function_arn):
            return self._answer(403, {"content-type": "application/json"}, b'{"Message":"Forbidden"}')
        url_id = url["url_id"]
        event = request_event(self.command, self.path, headers, body, url_id, sandbox.catalog.region, authorizer)
        try:
            result = sandbox.invoke(spec, event)
        except Exception:
            return self._answer(502, {"content-type": "application/json"}, b'{"Message":"Internal Server Error"}')
        self._answer(*response_of(result))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle
