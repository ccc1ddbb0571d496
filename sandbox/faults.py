"""The faults the fault matrix (remedy.faults) rehearses, in each service's own words, and a faster clock for
the waits they cause.

Four faults, each named as the service itself names it, taken from botocore's model of the service (what the
operation declares first, then what the service declares, then the error every AWS API may answer):

    throttling      ThrottlingException, Throttling, TooManyRequestsException, RequestLimitExceeded, SlowDown …
    access-denied   AccessDeniedException, AccessDenied, AuthorizationError, ForbiddenException …
    server-error    InternalServiceException, InternalFailure (500), ServiceUnavailableException (503) …
    not-found       EntityNotFoundException, ResourceNotFoundException, NoSuchKey, ClusterNotFound …

`accelerated()` makes the waits a fault causes pass faster, never fewer of them: botocore's retry backoff (every
attempt of the retry budget is still made), the state machines' Retry intervals and Wait states.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

FAULTS = ("throttling", "access-denied", "server-error", "not-found")

_PATTERNS = {  # in order of preference
    "throttling": ("ThrottlingException", "Throttl", "TooManyRequests", "RequestLimitExceeded",
                   "ProvisionedThroughputExceeded", "SlowDown"),
    "access-denied": ("AccessDenied", "AuthorizationError", "Forbidden", "NotAuthorized", "Unauthorized"),
    "server-error": ("InternalServiceException", "Internal", "ServiceUnavailable", "ServiceFailure"),
    "not-found": ("EntityNotFoundException", "ResourceNotFoundException", "NotFound", "NoSuch", "DoesNotExist"),
}
# Errors that name another service's fault (KMS, a dependency) or a narrower one than the fault meant.
_NOT_THE_FAULT = re.compile(r"^(Kms|KMS)|Dependent|AccessTo|Index|Backup|Export|Import|Replica|GlobalTable|Policy"
                            r"NotFound|Attachment|Annotation|Upload|Integration|Streaming|Organization")
_GENERIC = {  # the error every API of the protocol may answer: (code, HTTP status)
    "throttling": {"query": ("Throttling", 400), "ec2": ("RequestLimitExceeded", 503), "rest-xml": ("SlowDown", 503),
                   "*": ("ThrottlingException", 400)},
    "access-denied": {"query": ("AccessDenied", 403), "ec2": ("UnauthorizedOperation", 403),
                      "rest-xml": ("AccessDenied", 403), "*": ("AccessDeniedException", 400)},
    "server-error": {"ec2": ("InternalError", 500), "rest-xml": ("InternalError", 500), "*": ("InternalFailure", 500)},
    "not-found": {"rest-xml": ("NoSuchBucket", 404), "query": ("NotFound", 404),
                  "*": ("ResourceNotFoundException", 400)},
}


@dataclass(frozen=True)
class Fault:
    kind: str  # one of FAULTS
    code: str  # the error code the service answers with
    status: int  # its HTTP status
    declared: bool  # the operation's model declares this error (else the service's, or every API's)


def _status(shape: Any, kind: str, code: str) -> int:
    modeled = shape.metadata.get("error", {}).get("httpStatusCode") if shape is not None else None
    if modeled:
        return int(modeled)
    if kind == "server-error":
        return 503 if "Unavailable" in code else 500
    return 400


def _pick(shapes: list[Any], kind: str) -> Any:
    candidates = [s for s in shapes if not _NOT_THE_FAULT.search(s.name)]
    for pattern in _PATTERNS[kind]:
        found = next((s for s in candidates if pattern in s.name), None)
        if found is not None:
            return found
    return None


def _code(shape: Any) -> str:
    return str(shape.metadata.get("error", {}).get("code") or shape.name)


@lru_cache(maxsize=512)
def fault_for(service: str, operation: str, kind: str) -> Fault:
    """The error `service`'s `operation` answers with for fault `kind`, as the service names it."""
    model = _service_model(service)
    if model is None:
        code, status = _GENERIC[kind]["*"]
        return Fault(kind, code, status, False)
    try:
        declared = list(model.operation_model(operation).error_shapes)
    except Exception:
        declared = []
    shape = _pick(declared, kind)
    if shape is not None:
        return Fault(kind, _code(shape), _status(shape, kind, _code(shape)), True)
    if service == "s3" and kind == "not-found" and "Object" in operation:
        return Fault(kind, "NoSuchKey", 404, False)
    if service == "ec2" and kind == "not-found":
        code = ("InvalidGroup.NotFound" if "SecurityGroup" in operation else
                "InvalidSubnetID.NotFound" if "Subnet" in operation else "InvalidParameterValue")
        return Fault(kind, code, 400, False)
    # A denial by IAM is the same error across a protocol's APIs, not one of a service's own faults.
    shape = _pick(list(model.error_shapes), kind) if kind != "access-denied" else None
    if shape is not None:
        return Fault(kind, _code(shape), _status(shape, kind, _code(shape)), False)
    generic = _GENERIC[kind]
    protocol = "query" if model.metadata.get("awsQueryCompatible") is not None else model.protocol
    code, status = generic.get(protocol, generic["*"])
    return Fault(kind, code, status, False)


@lru_cache(maxsize=64)
def _service_model(service: str) -> Any:
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(service)
    except Exception:
        return None


# -- a faster clock for the waits faults cause ------------------------------------------------------------

_ACCELERATION = threading.Lock()


@contextlib.contextmanager
def accelerated(factor: float = 0.01) -> Iterator[None]:
    """Within the block, botocore's retry backoff and the state machines' Retry intervals last `factor` times as
    long. Every retry still happens: only the time between them shrinks. Wait states need nothing here: they
    already pass on the sandbox's clock without sleeping (sandbox.stepfunctions), and a Glue stop or a resize
    they poll finishes on that clock; sleeping them for real, however briefly, would leave it standing."""
    from botocore import retryhandler
    from botocore.retries import standard
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    class _Clock:
        @staticmethod
        def sleep(seconds: float) -> None:
            time.sleep(seconds * factor)

    original_backoff = standard.ExponentialBackoff.delay_amount
    original_legacy = retryhandler.delay_exponential
    original_clock = retrier_decl.time

    def backoff(self: Any, context: Any) -> float:
        return float(original_backoff(self, context)) * factor

    def legacy(base: Any, growth_factor: Any, attempts: int) -> float:
        return float(original_legacy(base, growth_factor, attempts)) * factor

    with _ACCELERATION:
        standard.ExponentialBackoff.delay_amount = backoff
        retryhandler.delay_exponential = legacy
        retrier_decl.time = _Clock  # type: ignore[assignment]
        try:
            yield
        finally:
            standard.ExponentialBackoff.delay_amount = original_backoff
            retryhandler.delay_exponential = original_legacy
            retrier_decl.time = original_clock
