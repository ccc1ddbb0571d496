"""CloudWatch alarms: their states (AlarmPort)."""

from __future__ import annotations

from datetime import datetime

from functions.core.adapters.clients import Clients


class AlarmAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def state_of(self, alarm_name: str) -> str:
        alarms = self._clients("cloudwatch").describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
        return str(alarms[0]["StateValue"]) if alarms else "UNKNOWN"

    def state_since(self, alarm_name: str) -> tuple[str, datetime | None]:
        alarms = self._clients("cloudwatch").describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
        if not alarms:
            return "UNKNOWN", None
        return str(alarms[0]["StateValue"]), alarms[0].get("StateUpdatedTimestamp")

    def in_alarm(self, name_prefix: str) -> list[str]:
        """Names of our alarms (metric and composite) in ALARM now."""
        pages = self._clients("cloudwatch").get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=name_prefix, StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        names: list[str] = []
        for page in pages:
            names += [a["AlarmName"] for a in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])]
        return names
