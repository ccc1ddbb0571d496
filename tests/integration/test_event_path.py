"""The event path in the sandbox: alarm evaluated from metric data → CloudWatch's event → the
synthesized EventBridge pattern → the real handler → the emulated account changed, audited, notified."""

from __future__ import annotations

import json

import pytest

from functions.core.events import parse_alarm_event
from remedy.gameday.drill import Drill
from sandbox.core import Sandbox

pytestmark = pytest.mark.integration

JOB = "orders-stream"
ALARM = f"remedy-dev/consumer-lag/glue:{JOB}"


def lag(d: Drill, values: list[float]) -> None:
    d.consumer_lag(JOB, values)


def test_lag_alarm_trips_only_on_enough_breaching_datapoints(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    props = sandbox.deployment.alarms[ALARM]
    threshold = float(props["Threshold"])
    assert threshold == d.catalog.thresholds.consumer_lag_messages
    needed = int(props["DatapointsToAlarm"])

    lag(d, [threshold + 1] * (needed - 1) + [0])  # one short of M out of N
    assert not [e for e, _ in sandbox.evaluate_alarms(d.now) if e.alarm_name == ALARM and e.state == "ALARM"]

    d.advance(10)
    lag(d, [0, 0] + [threshold + 1] * needed)
    changes = {e.alarm_name: (e, event) for e, event in sandbox.evaluate_alarms(d.now)}
    evaluation, event = changes[ALARM]
    assert (evaluation.previous, evaluation.state) == ("OK", "ALARM")
    state = sandbox.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"]
    assert state == "ALARM"
    # The event is what the product's own parser accepts as a CloudWatch Alarm State Change.
    incident = parse_alarm_event(event, sandbox.catalog)
    assert incident.resource == f"glue:{JOB}"
    # The alarm's own dimensions (lag_source checkpoint: the lag probe's JobName), carried into the incident.
    assert incident.dimensions == {dim["Name"]: dim["Value"] for dim in props["Dimensions"]} == {"JobName": JOB}


def test_routing_uses_the_synthesized_patterns(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    lag(d, [50_000] * 5)
    (_, event), = [(e, ev) for e, ev in sandbox.evaluate_alarms(d.now) if e.alarm_name == ALARM]
    assert [r.name for r in sandbox.route(event)] == ["remedy-dev-msk_consumer_lag"]
    other = json.loads(json.dumps(event))
    other["detail"]["alarmName"] = "someone-elses-alarm"
    assert sandbox.route(other) == []
    other["detail"]["alarmName"] = ALARM
    other["source"] = "aws.ec2"
    assert sandbox.route(other) == []


def test_stopped_streaming_job_is_restarted_audited_and_notified(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.stop_streaming_job(JOB, error="Connection to node -1 could not be established")
    lag(d, [20_000] * 5)
    deliveries = d.fire()
    assert [i.function for dl in deliveries for i in dl.invocations] == ["remedy-dev-msk-consumer-lag"]
    runs = d.runs(JOB)
    assert [r["JobRunState"] for r in runs] == ["RUNNING", "FAILED"]
    kinds = [r["kind"] for r in d.audit()]
    assert kinds == ["incident", "plan", "decision", "action", "outcome"]
    outcome = d.audit("outcome")[0]["payload"]
    assert outcome["status"] == "ACTED"
    assert runs[0]["Id"] in outcome["summary"]
    breaker = sandbox.client("dynamodb").get_item(TableName="remedy-dev-breaker",
                                                  Key={"target": {"S": f"glue:{JOB}"}})["Item"]
    assert len(breaker["attempts"]["L"]) == 1
    (note,) = d.notifications()
    assert "Connection to node -1" in note["message"]  # what was found: the failed run's error
    assert "aws glue batch-stop-job-run" in note["message"]  # how to undo it


def test_duplicate_delivery_acts_once(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.stop_streaming_job(JOB)
    lag(d, [20_000] * 5)
    (delivery,) = [dl for dl in d.fire() if dl.invocations]  # composites route nowhere
    again = d.deliver(delivery.event)
    assert again.invocations[0].result["status"] == "DUPLICATE"
    assert len(d.active_runs(JOB)) == 1
    assert [r["payload"]["reason"] for r in d.audit("duplicate")] == ["this state change was handled before"]


def test_kill_switch_refuses_and_records(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.set_kill_switch(True)
    d.stop_streaming_job(JOB)
    lag(d, [20_000] * 5)
    d.fire()
    assert d.active_runs(JOB) == []
    (decision,) = [r["payload"] for r in d.audit("decision")]
    assert (decision["verdict"], decision["rule"]) == ("REFUSED", "kill_switch")


def test_unhandled_error_is_retried_then_kept_in_the_on_failure_queue(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    sandbox.client("dynamodb").delete_table(TableName="remedy-dev-audit")  # the handler cannot record
    d.stop_streaming_job(JOB)
    lag(d, [20_000] * 5)
    (delivery,) = [dl for dl in d.fire() if dl.invocations]  # composites route nowhere
    (invocation,) = delivery.invocations
    spec = sandbox.function("remedy-dev-msk-consumer-lag")
    assert invocation.attempts == spec.max_retries + 1
    assert "ResourceNotFoundException" in (invocation.error or "")
    queue = spec.on_failure_arn.rsplit(":", 1)[1]
    sqs = sandbox.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestPayload"] == delivery.event
    assert record["requestContext"]["condition"] == "RetriesExhausted"


def test_bad_event_is_rejected_without_action(sandbox: Sandbox) -> None:
    spec = sandbox.function("remedy-dev-msk-consumer-lag")
    result = sandbox.invoke(spec, {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change"})
    assert result["status"] == "REJECTED"
    assert result["reason"].startswith("not a CloudWatch Alarm State Change event: ")
    assert sandbox.audit() == []


def test_the_alarm_action_pages_on_call_once(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    lag(d, [20_000] * 5)
    d.fire()
    (page,) = d.pages()
    assert page["subject"] == f'ALARM: "{ALARM}" in eu-west-1'
    assert json.loads(page["message"])["NewStateValue"] == "ALARM"
    d.fire()  # nothing changed: no second page
    assert d.pages() == []
