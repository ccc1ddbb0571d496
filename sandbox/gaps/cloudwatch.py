"""CloudWatch: DescribeAlarms with every filter, PutCompositeAlarm, DescribeAlarmHistory.

moto 5.2 applies only the first of DescribeAlarms' name prefix / names / state filters and ignores AlarmTypes,
has no PutCompositeAlarm (its backend keeps a rule, which the fill stores with the ActionsSuppressor) and
no DescribeAlarmHistory. The history is moto's per-alarm `history` list (each entry a state the alarm left:
("StateUpdate", reason, reason data, state, since)): every state change the sandbox makes (set_alarm_state,
sandbox.alarms) lands there, so the history of the alarms a game day trips is real.

Alarms are evaluated from metric data by the engine, sandbox.alarms, not here.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult

from sandbox.gaps import Fill

_API = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference"
OPERATIONS: dict[str, Fill] = {
    "cloudwatch:DescribeAlarms": Fill("behaviour", "every filter given applies (prefix, names, state, action "
                                                   "prefix) and AlarmTypes (default: metric alarms only)",
                                      f"{_API}/API_DescribeAlarms.html"),
    "cloudwatch:PutCompositeAlarm": Fill("missing", "a composite alarm with its rule and ActionsSuppressor, "
                                                      "INSUFFICIENT_DATA until evaluated",
                                         f"{_API}/API_PutCompositeAlarm.html"),
    "cloudwatch:DescribeAlarmHistory": Fill("missing", "state updates from moto's alarm history, with AWS's "
                                                       "filters, order and paging",
                                            f"{_API}/API_DescribeAlarmHistory.html"),
}

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _fill_describe_and_composite()
    _fill_alarm_history()
    _INSTALLED = True


def _fill_describe_and_composite() -> None:
    from moto.cloudwatch import responses

    def describe_alarms(self: Any) -> ActionResult:
        # AWS applies every filter given (moto only the first of prefix / names / state) and AlarmTypes.
        alarms = list(self.cloudwatch_backend.describe_alarms())
        prefix = self._get_param("AlarmNamePrefix")
        names = self._get_param("AlarmNames", [])
        state = self._get_param("StateValue")
        action_prefix = self._get_param("ActionPrefix")
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]  # AWS's default: metric alarms only
        if prefix:
            alarms = [a for a in alarms if a.name.startswith(prefix)]
        if names:
            alarms = [a for a in alarms if a.name in names]
        if state:
            alarms = [a for a in alarms if a.state_value == state]
        if action_prefix:
            alarms = [a for a in alarms if any(x.startswith(action_prefix) for x in a.alarm_actions)]
        metric = [a for a in alarms if a.rule is None] if "MetricAlarm" in types else []
        composite = [a for a in alarms if a.rule is not None] if "CompositeAlarm" in types else []
        return ActionResult({"MetricAlarms": metric, "CompositeAlarms": composite})

    def put_composite_alarm(self: Any) -> ActionResult:
        alarm = self.cloudwatch_backend.put_metric_alarm(
            name=self._get_param("AlarmName"), namespace=None, metric_name=None, comparison_operator=None,
            evaluation_periods=None, period=None, threshold=None, statistic=None,
            description=self._get_param("AlarmDescription"), dimensions=[],
            alarm_actions=self._get_param("AlarmActions", []), ok_actions=self._get_param("OKActions", []),
            insufficient_data_actions=self._get_param("InsufficientDataActions", []),
            actions_enabled=self._get_param("ActionsEnabled", True), rule=self._get_param("AlarmRule"),
            tags=self._get_param("Tags", []))
        alarm.state_value = "INSUFFICIENT_DATA"  # a new composite has not been evaluated yet
        alarm.actions_suppressor = self._get_param("ActionsSuppressor")
        return ActionResult({})

    responses.CloudWatchResponse.describe_alarms = describe_alarms
    responses.CloudWatchResponse.put_composite_alarm = put_composite_alarm


def _aware(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))


def history_items(alarm: Any) -> list[dict[str, Any]]:
    """The alarm's state changes as DescribeAlarmHistory items, oldest first."""
    states = [h for h in alarm.history if h and h[0] == "StateUpdate"]
    states.append(("StateUpdate", alarm.state_reason, alarm.state_reason_data, alarm.state_value,
                   alarm.state_updated_timestamp))
    kind = "CompositeAlarm" if getattr(alarm, "rule", None) else "MetricAlarm"
    items = []
    for old, new in itertools.pairwise(states):
        _, old_reason, _old_data, old_state, _ = old
        _, new_reason, new_data, new_state, at = new
        try:
            reason_data = json.loads(new_data or "{}")
        except (TypeError, json.JSONDecodeError):
            reason_data = {}
        data = {"version": "1.0", "oldState": {"stateValue": old_state, "stateReason": old_reason},
                "newState": {"stateValue": new_state, "stateReason": new_reason, "stateReasonData": reason_data}}
        items.append({"AlarmName": alarm.name, "AlarmType": kind, "Timestamp": _aware(at),
                      "HistoryItemType": "StateUpdate",
                      "HistorySummary": f"Alarm updated from {old_state} to {new_state}",
                      "HistoryData": json.dumps(data)})
    return items


def _fill_alarm_history() -> None:
    from moto.cloudwatch import responses

    def describe_alarm_history(self: Any) -> ActionResult:
        name = self._get_param("AlarmName")
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]  # AWS: metric alarms unless asked
        item_type = self._get_param("HistoryItemType")
        start, end = _aware(self._get_param("StartDate")), _aware(self._get_param("EndDate"))
        limit = int(self._get_param("MaxRecords") or 100)
        offset = int(self._get_param("NextToken") or 0)
        alarms = self.cloudwatch_backend.alarms
        chosen = [alarms[name]] if name in alarms else ([] if name else list(alarms.values()))
        items = [i for alarm in chosen for i in history_items(alarm) if i["AlarmType"] in types]
        if item_type and item_type != "StateUpdate":
            items = []  # moto records state changes only
        items = [i for i in items
                 if (start is None or i["Timestamp"] >= start) and (end is None or i["Timestamp"] <= end)]
        items.sort(key=lambda i: i["Timestamp"], reverse=(self._get_param("ScanBy") or "TimestampDescending")
                   == "TimestampDescending")
        page = items[offset:offset + limit]
        result: dict[str, Any] = {"AlarmHistoryItems": page}
        if offset + limit < len(items):
            result["NextToken"] = str(offset + limit)
        return ActionResult(result)

    responses.CloudWatchResponse.describe_alarm_history = describe_alarm_history


def seed_alarm_history(account: Any, name: str, changes: list[tuple[datetime, str, str]],
                       created: datetime | None = None) -> None:
    """Write state changes (at, new state, reason), oldest first, into an alarm's history, as if CloudWatch
    had made them then; the last one becomes its current state."""
    from moto.cloudwatch.models import cloudwatch_backends

    alarm = cloudwatch_backends[account.account_id][account.region].alarms[name]
    first = created or (changes[0][0] - timedelta(days=30) if changes else datetime.now(UTC))
    states = [("StateUpdate", "Unchecked: Initial alarm creation", "{}", "OK", _naive(first))]
    states += [("StateUpdate", reason, "{}", state, _naive(at)) for at, state, reason in sorted(changes)]
    alarm.history = states[:-1]
    _, alarm.state_reason, alarm.state_reason_data, alarm.state_value, alarm.state_updated_timestamp = states[-1]


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC
