"""DynamoDB: the breaker table (breaker state, leases, pending starts, approvals, verification windows)
and the audit trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.core.adapters.clients import Clients
from functions.core.errors import error_code
from functions.core.ports import BreakerState, Clock


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


class DynamoBreaker:
    """Cooldown and attempt budget per resource, in one item per target (the circuit breaker)."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    def load(self, target: str) -> BreakerState:
        item = self._clients("dynamodb").get_item(TableName=self._table, Key={"target": {"S": target}},
                                                  ConsistentRead=True).get("Item")
        if not item:
            return BreakerState(target=target, last_action_at=None, attempts=[])
        return BreakerState(
            target=target,
            last_action_at=datetime.fromisoformat(item["last_action_at"]["S"]),
            attempts=[datetime.fromisoformat(a["S"]) for a in item.get("attempts", {}).get("L", [])],
        )

    def claim(self, seen: BreakerState, at: datetime, window_start: datetime) -> bool:
        from botocore.exceptions import ClientError

        attempts = [a for a in seen.attempts if a >= window_start] + [at]
        values: dict[str, Any] = {":at": {"S": _iso(at)}, ":attempts": {"L": [{"S": _iso(a)} for a in attempts]}}
        # An update, not a put: the item also holds the target's lease, which a claim must not erase.
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"target": {"S": seen.target}},
            "UpdateExpression": "SET last_action_at = :at, attempts = :attempts",
        }
        if seen.last_action_at is None:
            request["ConditionExpression"] = "attribute_not_exists(last_action_at)"
        else:
            request["ConditionExpression"] = "last_action_at = :seen"
            values[":seen"] = {"S": _iso(seen.last_action_at)}
        request["ExpressionAttributeValues"] = values
        try:
            self._clients("dynamodb").update_item(**request)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_lease(self, target: str, lease: dict[str, Any]) -> None:
        self._clients("dynamodb").update_item(
            TableName=self._table, Key={"target": {"S": target}}, UpdateExpression="SET lease = :lease",
            ExpressionAttributeValues={":lease": {"S": json.dumps(lease, sort_keys=True)}})

    def clear_lease(self, target: str) -> None:
        self._clients("dynamodb").update_item(TableName=self._table, Key={"target": {"S": target}},
                                              UpdateExpression="REMOVE lease")

    def leases(self) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_exists(lease)", ProjectionExpression="lease")
        return [json.loads(item["lease"]["S"]) for page in pages for item in page.get("Items", [])]

    def put_pending_start(self, target: str, pending: dict[str, Any]) -> None:
        self._clients("dynamodb").update_item(
            TableName=self._table, Key={"target": {"S": target}}, UpdateExpression="SET pending_start = :p",
            ExpressionAttributeValues={":p": {"S": json.dumps(pending, sort_keys=True, default=str)}})

    def clear_pending_start(self, target: str) -> None:
        self._clients("dynamodb").update_item(TableName=self._table, Key={"target": {"S": target}},
                                              UpdateExpression="REMOVE pending_start")

    def pending_starts(self) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_exists(pending_start)",
            ProjectionExpression="pending_start")
        return [json.loads(item["pending_start"]["S"]) for page in pages for item in page.get("Items", [])]


def conditional_update(clients: Clients, request: dict[str, Any]) -> bool:
    """One conditional UpdateItem: False when its condition did not hold (someone else got there first)."""
    from botocore.exceptions import ClientError

    try:
        clients("dynamodb").update_item(**request)
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


