"""The answer function's events and wiring: a signed function URL request (the CLI; AuthType AWS_IAM, so Lambda
has verified the caller and puts it in requestContext.authorizer.iam) or the Slack function's direct invocation
(`{"remedy-answer": …}`, functions/answers/__init__.py). Anything else is refused in one line."""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from typing import Any

from pydantic import Field, ValidationError

from functions.answers import ANSWER_EVENT, AnswerResult, CliAnswerBody, CliSettingBody, parse_slack_answer
from functions.answers.rules import Identity
from functions.answers.service import AnswerPorts, Question, answer
from functions.core.settings import FunctionSettings


class AnswerSettings(FunctionSettings):
    """The answer function's (infra/constructs/answers.py sets exactly these, plus Powertools' own)."""

    audit_table: str = Field(alias="AUDIT_TABLE")
    breaker_table: str = Field(alias="BREAKER_TABLE")
    approvals_table: str = Field(alias="APPROVALS_TABLE")
    playbook_functions: str = Field(alias="PLAYBOOK_FUNCTIONS")  # JSON: playbook -> function name


def _environment_key() -> tuple[str, ...]:
    names = ("CATALOG_PATH", "AUDIT_TABLE", "BREAKER_TABLE", "APPROVALS_TABLE", "PLAYBOOK_FUNCTIONS",
             "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID")
    return tuple(os.environ.get(name, "") for name in names)


@lru_cache(maxsize=2)
def _wiring(_key: tuple[str, ...]) -> tuple[Any, AnswerPorts]:
    from functions.answers.adapters import DynamoDedupe, PlaybookFunctions
    from functions.core.adapters.clients import Clients
    from functions.core.adapters.clock import SystemClock
    from functions.core.adapters.dynamodb import DynamoAudit
    from functions.core.catalog import load_catalog
    from functions.procedures.adapters import ApprovalTable, StepFunctionsCallback

    settings = AnswerSettings.model_validate(dict(os.environ))
    clients, clock = Clients(), SystemClock()
    ports = AnswerPorts(
        dedupe=DynamoDedupe(clients, settings.breaker_table),
        playbooks=PlaybookFunctions(clients, settings.breaker_table, json.loads(settings.playbook_functions)),
        procedures=ApprovalTable(clients, settings.approvals_table), callback=StepFunctionsCallback(clients),
        audit=DynamoAudit(clients, settings.audit_table, clock), clock=clock)
    return load_catalog(settings.catalog_path), ports


def reset() -> None:
    _wiring.cache_clear()


def handle(event: Any) -> dict[str, Any]:
    if isinstance(event, dict) and ANSWER_EVENT in event:
        return _slack(event)
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict) and "http" in event["requestContext"]:
        return _url(event)
    return _invalid("", "not an answer: expected a signed function URL request or {\"remedy-answer\": …}")


def _slack(event: dict[str, Any]) -> dict[str, Any]:
    try:
        request = parse_slack_answer(event)
    except ValueError as error:
        return _invalid(str((event.get(ANSWER_EVENT) or {}).get("approval", "")) if isinstance(
            event.get(ANSWER_EVENT), dict) else "", str(error))
    identity = Identity(principal=request.principal, via="slack", display=request.display)
    question = Question(request.approval, request.decision, request.reason, request.procedure, request.dedupe)
    catalog, ports = _wiring(_environment_key())
    return answer(question, identity, catalog, ports).model_dump(mode="json")


def _url(event: dict[str, Any]) -> dict[str, Any]:
    """A function URL request. Lambda has already refused an unsigned, forged or unauthorized one (403) before
    invoking: what arrives carries the caller as IAM verified it."""
    caller = ((event["requestContext"].get("authorizer") or {}).get("iam") or {})
    if not caller.get("userArn"):  # the URL is not AWS_IAM (a deployment error): answer nobody
        return _http(403, _invalid("", "no verified caller: the answer URL must use AuthType AWS_IAM"))
    if event["requestContext"]["http"].get("method") != "POST":
        return _http(405, _invalid("", "POST an answer (remedy incident approve|reject)"))
    raw = event.get("body") or ""
    text = base64.b64decode(raw).decode() if event.get("isBase64Encoded") else str(raw)
    try:
        data = json.loads(text or "{}")
        if isinstance(data, dict) and "kind" in data:  # a setting: snooze, freeze, mode (functions/answers/settings)
            return _setting(CliSettingBody.model_validate(data), caller)
        body = CliAnswerBody.model_validate(data)
    except (ValueError, ValidationError) as error:
        detail = error.errors()[0] if isinstance(error, ValidationError) else None
        where = ".".join(str(p) for p in detail["loc"]) if detail else "body"
        return _http(400, _invalid("", f"answer: {where}: {detail['msg'] if detail else 'not JSON'}"))
    identity = Identity(principal=str(caller["userArn"]), via="iam", display=body.display)
    question = Question(body.approval, body.decision, body.reason, body.procedure, body.dedupe)
    catalog, ports = _wiring(_environment_key())
    return _http(200, answer(question, identity, catalog, ports).model_dump(mode="json"))


def _setting(body: CliSettingBody, caller: dict[str, Any]) -> dict[str, Any]:
    from functions.answers.settings import apply
    from functions.core.adapters.clients import Clients
    from functions.core.adapters.safety import DynamoSafety

    catalog, ports = _wiring(_environment_key())
    store = DynamoSafety(Clients(), AnswerSettings.model_validate(dict(os.environ)).breaker_table)
    identity = Identity(principal=str(caller["userArn"]), via="iam")
    return _http(200, apply(body, identity, catalog, store, ports.audit, ports.clock).model_dump(mode="json"))


def _invalid(approval: str, message: str) -> dict[str, Any]:
    return AnswerResult(outcome="INVALID", message=message, approval=approval or "-").model_dump(mode="json")


def _http(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
