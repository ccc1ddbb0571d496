"""CloudTrail: LookupEvents over the event history the sandbox seeds (seed_cloudtrail_event).

moto 5.2 has no LookupEvents (its CloudTrail keeps trails, not an event history). Here the seeded events are
looked up with AWS's filters (one lookup attribute), time range, newest first and paging.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult

from sandbox.gaps import Fill

OPERATIONS: dict[str, Fill] = {
    "cloudtrail:LookupEvents": Fill("missing", "the seeded events, filtered by attribute and time, newest first, "
                                               "paged", "https://docs.aws.amazon.com/awscloudtrail/latest/"
                                                        "APIReference/API_LookupEvents.html"),
}


@dataclass
class _State:
    events: list[dict[str, Any]] = field(default_factory=list)


STATE = _State()


def reset() -> None:
    global STATE
    STATE = _State()


def install() -> None:
    _fill_lookup_events()


def seed_cloudtrail_event(*, name: str, source: str, at: datetime, username: str = "", access_key: str = "",
                          identity_arn: str = "", ip: str = "203.0.113.7", error: str = "", read_only: bool = False,
                          region: str = "eu-west-1", resources: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """One event in the emulated account's CloudTrail event history (what LookupEvents returns)."""
    event_id = str(uuid.uuid4())
    detail = {"eventVersion": "1.08", "eventID": event_id, "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": ip,
              "readOnly": read_only, "userIdentity": {"type": "IAMUser" if username else "AssumedRole",
                                                      "arn": identity_arn, "accessKeyId": access_key,
                                                      "userName": username}}
    if error:
        detail["errorCode"] = error
    event = {"EventId": event_id, "EventName": name, "ReadOnly": "true" if read_only else "false",
             "AccessKeyId": access_key, "EventTime": at, "EventSource": source, "Username": username,
             "Resources": resources or [], "CloudTrailEvent": json.dumps(detail)}
    STATE.events.append(event)
    return event


def _fill_lookup_events() -> None:
    from moto.cloudtrail import responses

    def lookup_events(self: Any) -> ActionResult:
        attributes = self._get_param("LookupAttributes") or []
        start, end = self._get_param("StartTime"), self._get_param("EndTime")
        keys = {"Username": "Username", "AccessKeyId": "AccessKeyId", "EventName": "EventName",
                "EventSource": "EventSource", "ReadOnly": "ReadOnly", "EventId": "EventId"}
        events = sorted(STATE.events, key=lambda e: e["EventTime"], reverse=True)
        for attribute in attributes:
            key = keys.get(attribute["AttributeKey"])
            if key:
                events = [e for e in events if str(e.get(key, "")) == attribute["AttributeValue"]]

        def instant(value: Any) -> datetime | None:
            if value in (None, ""):
                return None
            if isinstance(value, int | float):
                return datetime.fromtimestamp(value, UTC)
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))

        low, high = instant(start), instant(end)
        events = [e for e in events
                  if (low is None or e["EventTime"] >= low) and (high is None or e["EventTime"] <= high)]
        limit = int(self._get_param("MaxResults") or 50)
        offset = int(self._get_param("NextToken") or 0)
        page = events[offset:offset + limit]
        result: dict[str, Any] = {"Events": page}
        if offset + limit < len(events):
            result["NextToken"] = str(offset + limit)
        return ActionResult(result)

    responses.CloudTrailResponse.lookup_events = lookup_events
