"""CloudWatch Logs: FilterLogEvents with logStreamNamePrefix and the term syntax of unstructured events.

moto 5.2 ignores `logStreamNamePrefix` and treats `?term` (any of) patterns as match-all. Here: the stream name
prefix, and terms all present, `?term` any of, `-term` none of, "quoted phrases"; JSON and space-delimited
patterns keep moto's handling.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from sandbox.gaps import Fill

OPERATIONS: dict[str, Fill] = {
    "logs:FilterLogEvents": Fill("behaviour", "logStreamNamePrefix and the unstructured term syntax (?any, -none, "
                                              "\"phrases\") applied",
                                 "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/"
                                 "FilterAndPatternSyntax.html"),
}


def install() -> None:
    _fill_filter()


def term_filter(pattern: str) -> Any:
    """A matcher for CloudWatch Logs' unstructured term syntax, or None for the JSON/space-delimited forms."""
    pattern = (pattern or "").strip()
    if not pattern:
        return lambda message: True
    if pattern[0] in "{[":
        return None
    required, any_of, none_of = [], [], []
    for token in shlex.split(pattern):
        if token.startswith("?") and len(token) > 1:
            any_of.append(token[1:])
        elif token.startswith("-") and len(token) > 1:
            none_of.append(token[1:])
        else:
            required.append(token)

    def matches(message: str) -> bool:
        return (all(t in message for t in required) and (not any_of or any(t in message for t in any_of))
                and not any(t in message for t in none_of))

    return matches


def _fill_filter() -> None:
    from moto.logs import responses
    from moto.logs.exceptions import ResourceNotFoundException

    original = responses.LogsResponse.filter_log_events

    def filter_log_events(self: Any) -> str:
        matcher = term_filter(self._get_param("filterPattern") or "")
        if matcher is None:
            return str(original(self))
        name = self._get_param("logGroupName")
        group = self.logs_backend.groups.get(name)
        if group is None:
            raise ResourceNotFoundException("The specified log group does not exist.")
        names = self._get_param("logStreamNames") or []
        prefix = self._get_param("logStreamNamePrefix") or ""
        start, end = self._get_param("startTime"), self._get_param("endTime")
        limit = int(self._get_param("limit") or 10_000)
        offset = int(self._get_param("nextToken") or 0)
        streams = [s for n, s in group.streams.items() if (not names or n in names) and n.startswith(prefix)]
        events = []
        for stream in streams:
            for event in stream.events:
                if (start and event.timestamp < start) or (end and event.timestamp > end):
                    continue
                if matcher(event.message):
                    events.append({**event.to_filter_dict(), "logStreamName": stream.log_stream_name})
        events.sort(key=lambda e: e["timestamp"])
        page = events[offset:offset + limit]
        body: dict[str, Any] = {"events": page, "searchedLogStreams": [
            {"logStreamName": s.log_stream_name, "searchedCompletely": True} for s in streams]}
        if offset + limit < len(events):
            body["nextToken"] = str(offset + limit)
        return json.dumps(body)

    responses.LogsResponse.filter_log_events = filter_log_events
