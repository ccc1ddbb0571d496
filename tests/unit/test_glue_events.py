"""`Glue Job State Change` events into incidents; anything not ours, or not a failure, is refused in one line."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.core.catalog import Catalog
from functions.core.events import BadEvent, parse_glue_event
from functions.handlers.glue_job_failure import parse
from functions.playbooks import PLAYBOOKS
from tests.unit.conftest import load_event

RUN = "jr_" + "0f" * 32


@pytest.fixture
def event() -> dict[str, Any]:
    return load_event("glue_job_state_change.json")


def test_a_failed_run_becomes_an_incident(event: dict[str, Any], catalog: Catalog) -> None:
    incident = parse_glue_event(event, catalog, "glue_job_failure")

    assert incident.id == f"glue-job-state/sales-batch/{RUN}/FAILED"
    assert incident.state == "ALARM"  # the playbook runs on it
    assert incident.resource == "glue:sales-batch"
    assert incident.playbook == "glue_job_failure"
    assert incident.dimensions == {"JobName": "sales-batch", "JobRunId": RUN, "JobRunState": "FAILED"}
    assert incident.changed_at == datetime(2026, 11, 25, 10, 4, 57, tzinfo=UTC)
    assert incident.reason.startswith("ThrottlingException: Rate exceeded")
    assert incident.alarm_name == f"Glue Job State Change: sales-batch run {RUN} FAILED"


def test_a_redelivery_is_the_same_incident_and_a_retry_failing_is_another(event: dict[str, Any],
                                                                          catalog: Catalog) -> None:
    again = copy.deepcopy(event)
    again["id"] = "another-delivery"
    retry = copy.deepcopy(event)
    retry["detail"]["jobRunId"] = "jr_" + "1e" * 32

    first = parse_glue_event(event, catalog, "glue_job_failure").id
    assert parse_glue_event(again, catalog, "glue_job_failure").id == first
    assert parse_glue_event(retry, catalog, "glue_job_failure").id != first


@pytest.mark.parametrize("state", ["FAILED", "TIMEOUT", "ERROR"])
def test_every_declared_failure_state_is_accepted(event: dict[str, Any], catalog: Catalog, state: str) -> None:
    event["detail"]["state"] = state
    assert parse_glue_event(event, catalog, "glue_job_failure").dimensions["JobRunState"] == state
    assert state in PLAYBOOKS["glue_job_failure"].glue_job_states


@pytest.mark.parametrize(("path", "value", "reason"), [
    ("account", "999999999999", "Glue event from account 999999999999 in eu-west-1: this service watches "
                                "111111111111 in eu-west-1 only"),
    ("region", "us-east-1", "Glue event from account 111111111111 in us-east-1: this service watches "
                            "111111111111 in eu-west-1 only"),
    ("detail.jobName", "someone-elses-job", "glue job 'someone-elses-job' is not in the catalog"),
    ("detail.state", "SUCCEEDED", f"glue job sales-batch run {RUN[:24]} is SUCCEEDED: glue_job_failure answers "
                                  f"FAILED, TIMEOUT, ERROR only"),
    ("detail.jobName", "x; rm -rf /", "not a Glue Job State Change event: detail.jobName: String should match"),
    ("detail.jobRunId", "../../etc", "not a Glue Job State Change event: detail.jobRunId: String should match"),
    ("source", "aws.cloudwatch", "not a Glue Job State Change event: source: Input should be 'aws.glue'"),
    ("time", "yesterday at noon", "state timestamp 'yesterday at noon' is not a CloudWatch timestamp"),
])
def test_events_that_are_not_ours_are_refused_in_one_line(event: dict[str, Any], catalog: Catalog, path: str,
                                                          value: str, reason: str) -> None:
    *parents, last = path.split(".")
    node = event
    for key in parents:
        node = node[key]
    node[last] = value

    with pytest.raises(BadEvent) as error:
        parse_glue_event(event, catalog, "glue_job_failure")

    assert str(error.value).startswith(reason)
    assert "\n" not in str(error.value)


def test_the_handler_parses_glue_events_and_alarms(event: dict[str, Any], catalog: Catalog) -> None:
    assert parse(event, catalog, "glue_job_failure").dimensions["JobRunId"] == RUN
    alarm = load_event("alarm_state_change.json")
    alarm["detail"]["alarmName"] = "remedy-dev/glue-failures/glue:sales-batch"
    incident = parse(alarm, catalog, "glue_job_failure")
    assert (incident.resource, incident.dimensions.get("JobRunId")) == ("glue:sales-batch", None)
    with pytest.raises(BadEvent, match="not a CloudWatch Alarm State Change event"):
        parse({"detail-type": "Something Else"}, catalog, "glue_job_failure")
    with pytest.raises(BadEvent, match="belongs to playbook msk_consumer_lag"):
        parse(load_event("alarm_state_change.json"), catalog, "glue_job_failure")
