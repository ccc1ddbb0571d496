"""Alarm state change events into incidents; anything not ours is refused with one line."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.core import naming
from functions.core.catalog import Catalog
from functions.core.events import BadEvent, parse_alarm_event, parse_timestamp
from tests.unit.conftest import LAG_ALARM, load_event


@pytest.fixture
def event() -> dict[str, Any]:
    return load_event("alarm_state_change.json")


def test_an_alarm_state_change_becomes_an_incident(event: dict[str, Any], catalog: Catalog) -> None:
    incident = parse_alarm_event(event, catalog, "msk_consumer_lag")

    assert incident.id == f"{LAG_ALARM}@2026-11-25T10:04:40.989+0000"
    assert incident.alarm_name == LAG_ALARM
    assert incident.state == "ALARM"
    assert incident.previous_state == "OK"
    assert incident.reason.startswith("Threshold Crossed: 5 out of the last 5 datapoints")
    assert incident.changed_at == datetime(2026, 11, 25, 10, 4, 40, 989000, tzinfo=UTC)
    assert (incident.account, incident.region) == ("111111111111", "eu-west-1")
    assert incident.playbook == "msk_consumer_lag"
    assert incident.resource == "glue:orders-stream"
    assert incident.dimensions == {"Cluster Name": "retail-msk-dev", "Consumer Group": "glue-orders-stream",
                                   "Topic": "orders"}


def test_the_same_state_change_delivered_twice_is_the_same_incident(event: dict[str, Any],
                                                                     catalog: Catalog) -> None:
    again = copy.deepcopy(event)
    again["id"] = "another-delivery-id"
    again["time"] = "2026-11-25T10:06:02Z"

    assert parse_alarm_event(again, catalog).id == parse_alarm_event(event, catalog).id


def test_an_ok_state_change_is_parsed_too(event: dict[str, Any], catalog: Catalog) -> None:
    event["detail"]["state"]["value"] = "OK"
    event["detail"]["previousState"]["value"] = "ALARM"

    incident = parse_alarm_event(event, catalog)

    assert (incident.state, incident.previous_state) == ("OK", "ALARM")


def _set(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = event
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return event


_DELETE = object()
_HUGE = "x" * (257 * 1024)


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("detail", _DELETE, "not a CloudWatch Alarm State Change event: detail: Field required"),
    ("source", "aws.glue", "not a CloudWatch Alarm State Change event: source:"),
    ("detail-type", "Glue Job State Change", "not a CloudWatch Alarm State Change event: detail-type:"),
    ("detail", "ALARM", "not a CloudWatch Alarm State Change event: detail:"),
    ("detail.state", "ALARM", "not a CloudWatch Alarm State Change event: detail.state:"),
    ("detail.state.value", "ON_FIRE", "not a CloudWatch Alarm State Change event: detail.state.value:"),
    ("detail.alarmName", 42, "not a CloudWatch Alarm State Change event: detail.alarmName:"),
    ("account", 111111111111, "not a CloudWatch Alarm State Change event: account:"),
    ("detail.state.timestamp", "yesterday at ten", "state timestamp 'yesterday at ten' is not a CloudWatch"),
    ("account", "999999999999", "alarm from account 999999999999 in eu-west-1: this service watches "
                                "111111111111 in eu-west-1 only"),
    ("region", "us-east-1", "alarm from account 111111111111 in us-east-1: this service watches "
                            "111111111111 in eu-west-1 only"),
    ("detail.alarmName", "ServerCpuTooHigh", "alarm 'ServerCpuTooHigh' is not one of remedy-dev's remediable"),
    ("detail.alarmName", "remedy-prod/consumer-lag/glue:orders-stream", "is not one of remedy-dev's remediable"),
    ("detail.alarmName", "remedy-dev/cpu-high/glue:orders-stream", "is not one of remedy-dev's remediable"),
    ("detail.alarmName", "remedy-dev/consumer-lag/glue:ghost-stream",
     "names component 'glue:ghost-stream', not in the catalog"),
    ("detail.alarmName", "remedy-dev/consumer-lag/glue:orders-stream; rm -rf / #", "not in the catalog"),
    ("detail.alarmName", "remedy-dev/consumer-lag/glue:orders-stream' OR '1'='1", "not in the catalog"),
    ("detail.alarmName", "remedy-dev/consumer-lag/glue:orders-stream$(curl evil)\nnext", "not in the catalog"),
    ("detail.configuration.description", _HUGE, "event is larger than EventBridge's 256 KB limit"),
])
def test_events_it_does_not_own_are_refused_in_one_line(event: dict[str, Any], catalog: Catalog, path: str,
                                                         value: Any, expected: str) -> None:
    with pytest.raises(BadEvent) as caught:
        parse_alarm_event(_set(event, path, value), catalog, "msk_consumer_lag")

    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert len(message) < 400


@pytest.mark.parametrize("not_a_dict", [None, "{}", ["event"], 42])
def test_a_non_object_event_is_refused(not_a_dict: Any, catalog: Catalog) -> None:
    with pytest.raises(BadEvent, match=r"^event must be a JSON object, got \w+$"):
        parse_alarm_event(not_a_dict, catalog)


def test_an_alarm_routed_to_the_wrong_playbook_is_refused(event: dict[str, Any], catalog: Catalog) -> None:
    with pytest.raises(BadEvent, match="belongs to playbook msk_consumer_lag, not glue_job_failure"):
        parse_alarm_event(event, catalog, "glue_job_failure")


def test_an_alarm_of_another_playbooks_signal_is_refused(event: dict[str, Any], catalog: Catalog,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(naming.SIGNALS, "job-failures", "glue_job_failure")
    event["detail"]["alarmName"] = "remedy-dev/job-failures/glue:sales-batch"

    assert parse_alarm_event(event, catalog).playbook == "glue_job_failure"
    with pytest.raises(BadEvent, match="belongs to playbook glue_job_failure, not msk_consumer_lag"):
        parse_alarm_event(event, catalog, "msk_consumer_lag")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T10:04:40.989+0000", datetime(2026, 11, 25, 10, 4, 40, 989000, tzinfo=UTC)),
    ("2026-11-25T10:04:40Z", datetime(2026, 11, 25, 10, 4, 40, tzinfo=UTC)),
    ("2026-11-25T10:04:40.5Z", datetime(2026, 11, 25, 10, 4, 40, 500000, tzinfo=UTC)),
])
def test_cloudwatch_timestamps_parse_as_utc(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected
