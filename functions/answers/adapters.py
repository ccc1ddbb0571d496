"""boto3 adapters for the answer function's ports (functions/answers/service.py). Endpoints are configuration
(AWS_ENDPOINT_URL in the sandbox); nothing here knows which account it talks to."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from functions.core.adapters.clients import Clients
from functions.core.adapters.dynamodb import DynamoApprovals
from functions.core.errors import error_code


class DynamoDedupe:
    """Answers already given, by dedupe key: items `answer:<key>` in the breaker table (the same table keeps the
    playbooks' approvals), claimed with a conditional put, purged by the table's TTL (purge_at)."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    @staticmethod
    def _key(key: str) -> dict[str, Any]:
        return {"target": {"S": f"answer:{key}"}}

    def claim(self, key: str, now: datetime, keep_seconds: int) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        epoch = int(now.timestamp())
        try:
            self._clients("dynamodb").put_item(
                TableName=self._table, Item={**self._key(key), "claimed_at": {"S": now.isoformat()},
                                             "dedupe_until": {"N": str(epoch + keep_seconds)},
                                             "purge_at": {"N": str(int((now + timedelta(days=1)).timestamp()))}},
                # A key seen before and still inside its window is the same answer again; an older one is new.
                ConditionExpression="attribute_not_exists(target) OR dedupe_until < :now",
                ExpressionAttributeValues={":now": {"N": str(epoch)}})
            return None
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        item = self._clients("dynamodb").get_item(TableName=self._table, Key=self._key(key),
                                                  ConsistentRead=True).get("Item") or {}
        return {"result": json.loads(item["result"]["S"])} if "result" in item else {}

    def finish(self, key: str, result: dict[str, Any]) -> None:
        self._clients("dynamodb").update_item(
            TableName=self._table, Key=self._key(key), UpdateExpression="SET #r = :r",
            ExpressionAttributeNames={"#r": "result"}, ExpressionAttributeValues={":r": {"S": json.dumps(result)}})

    def release(self, key: str) -> None:
        self._clients("dynamodb").delete_item(TableName=self._table, Key=self._key(key))


class PlaybookFunctions:
    """The playbooks' approvals (breaker table) and their functions, invoked with the answer (RequestResponse)."""

    def __init__(self, clients: Clients, breaker_table: str, functions: dict[str, str]):
        self._clients = clients
        self._approvals = DynamoApprovals(clients, breaker_table)
        self._functions = functions  # playbook -> function name
        self._lambda: Any = None

    def get(self, approval_id: str) -> dict[str, Any] | None:
        return self._approvals.get(approval_id)

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        return self._approvals.of_incident(incident_id)

    def invoke(self, playbook: str, event: dict[str, Any]) -> dict[str, Any]:
        if self._lambda is None:
            import boto3
            from botocore.config import Config

            # The playbook acts and verifies within its own 60 s: read long enough, and never retried by the
            # SDK (a retry would arrive as a second answer, refused as answered, and hide the first's result).
            self._lambda = boto3.client("lambda", config=Config(read_timeout=90, connect_timeout=5,
                                                                retries={"total_max_attempts": 1}))
        name = self._functions[playbook]
        response = self._lambda.invoke(FunctionName=name, InvocationType="RequestResponse",
                                       Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            raise RuntimeError(f"{name} failed: {payload.get('errorType', 'error')}: {payload.get('errorMessage', '')}")
        return dict(payload)
