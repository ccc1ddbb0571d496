"""What the Slack function reaches in AWS: Secrets Manager, its messages table, the answer function."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from functions.core.adapters.clients import Clients

MESSAGE_DAYS = 30  # a message's item lives as long as anyone still answers or reads the incident in Slack


class Secrets:
    """The signing secret and the bot token, read once per container (GetSecretValue)."""

    def __init__(self, clients: Clients):
        self._clients = clients
        self._values: dict[str, str] = {}

    def get(self, name: str) -> str:
        if name not in self._values:
            self._values[name] = str(self._clients("secretsmanager").get_secret_value(SecretId=name)["SecretString"])
        return self._values[name]


class MessagesTable:
    """Incident id -> the Slack message that shows it (channel, ts), its last card and who answered in Slack."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    def get(self, incident_id: str) -> dict[str, Any] | None:
        item = self._clients("dynamodb").get_item(TableName=self._table, Key={"incident_id": {"S": incident_id}},
                                                  ConsistentRead=True).get("Item")
        if item is None:
            return None
        return {"channel": item["channel"]["S"], "ts": item["ts"]["S"], "card": json.loads(item["card"]["S"]),
                "answered": item.get("answered", {}).get("S", ""),
                "notifications": [v["S"] for v in item.get("notifications", {}).get("L", [])]}

    def put(self, incident_id: str, channel: str, ts: str, card: dict[str, Any], answered: str,
            notifications: list[str], now: datetime) -> None:
        self._clients("dynamodb").put_item(TableName=self._table, Item={
            "incident_id": {"S": incident_id}, "channel": {"S": channel}, "ts": {"S": ts},
            "card": {"S": json.dumps(card, sort_keys=True)}, "answered": {"S": answered},
            "notifications": {"L": [{"S": n} for n in notifications[-20:]]},
            "expires_at": {"N": str(int((now + timedelta(days=MESSAGE_DAYS)).timestamp()))}})


class AnswerFunction:
    """The one answer path (functions/answers): invoked directly, RequestResponse, no SDK retry (an answer
    is given once; the answer function is idempotent on the click's dedupe key anyway)."""

    def __init__(self, clients: Clients, function_name: str):
        self._clients = clients
        self._name = function_name

    def ask(self, event: dict[str, Any]) -> dict[str, Any]:
        response = self._clients("lambda").invoke(FunctionName=self._name, InvocationType="RequestResponse",
                                                  Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"the answer function failed: {payload.get('errorMessage') if payload else '?'}")
        return payload if isinstance(payload, dict) else {"outcome": "INVALID", "message": str(payload)}
