"""The safety store on DynamoDB (functions.core.ports.SafetyPort): snoozes, ad-hoc freezes and the fleet
budget, as items of the breaker table beside the breaker state, so the playbooks need no other table.

- a snooze is one item per resource (key `snooze:<target>`), read with one GetItem per decision; its
  purge_at (the table's TTL attribute) is an hour after its end. The guard compares `until` with the clock:
  DynamoDB's TTL deletes expired items within a few days, not at the second, so it only cleans up;
- ad-hoc freezes are one item (`freezes`): one GetItem tells the guard, and the procedures' gate, whether
  any is in force;
- the fleet budget is one item (`fleet-budget`): its entries of the last hour and a version. A claim is an
  UpdateItem conditional on the version it read (ConditionalCheckFailedException: someone else wrote first);
- earned autonomy's record is one item (`modes`): the modes the record or a person set and the recent
  escalations by playbook.action, versioned the same way (functions.core.autonomy).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from functions.core.adapters.dynamodb import conditional_update

SNOOZE, FREEZES, FLEET, MODES = "snooze:", "freezes", "fleet-budget", "modes"
WRITE_TRIES = 8


def _versioned(table: str, key: str, seen: int, values: dict[str, Any], update: str,
               names: dict[str, str] | None = None) -> dict[str, Any]:
    """An UpdateItem that writes `update` and bumps the version, only if the version is still `seen`."""
    request: dict[str, Any] = {"TableName": table, "Key": {"target": {"S": key}},
                               "UpdateExpression": f"{update}, version = :next",
                               "ExpressionAttributeValues": {**values, ":next": {"N": str(seen + 1)}}}
    if names:  # `state` is a DynamoDB reserved word
        request["ExpressionAttributeNames"] = names
    if seen:
        request["ConditionExpression"] = "version = :seen"
        request["ExpressionAttributeValues"][":seen"] = {"N": str(seen)}
    else:
        request["ConditionExpression"] = "attribute_not_exists(version)"
    return request


class DynamoSafety:
    def __init__(self, clients: Any, table: str):
        self._clients = clients
        self._table = table

    def _get(self, key: str) -> dict[str, Any]:
        return dict(self._clients("dynamodb").get_item(TableName=self._table, Key={"target": {"S": key}},
                                                       ConsistentRead=True).get("Item") or {})

    # -- snoozes ------------------------------------------------------------------------------------------

    def snooze_of(self, target: str) -> dict[str, Any] | None:
        item = self._get(f"{SNOOZE}{target}")
        return dict(json.loads(item["snooze"]["S"])) if "snooze" in item else None

    def put_snooze(self, snooze: dict[str, Any]) -> None:
        # UpdateItem (not PutItem/DeleteItem): whoever keeps the breaker table needs no other action for this.
        until = datetime.fromisoformat(str(snooze["until"]))
        self._clients("dynamodb").update_item(
            TableName=self._table, Key={"target": {"S": f"{SNOOZE}{snooze['resource']}"}},
            UpdateExpression="SET snooze = :s, purge_at = :p",
            ExpressionAttributeValues={":s": {"S": json.dumps(snooze, sort_keys=True, default=str)},
                                       ":p": {"N": str(int(until.timestamp()) + 3600)}})

    def cancel_snooze(self, target: str, by: str, at: datetime) -> bool:
        return conditional_update(self._clients, {
            "TableName": self._table, "Key": {"target": {"S": f"{SNOOZE}{target}"}},
            "UpdateExpression": "REMOVE snooze", "ConditionExpression": "attribute_exists(snooze)"})

    def snoozes(self) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_exists(snooze)", ProjectionExpression="snooze")
        return [dict(json.loads(item["snooze"]["S"])) for page in pages for item in page.get("Items", [])]

    # -- ad-hoc freezes -----------------------------------------------------------------------------------

    def freezes(self) -> list[dict[str, Any]]:
        item = self._get(FREEZES)
        return list(json.loads(item["freezes"]["S"])) if "freezes" in item else []

    def _change_freezes(self, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], at: datetime) -> None:
        for _ in range(WRITE_TRIES):
            item = self._get(FREEZES)
            seen = int(item.get("version", {}).get("N", "0"))
            current = [f for f in (json.loads(item["freezes"]["S"]) if "freezes" in item else [])
                       if datetime.fromisoformat(str(f["until"])) > at]  # ended ones are dropped on the way
            values = {":f": {"S": json.dumps(change(current), sort_keys=True, default=str)}}
            if conditional_update(self._clients, _versioned(self._table, FREEZES, seen, values, "SET freezes = :f")):
                return
        raise RuntimeError("the freezes item kept changing under this write: try again")

    def put_freeze(self, freeze: dict[str, Any], at: datetime) -> None:
        self._change_freezes(lambda current: [*current, freeze], at)

    def cancel_freeze(self, freeze_id: str, at: datetime) -> None:
        self._change_freezes(lambda current: [f for f in current if f["id"] != freeze_id], at)

    # -- the fleet budget ---------------------------------------------------------------------------------

    def load_fleet(self) -> tuple[int, list[dict[str, str]]]:
        item = self._get(FLEET)
        entries = json.loads(item["entries"]["S"]) if "entries" in item else []
        return int(item.get("version", {}).get("N", "0")), list(entries)

    def save_fleet(self, seen_version: int, entries: list[dict[str, str]]) -> bool:
        values = {":e": {"S": json.dumps(entries, sort_keys=True)}}
        return conditional_update(self._clients,
                                  _versioned(self._table, FLEET, seen_version, values, "SET entries = :e"))

    # -- earned autonomy ----------------------------------------------------------------------------------

    def load_modes(self) -> tuple[int, dict[str, Any] | None]:
        item = self._get(MODES)
        state = json.loads(item["state"]["S"]) if "state" in item else None
        return int(item.get("version", {}).get("N", "0")), state

    def save_modes(self, seen_version: int, state: dict[str, Any]) -> bool:
        values = {":s": {"S": json.dumps(state, sort_keys=True, default=str)}}
        return conditional_update(self._clients, _versioned(self._table, MODES, seen_version, values, "SET #s = :s",
                                                      names={"#s": "state"}))
