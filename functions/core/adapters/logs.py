"""CloudWatch Logs: a failed run's error lines (LogsPort)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.core.adapters.clients import Clients
from functions.core.errors import error_code


class LogsAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def matching_lines(self, group: str, stream_prefix: str, pattern: str, limit: int,
                       start: datetime | None = None) -> list[str]:
        """One FilterLogEvents page: the log read stays small whatever the run wrote."""
        request: dict[str, Any] = {"logGroupName": group, "logStreamNamePrefix": stream_prefix,
                                   "filterPattern": pattern, "limit": limit}
        if start is not None:
            request["startTime"] = int(start.timestamp() * 1000)
        from botocore.exceptions import ClientError

        try:
            events = self._clients("logs").filter_log_events(**request).get("events", [])
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return []
            raise
        return [str(e.get("message", "")).rstrip() for e in events]
