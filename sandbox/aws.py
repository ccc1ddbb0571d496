"""The emulated AWS account: moto served on loopback, with the gap fills (sandbox/gaps/, one module per AWS
service: the APIs moto lacks or answers unlike AWS) installed.

Production code reaches it only through endpoint configuration (AWS_ENDPOINT_URL). Every gap filled follows
the AWS API's request and response shapes, so what works here works against AWS.

What this module itself patches in moto, and why (the engine's part, not a service's gap):
- BaseResponse.call_action: every call is recorded (CALLS, CALLS_BY), judged by IAM (sandbox.iam: a call the
  caller's role does not allow is denied as AWS denies it) and answered with an injected fault when one is
  armed (inject_error, the fault matrix);
- S3Response.bucket_response / key_response: the same for S3, whose calls bypass call_action;
- DomainDispatcherApplication.__call__: the same for Health and Support, answered in front of moto's routing
  (sandbox.gaps.health), so this wraps that fill;
- moto.backends.list_of_moto_modules: listed once instead of at every request (same answer, faster).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.protocol_errors import error_body

_PATCHED = False
_LOCK = threading.Lock()

# Every (service, operation) the emulated account answered, in order: API calls per invocation are counted
# from it (a benchmark figure: as few calls as the diagnosis needs).
CALLS: list[tuple[str, str]] = []

# The same calls with who made them and how they were answered: (service, operation, access key id, HTTP
# status), S3 and the Health/Support fills included. The fault matrix (remedy.faults) tells the functions'
# calls from the sandbox's own by the access key.
CALLS_BY: list[tuple[str, str, str, int]] = []
# The thread that made each call of CALLS_BY (same index): this process's requests are answered in the calling
# thread (sandbox.transport), so a recorder can tell an invocation's own calls from those a function queued for
# later makes meanwhile on the asynchronous queue's worker (sandbox.lambda_async).
CALLS_THREAD: list[int] = []
_RECORD = threading.Lock()


def _record(service: str, operation: str, caller: str, status: int) -> None:
    with _RECORD:
        CALLS_BY.append((service, operation, caller, status))
        CALLS_THREAD.append(threading.get_ident())

# Fault injection: (service, operation) -> (error code, message, HTTP status or None, callers or None): the
# sandbox answers with that error, to every caller or only to requests signed with one of `callers`' access keys.
_INJECTED: dict[tuple[str, str], tuple[str, str, int | None, frozenset[str] | None]] = {}


SERVER_ERRORS = {"InternalFailure", "InternalServerError", "ServiceUnavailable", "InternalServerException"}


def _fill_fault_injection() -> None:
    """Answer selected operations with an AWS error, to rehearse what happens when AWS says no."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        key = (self.service_name or "", self._get_action() if hasattr(self, "_get_action") else "")
        CALLS.append(key)
        caller = _access_key(self.headers.get("Authorization", ""))
        # IAM first (sandbox.iam): a principal's call its role does not allow is denied before anything else.
        fault = _iam().check_moto(self, caller) or _fault_for(key, caller, self.headers.get("Content-Type", ""))
        answer = fault or original(self)
        _record(*key, caller, _status_of(answer))
        return answer

    BaseResponse.call_action = call_action
    _fill_s3_fault_injection()


def _iam() -> Any:
    from sandbox import iam

    return iam


def _access_key(authorization: str) -> str:
    """The access key id of a SigV4 `Authorization` header ('' when unsigned)."""
    _, found, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0] if found else ""


def _status_of(answer: Any) -> int:
    try:
        return int(answer[0]) if isinstance(answer, tuple) else 200
    except (TypeError, ValueError):
        return 200


def _fault_for(key: tuple[str, str], caller: str, content_type: str) -> tuple[int, dict[str, str], Any] | None:
    """The injected error answer for this call, if one is armed for it (and for this caller)."""
    armed = _INJECTED.get(key)
    if armed is None:
        return None
    code, message, status, callers = armed
    if callers is not None and caller not in callers:
        return None
    if status is None:
        status = (503 if code == "ServiceUnavailable" else 500) if code in SERVER_ERRORS else 400
    headers, body = error_body(content_type, key[0], code, message)
    headers["status"] = str(status)
    return status, headers, body


def _fill_s3_fault_injection() -> None:
    """moto's S3 answers outside BaseResponse.call_action: its calls are recorded (in CALLS_BY only: CALLS, the
    benchmark's count, leaves S3 out) and faults injected here, the operation named by S3's REST routes."""
    from moto.core.routing import get_service_router
    from moto.s3.responses import S3Response

    def operation_of(request: Any) -> str:
        try:
            return str(get_service_router("s3").match(request)[0].name)
        except Exception:
            return ""

    def wrap(original: Any) -> Any:
        def respond(self: Any, request: Any, full_url: str, headers: Any) -> Any:
            key = ("s3", operation_of(request))
            caller = _access_key(request.headers.get("Authorization", ""))
            fault = _iam().check_s3(request, full_url, key[1], caller) or _fault_for(key, caller, "")
            answer = fault or original(self, request, full_url, headers)
            _record(*key, caller, _status_of(answer))
            return answer

        return respond

    S3Response.bucket_response = wrap(S3Response.bucket_response)
    S3Response.key_response = wrap(S3Response.key_response)