class DynamoApprovals:
    """Actions awaiting a person: one item per approval in the breaker table (key `approval:<id>`), beside the
    breaker state, so a playbook function needs no table and no IAM action beyond what the breaker has
    (GetItem, Scan, UpdateItem). Every write is a conditional UpdateItem: recorded once, answered once."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    @staticmethod
    def _key(approval_id: str) -> dict[str, Any]:
        return {"target": {"S": f"approval:{approval_id}"}}

    def put(self, approval: dict[str, Any]) -> bool:
        expires = datetime.fromisoformat(str(approval["expires_at"]))
        return conditional_update(self._clients, {
            "TableName": self._table, "Key": self._key(approval["approval_id"]),
            "UpdateExpression": "SET approval = :a, approval_status = :pending, incident_id = :i, playbook = :p, "
                                "expires_epoch = :e",
            "ConditionExpression": "attribute_not_exists(approval)",
            "ExpressionAttributeValues": {
                ":a": {"S": json.dumps(approval, sort_keys=True, default=str)}, ":pending": {"S": "PENDING"},
                ":i": {"S": str(approval["incident"]["id"])}, ":p": {"S": str(approval["playbook"])},
                ":e": {"N": str(int(expires.timestamp()))}}})

    def get(self, approval_id: str) -> dict[str, Any] | None:
        item = self._clients("dynamodb").get_item(TableName=self._table, Key=self._key(approval_id),
                                                  ConsistentRead=True).get("Item")
        return _approval(item) if item and "approval" in item else None

    def answer(self, approval_id: str, status: str, by: str, reason: str, at: datetime) -> bool:
        return conditional_update(self._clients, {
            "TableName": self._table, "Key": self._key(approval_id),
            "UpdateExpression": "SET approval_status = :status, answered_by = :by, answer_reason = :reason, "
                                "answered_at = :at, purge_at = :purge",
            "ConditionExpression": "approval_status = :pending AND expires_epoch > :now",
            "ExpressionAttributeValues": {
                ":status": {"S": status}, ":by": {"S": by}, ":reason": {"S": reason}, ":at": {"S": _iso(at)},
                ":pending": {"S": "PENDING"}, ":now": {"N": str(int(at.timestamp()))}, ":purge": _purge(at)}})

    def expire(self, approval_id: str, at: datetime) -> bool:
        return conditional_update(self._clients, {
            "TableName": self._table, "Key": self._key(approval_id),
            "UpdateExpression": "SET approval_status = :expired, answered_at = :at, purge_at = :purge",
            "ConditionExpression": "approval_status = :pending AND expires_epoch <= :now",
            "ExpressionAttributeValues": {":expired": {"S": "EXPIRED"}, ":at": {"S": _iso(at)},
                                          ":pending": {"S": "PENDING"}, ":now": {"N": str(int(at.timestamp()))},
                                          ":purge": _purge(at)}})

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_exists(approval) AND incident_id = :i",
            ExpressionAttributeValues={":i": {"S": incident_id}})
        return [_approval(item) for page in pages for item in page.get("Items", [])]

    def waiting(self, playbook: str) -> list[dict[str, Any]]:
        """The unanswered approvals of `playbook` (functions.core.escalation), each with `reminded_at`."""
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, ConsistentRead=True,
            FilterExpression="attribute_exists(approval) AND approval_status = :pending AND playbook = :p",
            ExpressionAttributeValues={":pending": {"S": "PENDING"}, ":p": {"S": playbook}})
        return [{**_approval(item), "reminded_at": item.get("reminded_at", {}).get("S", "")}
                for page in pages for item in page.get("Items", [])]

    def remind(self, approval_id: str, at: datetime) -> bool:
        """The reminder recorded once, only while the approval is pending and its window open."""
        return conditional_update(self._clients, {
            "TableName": self._table, "Key": self._key(approval_id),
            "UpdateExpression": "SET reminded_at = :at",
            "ConditionExpression": "approval_status = :pending AND expires_epoch > :now AND "
                                   "attribute_not_exists(reminded_at)",
            "ExpressionAttributeValues": {":at": {"S": _iso(at)}, ":pending": {"S": "PENDING"},
                                          ":now": {"N": str(int(at.timestamp()))}}})


# An answered approval or a closed window is done: the audit trail keeps its record, so the working item in
# the breaker table is left to DynamoDB's TTL (attribute purge_at, infra/constructs/state.py) after this long.
PURGE_AFTER = timedelta(days=30)


def _purge(at: datetime) -> dict[str, str]:
    return {"N": str(int((at + PURGE_AFTER).timestamp()))}


def _approval(item: dict[str, Any]) -> dict[str, Any]:
    """The approval as recorded, with its answer (the item's own attributes are the truth about it)."""
    approval = dict(json.loads(item["approval"]["S"]))
    approval["status"] = item.get("approval_status", {}).get("S", "PENDING")
    if "expires_epoch" in item:  # what the conditional answer judges, so the refusal says the same
        approval["expires_at"] = datetime.fromtimestamp(int(item["expires_epoch"]["N"]), UTC).isoformat()
    for field in ("answered_by", "answer_reason", "answered_at"):
        if field in item:
            approval[field] = item[field]["S"]
    return approval


class DynamoFollowUps:
    """Verification windows: one item per thing done in the breaker table (key `follow-up:<key>`). The final
    verdict is a conditional UpdateItem (WATCHING -> VERIFIED | FAILED | INCONCLUSIVE): recorded once."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    def put(self, follow_up: dict[str, Any]) -> None:
        conditional_update(self._clients, {
            "TableName": self._table, "Key": {"target": {"S": f"follow-up:{follow_up['key']}"}},
            "UpdateExpression": "SET follow_up = :f, follow_up_status = :watching, playbook = :p",
            "ConditionExpression": "attribute_not_exists(follow_up)",
            "ExpressionAttributeValues": {":f": {"S": json.dumps(follow_up, sort_keys=True, default=str)},
                                          ":watching": {"S": "WATCHING"}, ":p": {"S": str(follow_up["playbook"])}}})

    def watching(self, playbook: str) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="follow_up_status = :watching AND playbook = :p",
            ExpressionAttributeValues={":watching": {"S": "WATCHING"}, ":p": {"S": playbook}},
            ProjectionExpression="follow_up")
        return [json.loads(item["follow_up"]["S"]) for page in pages for item in page.get("Items", [])]

    def close(self, key: str, status: str, at: datetime) -> bool:
        return conditional_update(self._clients, {
            "TableName": self._table, "Key": {"target": {"S": f"follow-up:{key}"}},
            "UpdateExpression": "SET follow_up_status = :status, closed_at = :at, purge_at = :purge",
            "ConditionExpression": "follow_up_status = :watching",
            "ExpressionAttributeValues": {":status": {"S": status}, ":at": {"S": _iso(at)},
                                          ":watching": {"S": "WATCHING"}, ":purge": _purge(at)}})


class DynamoAudit:
    """The audit trail: one item per decision, keyed by incident and a sequence that keeps their order."""

    def __init__(self, clients: Clients, table: str, clock: Clock):
        self._clients = clients
        self._table = table
        self._clock = clock
        self._seq = 0

    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None:
        self._seq += 1
        at = self._clock.now()
        self._clients("dynamodb").put_item(TableName=self._table, Item={
            "incident_id": {"S": incident_id},
            "seq": {"S": f"{_iso(at)}#{self._seq:04d}"},
            "kind": {"S": kind},
            "at": {"S": _iso(at)},
            "payload": {"S": json.dumps(payload, default=str, sort_keys=True)},
        })
