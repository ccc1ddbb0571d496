"""AWS Health and AWS Support: the answers of an account on the Basic support plan.

moto 5.2 has no Health service (its server answers 404) and answers Support as if the account were entitled.
Both APIs need a Business, Enterprise On-Ramp or Enterprise support plan: on the Basic plan (the default here)
they answer SubscriptionRequiredException. set_support_plan("business") rehearses an entitled account: Health's
DescribeEvents answers no events, Support goes to moto. The fill answers in front of moto's routing (the
operation is in X-Amz-Target, the service in the signature's scope); sandbox.aws records these calls and
injects faults in front of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sandbox.gaps import Fill

OPERATIONS: dict[str, Fill] = {
    "health:DescribeEvents": Fill("missing", "SubscriptionRequiredException on the Basic plan, no events on "
                                             "Business", "https://docs.aws.amazon.com/health/latest/APIReference/"
                                                         "API_DescribeEvents.html"),
    "support:CreateCase": Fill("behaviour", "SubscriptionRequiredException on the Basic plan (moto answers as if "
                                            "entitled); moto's answer on Business",
                               "https://docs.aws.amazon.com/awssupport/latest/APIReference/API_CreateCase.html"),
}


@dataclass
class _State:
    support_plan: str = "basic"


STATE = _State()


def reset() -> None:
    global STATE
    STATE = _State()


def set_support_plan(plan: str) -> None:
    """'basic' (default): Health and Support answer SubscriptionRequiredException; 'business': they answer."""
    STATE.support_plan = plan


def install() -> None:
    _fill_dispatch()


def _fill_dispatch() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        scope = str(environ.get("HTTP_AUTHORIZATION", ""))
        service = next((s for s in ("health", "support") if f"/{s}/aws4_request" in scope), None)
        if service == "support" and STATE.support_plan != "basic":
            return original(self, environ, start_response)
        if service == "health" and STATE.support_plan != "basic":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)
            body = json.dumps({"events": []}).encode()
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
            return [body]
        if service is not None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)  # the request is answered, not left half read
            message = (f"AWS {'Health' if service == 'health' else 'Support'} API needs a Business, Enterprise "
                       f"On-Ramp or Enterprise support plan")
            body = json.dumps({"__type": "SubscriptionRequiredException", "message": message}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                               ("x-amzn-ErrorType", "SubscriptionRequiredException")])
            return [body]
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