def _fill_global_fault_injection() -> None:
    """AWS Health and Support are answered before moto's routing (sandbox.gaps.health): their calls are
    recorded and faults injected in front of that fill (JSON protocol, the operation in X-Amz-Target)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        service = next((s for s in ("health", "support") if f"/{s}/aws4_request" in authorization), None)
        if service is None:
            return original(self, environ, start_response)
        key = (service, str(environ.get("HTTP_X_AMZ_TARGET", "")).rsplit(".", 1)[-1])
        caller = _access_key(authorization)
        fault = _iam().check_global(service, key[1], caller) or _fault_for(key, caller, "application/x-amz-json-1.1")
        if fault is None:
            statuses: list[int] = []

            def recording(status: str, headers: Any, *args: Any) -> Any:
                statuses.append(int(status.split(maxsplit=1)[0]))
                return start_response(status, headers, *args)

            answer = original(self, environ, recording)
            _record(*key, caller, statuses[0] if statuses else 200)
            return answer
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)  # the request is answered, not left half read
        status, headers, body = fault
        headers.pop("status", None)
        _record(*key, caller, status)
        start_response(f"{status} Injected", list(headers.items()))
        return [body.encode() if isinstance(body, str) else body]

    DomainDispatcherApplication.__call__ = call


def _fill_module_list() -> None:
    """moto's server lists its own package directory (listdir + isdir of ~150 entries) on every request to
    route it: listed once, the same answer."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def install_gap_fills() -> None:
    global _PATCHED
    with _LOCK:
        if _PATCHED:
            return
        _fill_module_list()
        _fill_fault_injection()
        from sandbox import gaps

        gaps.install()  # moto's gaps, one module per service (sandbox/gaps/)
        __import__("sandbox.function_url_auth").function_url_auth.install()  # AWS_IAM function URLs: SigV4 + IAM
        _fill_global_fault_injection()  # in front of the Health/Support fill (sandbox.gaps.health)
        _PATCHED = True


@contextmanager
def inject_error(service: str, operation: str, code: str, message: str = "injected by the sandbox",
                 status: int | None = None, callers: Collection[str] | None = None) -> Iterator[None]:
    """While active, `service`'s `operation` (e.g. ("glue", "StartJobRun")) answers with AWS error `code`
    (HTTP `status`: by default 503 for ServiceUnavailable, 500 for the other server errors, else 400), to every
    request or only to those signed with one of `callers`' access key ids."""
    _INJECTED[(service, operation)] = (code, message, status, frozenset(callers) if callers is not None else None)
    try:
        yield
    finally:
        _INJECTED.pop((service, operation), None)


class EmulatedAccount:
    """moto on 127.0.0.1 (ephemeral port) with the gap fills installed; `environ()` points boto3 at it."""

    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self._server: Any = None
        self.endpoint = ""
        self._clients: dict[tuple[str, str], Any] = {}

    def start(self) -> EmulatedAccount:
        if self._server is not None:
            return self
        os.environ["MOTO_ACCOUNT_ID"] = self.account_id  # moto's default account becomes the catalog's
        # Nothing here launches instances: without moto's ~4,000 default AMIs a reset (and a checkpoint of the
        # account, sandbox.checkpoint) is cheaper.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        install_gap_fills()
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # This process's own requests are answered in-process by the same app (sandbox.transport says why);
        # other processes reach the server above.
        import boto3

        from sandbox import transport

        transport.install()
        transport.serve(self.endpoint)
        if boto3.DEFAULT_SESSION is not None:
            transport.register(boto3.DEFAULT_SESSION)
        return self

    @property
    def running(self) -> bool:
        return self._server is not None

    def environ(self) -> dict[str, str]:
        """What a process needs to talk to this account: configuration, not code."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_SESSION_TOKEN": "sandbox",
        }

    def client(self, service: str) -> Any:
        """One client per service for the sandbox's own calls (a client costs ~10 ms to create)."""
        import boto3

        key = (service, self.endpoint)
        if key not in self._clients:
            env = self.environ()
            self._clients[key] = boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                                              aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                              aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                              aws_session_token=env["AWS_SESSION_TOKEN"])
        return self._clients[key]

    def reset(self) -> None:
        """Forget every resource (a new, empty account), keeping the server and the gap fills."""
        from moto.core.base_backend import BackendDict

        BackendDict.reset()

    def glue_backend(self) -> Any:
        from moto.glue.models import glue_backends

        return glue_backends[self.account_id][self.region]

    def alarm_states(self) -> dict[str, tuple[str, str]]:
        """Every alarm's (StateValue, StateReason), metric and composite: CloudWatch's own record, read as its
        evaluator reads it (in this process). DescribeAlarms of every alarm serialized each whole alarm once per
        evaluated minute (9 % of a model-driven game day) to be read for these two fields."""
        from moto.cloudwatch.models import cloudwatch_backends

        alarms = list(cloudwatch_backends[self.account_id][self.region].alarms.values())
        return {alarm.name: (str(alarm.state_value), str(alarm.state_reason or "")) for alarm in alarms}

    def stop(self) -> None:
        if self._server is not None:
            from sandbox import transport

            transport.forget(self.endpoint)
            self._server.stop()
            self._server = None
