"""Wiring for the Slack function: settings, catalog, secrets, adapters and the Bolt app, built once per cold start.

Configuration only: CATALOG_PATH, AUDIT_TABLE, CHAT_TABLE (the messages table), ANSWER_FUNCTION (the answer
function's name) and, optionally, SLACK_API_URL (Slack's Web API; the sandbox points it at its stand-in).
"""

from __future__ import annotations

import base64
import time
from functools import lru_cache
from typing import Any

from pydantic import Field

from functions.chat.app import SLACK_API_URL, Deps, SlackConfig, build_app
from functions.core.catalog import Catalog, load_catalog
from functions.core.settings import FunctionSettings

STALE_SECONDS = 300  # Slack: requests older than five minutes are refused (replay protection)
LAZY_HEADERS = ("x-slack-bolt-lazy-only", "x-slack-bolt-lazy-function-name")
NOT_OURS = "not a Slack request or an SNS notification"


class ChatSettings(FunctionSettings):
    audit_table: str = Field(alias="AUDIT_TABLE")
    chat_table: str = Field(alias="CHAT_TABLE")
    answer_function: str = Field(alias="ANSWER_FUNCTION")
    slack_api_url: str = Field(default=SLACK_API_URL, alias="SLACK_API_URL")


@lru_cache(maxsize=1)
def settings() -> ChatSettings:
    import os

    return ChatSettings.model_validate(dict(os.environ))


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return load_catalog(settings().catalog_path)


@lru_cache(maxsize=1)
def wiring() -> tuple[SlackConfig, Deps]:
    from functions.chat.adapters import AnswerFunction, MessagesTable, Secrets
    from functions.core.adapters.clients import Clients
    from functions.core.adapters.clock import SystemClock
    from functions.core.adapters.dynamodb import DynamoAudit

    s = settings()
    slack = catalog().notifications.slack
    if slack is None:
        raise RuntimeError("the catalog has no notifications.slack section: this function has nothing to serve")
    clients = Clients()
    secrets = Secrets(clients)
    clock = SystemClock()
    config = SlackConfig(signing_secret=secrets.get(slack.signing_secret), bot_token=secrets.get(slack.bot_token),
                         team_id=slack.team_id, channel_id=slack.channel_id, api_url=s.slack_api_url)
    deps = Deps(answers=AnswerFunction(clients, s.answer_function), messages=MessagesTable(clients, s.chat_table),
                audit=DynamoAudit(clients, s.audit_table, clock), clock=clock)
    return config, deps


@lru_cache(maxsize=1)
def bolt_handler() -> Any:
    from slack_bolt.adapter.aws_lambda import SlackRequestHandler

    config, deps = wiring()
    return SlackRequestHandler(build_app(config, deps))


def is_sns(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return isinstance(records, list) and bool(records) and all(
        isinstance(r, dict) and r.get("EventSource") == "aws:sns" for r in records)


def is_url_request(event: Any) -> bool:
    """A function URL request (or Bolt's lazy re-invocation of one): requestContext.http.method is set."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    http = context.get("http") if isinstance(context, dict) else None
    return isinstance(http, dict) and bool(http.get("method"))


def notifications(event: dict[str, Any]) -> list[str]:
    from functions.chat.app import post_notification, web_client

    config, deps = wiring()
    client = web_client(config)
    return [post_notification(record, client, config, deps) for record in event["Records"]]


def interaction(event: Any, context: Any) -> dict[str, Any]:
    """An HTTP request from Slack (or from anyone: the URL is public), or Bolt's own lazy invocation."""
    if not is_url_request(event):
        return {"status": "REJECTED", "reason": f"{NOT_OURS}: no requestContext.http (function URL request) and "
                                                f"no Records[].Sns (notification)"}
    if event.get("method") != "NONE":
        # Only Bolt's lazy runner (this function invoking itself, event["method"] = "NONE") may ask for the lazy
        # listener alone: from the Internet these headers are dropped, the request is handled as sent.
        headers = event.get("headers") or {}
        event["headers"] = {k: v for k, v in headers.items() if k.lower() not in LAZY_HEADERS}
    response: dict[str, Any] = bolt_handler().handle(event, context)
    if response.get("statusCode") == 401:
        _audit_refusal(event)
    return response


def refusal_reason(headers: dict[str, str], now: float) -> str:
    """Why Bolt refused the request (its answer is a bare 401): the timestamp, or else the signature."""
    stamp = headers.get("x-slack-request-timestamp", "")
    if not stamp.isdigit():
        return "no request timestamp (not a request Slack sent)"
    age = now - int(stamp)
    if abs(age) > STALE_SECONDS:
        return (f"request timestamp {int(age)} s old (more than five minutes: a replay, or not from Slack); "
                "refused before its signature was trusted")
    if not headers.get("x-slack-signature"):
        return "no x-slack-signature header (not a request Slack sent)"
    return "x-slack-signature does not match the signing secret (forged or altered)"


def _audit_refusal(event: dict[str, Any]) -> None:
    """Audited under the incident the request claims (unverified), so the incident's timeline shows it."""
    import json
    from urllib.parse import parse_qs

    from functions.chat.messages import click

    headers = {k.lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    claimed: dict[str, Any] = {}
    try:
        payload = json.loads(parse_qs(body).get("payload", ["{}"])[0])
        answer = click(payload)
        claimed = {"incident_id": answer.incident_id, "approval": answer.approval, "decision": answer.decision,
                   "principal": answer.principal}
    except (ValueError, TypeError, KeyError):
        pass
    _, deps = wiring()
    incident = claimed.get("incident_id") or "slack-requests"
    deps.audit.record(str(incident)[:128], "chat_refused", {
        "via": "slack", "verified": False, "reason": refusal_reason(headers, time.time()),
        "claimed": claimed, "source_ip": ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp"),
        "text": f"REFUSED a Slack request: {refusal_reason(headers, time.time())}"})
