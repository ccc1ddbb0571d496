"""boto3 adapters against botocore's Stubber: the real API models check every request and response shape."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from functions.core.adapters.aws import AwsPorts
from functions.core.adapters.clients import Clients
from functions.core.adapters.cloudwatch import AlarmAdapter
from functions.core.adapters.dynamodb import DynamoApprovals, DynamoAudit, DynamoBreaker, DynamoFollowUps
from functions.core.adapters.glue import GlueAdapter
from functions.core.adapters.sns import SnsNotifier
from functions.core.adapters.ssm import SsmKillSwitch
from functions.core.catalog import Catalog
from functions.core.guard import Guard
from functions.core.models import OutcomeStatus, Verdict
from functions.core.playbook import Context, run
from functions.core.ports import BreakerState
from functions.playbooks.msk_consumer_lag import MskConsumerLag
from tests.unit.conftest import NOW, lag_incident
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeKillSwitch, FakeNotifier, FixedClock

TOPIC_ARN = "arn:aws:sns:eu-west-1:111111111111:remedy-dev-on-call"
Stubbed = Callable[[str], tuple[Clients, Stubber]]


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    """A Clients whose one service client is stubbed; the stubber is active for the test."""
    stubbers: list[Stubber] = []

    def make(service: str) -> tuple[Clients, Stubber]:
        client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
        stub = Stubber(client)
        stub.activate()
        stubbers.append(stub)
        return Clients(overrides={service: client}), stub

    yield make
    for stub in stubbers:
        stub.deactivate()


# --- Glue ----------------------------------------------------------------------------------------------

def test_get_job_reads_workers_and_keeps_the_whole_definition(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    job = {"Name": "orders-stream", "Role": "arn:aws:iam::111111111111:role/glue", "NumberOfWorkers": 2,
           "WorkerType": "G.1X", "Command": {"Name": "gluestreaming", "ScriptLocation": "s3://b/s.py"}}
    stub.add_response("get_job", {"Job": job}, {"JobName": "orders-stream"})

    definition = GlueAdapter(clients).get_job("orders-stream")

    assert (definition.name, definition.workers, definition.worker_type) == ("orders-stream", 2, "G.1X")
    assert definition.raw == job
    stub.assert_no_pending_responses()


def test_recent_runs_become_job_runs(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    started = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    stub.add_response("get_job_runs", {"JobRuns": [
        {"Id": "jr_2", "JobName": "orders-stream", "JobRunState": "RUNNING", "StartedOn": started,
         "NumberOfWorkers": 4, "WorkerType": "G.1X", "Arguments": {"--window": "100s"}},
        {"Id": "jr_1", "JobName": "orders-stream", "JobRunState": "FAILED", "ErrorMessage": "OOM"},
    ]}, {"JobName": "orders-stream", "MaxResults": 5})

    runs = GlueAdapter(clients).recent_runs("orders-stream", limit=5)

    assert [(r.id, r.state, r.active) for r in runs] == [("jr_2", "RUNNING", True), ("jr_1", "FAILED", False)]
    assert (runs[0].workers, runs[0].worker_type, runs[0].started_on) == (4, "G.1X", started)
    assert runs[0].arguments == {"--window": "100s"}
    assert (runs[1].workers, runs[1].error) == (None, "OOM")
    stub.assert_no_pending_responses()


def test_start_run_asks_for_the_worker_count_and_type(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_response("start_job_run", {"JobRunId": "jr_new"},
                      {"JobName": "orders-stream", "NumberOfWorkers": 4, "WorkerType": "G.1X"})
    stub.add_response("start_job_run", {"JobRunId": "jr_plain"}, {"JobName": "orders-stream"})

    adapter = GlueAdapter(clients)

    assert adapter.start_run("orders-stream", workers=4, worker_type="G.1X") == "jr_new"
    assert adapter.start_run("orders-stream") == "jr_plain"  # the job's own defaults
    stub.assert_no_pending_responses()


def test_start_run_passes_arguments(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_response("start_job_run", {"JobRunId": "jr_3"},
                      {"JobName": "sales-batch", "Arguments": {"--partition": "2026-11-25"}})

    assert GlueAdapter(clients).start_run("sales-batch", arguments={"--partition": "2026-11-25"}) == "jr_3"
    stub.assert_no_pending_responses()


def test_stop_runs_stops_the_named_runs(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_response("batch_stop_job_run",
                      {"SuccessfulSubmissions": [{"JobName": "orders-stream", "JobRunId": "jr_2"}], "Errors": []},
                      {"JobName": "orders-stream", "JobRunIds": ["jr_2"]})

    GlueAdapter(clients).stop_runs("orders-stream", ["jr_2"])

    stub.assert_no_pending_responses()


def test_a_run_glue_could_not_stop_raises(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_response("batch_stop_job_run", {"SuccessfulSubmissions": [], "Errors": [
        {"JobName": "orders-stream", "JobRunId": "jr_2",
         "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": "Job run is not running"}}]},
        {"JobName": "orders-stream", "JobRunIds": ["jr_2"]})

    with pytest.raises(RuntimeError, match="could not stop jr_2: Job run is not running"):
        GlueAdapter(clients).stop_runs("orders-stream", ["jr_2"])
    stub.assert_no_pending_responses()


def test_a_glue_error_surfaces_as_client_error(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_client_error("start_job_run", service_error_code="ConcurrentRunsExceededException",
                          service_message="Concurrent runs exceeded", expected_params={"JobName": "orders-stream"})

    with pytest.raises(ClientError) as caught:
        GlueAdapter(clients).start_run("orders-stream")
    assert caught.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    stub.assert_no_pending_responses()


def test_a_scale_up_reaches_glue_as_stop_wait_until_stopped_then_start(stubbed: Stubbed, catalog: Catalog) -> None:
    from functions.core.waiting import Budget

    clients, stub = stubbed("glue")
    running = {"Id": "jr_old", "JobName": "orders-stream", "JobRunState": "RUNNING", "NumberOfWorkers": 2,
               "WorkerType": "G.1X"}
    stub.add_response("get_job_runs", {"JobRuns": [running]}, {"JobName": "orders-stream", "MaxResults": 5})
    stub.add_response("get_job_runs", {"JobRuns": [running]}, {"JobName": "orders-stream", "MaxResults": 10})
    stub.add_response("batch_stop_job_run", {"SuccessfulSubmissions": [{"JobName": "orders-stream",
                                                                         "JobRunId": "jr_old"}], "Errors": []},
                      {"JobName": "orders-stream", "JobRunIds": ["jr_old"]})
    # BatchStopJobRun only asks: the run is STOPPING at the first look, STOPPED at the next (GetJobRun).
    for state in ("STOPPING", "STOPPED"):
        stub.add_response("get_job_run", {"JobRun": dict(running, JobRunState=state)},
                          {"JobName": "orders-stream", "RunId": "jr_old"})
    stub.add_response("start_job_run", {"JobRunId": "jr_new"},
                      {"JobName": "orders-stream", "NumberOfWorkers": 4, "WorkerType": "G.1X"})
    stub.add_response("get_job_runs", {"JobRuns": [
        {"Id": "jr_new", "JobName": "orders-stream", "JobRunState": "STARTING", "NumberOfWorkers": 4,
         "WorkerType": "G.1X"}, dict(running, JobRunState="STOPPED")]},
        {"JobName": "orders-stream", "MaxResults": 5})
    # Verified against the service level: the lag alarm, still in ALARM right after the scale-up.
    alarms, alarm_stub = stubbed("cloudwatch")
    clients._made["cloudwatch"] = alarms("cloudwatch")
    alarm = "remedy-dev/consumer-lag/glue:orders-stream"
    alarm_stub.add_response("describe_alarms", {"MetricAlarms": [{"AlarmName": alarm, "StateValue": "ALARM"}]},
                            {"AlarmNames": [alarm]})
    # The MSK cluster's state, first of the diagnosis: ACTIVE, so nothing is held.
    kafka, kafka_stub = stubbed("kafka")
    clients._made["kafka"] = kafka("kafka")
    kafka_stub.add_response("list_clusters_v2", {"ClusterInfoList": [
        {"ClusterName": "retail-msk-dev", "State": "ACTIVE", "ClusterType": "PROVISIONED"}]},
        {"ClusterNameFilter": "retail-msk-dev"})
    clock = FixedClock(NOW)
    ports = AwsPorts(clients, Budget.for_invocation(clock, 60_000))  # a minute left in the invocation
    ctx = Context(catalog=catalog, ports=ports, kill_switch=FakeKillSwitch(), breaker=FakeBreaker(),
                  audit=FakeAudit(), notifier=FakeNotifier(), clock=clock)

    outcome = run(MskConsumerLag(), lag_incident(), ctx)

    assert outcome.status is OutcomeStatus.ACTED
    assert clock.slept == 5  # one poll interval of the invocation's clock, nothing slept for real
    assert outcome.verification.detail.startswith("run jr_new is STARTING with 4 workers; "
                                                  f"{alarm} is ALARM")
    stub.assert_no_pending_responses()
    alarm_stub.assert_no_pending_responses()


# --- CloudWatch ----------------------------------------------------------------------------------------

def test_in_alarm_pages_through_metric_and_composite_alarms(stubbed: Stubbed) -> None:
    clients, stub = stubbed("cloudwatch")
    query = {"AlarmNamePrefix": "remedy-dev/", "StateValue": "ALARM",
             "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    stub.add_response("describe_alarms", {
        "MetricAlarms": [{"AlarmName": "remedy-dev/consumer-lag/glue:orders-stream", "StateValue": "ALARM"}],
        "CompositeAlarms": [{"AlarmName": "remedy-dev/composite-lake/msk:retail-msk-dev", "StateValue": "ALARM"}],
        "NextToken": "page-2"}, query)
    stub.add_response("describe_alarms", {
        "MetricAlarms": [{"AlarmName": "remedy-dev/consumer-lag/glue:customers-stream", "StateValue": "ALARM"}],
        "CompositeAlarms": []}, dict(query, NextToken="page-2"))

    names = AlarmAdapter(clients).in_alarm("remedy-dev/")

    assert names == ["remedy-dev/consumer-lag/glue:orders-stream", "remedy-dev/composite-lake/msk:retail-msk-dev",
                     "remedy-dev/consumer-lag/glue:customers-stream"]
    stub.assert_no_pending_responses()


def test_state_of_an_alarm(stubbed: Stubbed) -> None:
    clients, stub = stubbed("cloudwatch")
    name = "remedy-dev/consumer-lag/glue:orders-stream"
    stub.add_response("describe_alarms", {"MetricAlarms": [{"AlarmName": name, "StateValue": "OK"}]},
                      {"AlarmNames": [name]})
    stub.add_response("describe_alarms", {"MetricAlarms": []}, {"AlarmNames": ["gone"]})

    assert AlarmAdapter(clients).state_of(name) == "OK"
    assert AlarmAdapter(clients).state_of("gone") == "UNKNOWN"
    stub.assert_no_pending_responses()


# --- Kill switch ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "engaged"), [
    ("off", False), ("OFF\n", False), ("false", False), ("0", False),
    ("on", True), ("ON", True), ("true", True), ("stop everything", True),
])
def test_the_kill_switch_is_off_only_when_it_says_so(stubbed: Stubbed, value: str, engaged: bool) -> None:
    clients, stub = stubbed("ssm")
    stub.add_response("get_parameter",
                      {"Parameter": {"Name": "/remedy/dev/kill-switch", "Type": "String", "Value": value}},
                      {"Name": "/remedy/dev/kill-switch"})

    assert SsmKillSwitch(clients, "/remedy/dev/kill-switch").engaged() is engaged
    stub.assert_no_pending_responses()


def test_a_missing_kill_switch_parameter_stops_the_guard(stubbed: Stubbed, catalog: Catalog) -> None:
    from functions.core.models import Action

    clients, stub = stubbed("ssm")
    stub.add_client_error("get_parameter", service_error_code="ParameterNotFound",
                          expected_params={"Name": "/remedy/dev/kill-switch"})
    guard = Guard(catalog, "msk_consumer_lag", SsmKillSwitch(clients, "/remedy/dev/kill-switch"), FakeBreaker())
    action = Action(name="glue.restart_streaming_job", target="glue:orders-stream",
                    params={"job_name": "orders-stream"}, reason="r")

    decision = guard.check(action, set(), NOW)

    assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "kill_switch")
    stub.assert_no_pending_responses()


# --- Circuit breaker -----------------------------------------------------------------------------------

BREAKER_KEY = {"TableName": "breaker", "Key": {"target": {"S": "glue:orders-stream"}}, "ConsistentRead": True}


def test_a_target_never_acted_on_has_an_empty_breaker(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    stub.add_response("get_item", {}, BREAKER_KEY)

    state = DynamoBreaker(clients, "breaker").load("glue:orders-stream")

    assert state == BreakerState(target="glue:orders-stream", last_action_at=None, attempts=[])
    stub.assert_no_pending_responses()


def test_an_existing_breaker_item_is_read_back(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    stub.add_response("get_item", {"Item": {
        "target": {"S": "glue:orders-stream"},
        "last_action_at": {"S": "2026-11-25T09:00:00+00:00"},
        "attempts": {"L": [{"S": "2026-11-25T01:00:00+00:00"}, {"S": "2026-11-25T09:00:00+00:00"}]}}},
        BREAKER_KEY)

    state = DynamoBreaker(clients, "breaker").load("glue:orders-stream")

    assert state.last_action_at == datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert state.attempts == [datetime(2026, 11, 25, 1, tzinfo=UTC), datetime(2026, 11, 25, 9, tzinfo=UTC)]
    stub.assert_no_pending_responses()


def test_the_first_claim_only_succeeds_if_no_one_created_the_item(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    stub.add_response("update_item", {}, {
        "TableName": "breaker", "Key": BREAKER_KEY["Key"],
        "UpdateExpression": "SET last_action_at = :at, attempts = :attempts",
        "ConditionExpression": "attribute_not_exists(last_action_at)",
        "ExpressionAttributeValues": {":at": {"S": "2026-11-25T10:05:00+00:00"},
                                      ":attempts": {"L": [{"S": "2026-11-25T10:05:00+00:00"}]}}})
    empty = BreakerState(target="glue:orders-stream", last_action_at=None, attempts=[])

    assert DynamoBreaker(clients, "breaker").claim(empty, NOW, NOW - timedelta(hours=24)) is True
    stub.assert_no_pending_responses()


def test_a_later_claim_is_conditional_on_the_state_seen_and_prunes_the_window(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    seen_at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    stub.add_response("update_item", {}, {
        "TableName": "breaker", "Key": BREAKER_KEY["Key"],
        "UpdateExpression": "SET last_action_at = :at, attempts = :attempts",
        "ConditionExpression": "last_action_at = :seen",
        "ExpressionAttributeValues": {
            ":at": {"S": "2026-11-25T10:05:00+00:00"},
            ":attempts": {"L": [{"S": "2026-11-25T09:00:00+00:00"}, {"S": "2026-11-25T10:05:00+00:00"}]},
            ":seen": {"S": "2026-11-25T09:00:00+00:00"}}})
    seen = BreakerState(target="glue:orders-stream", last_action_at=seen_at,
                        attempts=[datetime(2026, 11, 23, 9, tzinfo=UTC), seen_at])

    assert DynamoBreaker(clients, "breaker").claim(seen, NOW, NOW - timedelta(hours=24)) is True
    stub.assert_no_pending_responses()


def test_a_claim_someone_else_made_first_is_lost(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    stub.add_client_error("update_item", service_error_code="ConditionalCheckFailedException",
                          service_message="The conditional request failed", http_status_code=400)
    seen = BreakerState(target="glue:orders-stream", last_action_at=None, attempts=[])

    assert DynamoBreaker(clients, "breaker").claim(seen, NOW, NOW - timedelta(hours=24)) is False
    stub.assert_no_pending_responses()


def test_other_breaker_errors_are_raised(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    stub.add_client_error("update_item", service_error_code="ProvisionedThroughputExceededException",
                          http_status_code=400)
    seen = BreakerState(target="glue:orders-stream", last_action_at=None, attempts=[])

    with pytest.raises(ClientError):
        DynamoBreaker(clients, "breaker").claim(seen, NOW, NOW - timedelta(hours=24))
    stub.assert_no_pending_responses()


def test_a_loaded_state_claims_with_exactly_the_stored_timestamp(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    stored = "2026-11-25T09:41:07.123456+00:00"
    stub.add_response("get_item", {"Item": {"target": {"S": "glue:orders-stream"},
                                            "last_action_at": {"S": stored}, "attempts": {"L": [{"S": stored}]}}},
                      BREAKER_KEY)
    stub.add_response("update_item", {}, {
        "TableName": "breaker", "Key": BREAKER_KEY["Key"],
        "UpdateExpression": "SET last_action_at = :at, attempts = :attempts",
        "ConditionExpression": "last_action_at = :seen",
        "ExpressionAttributeValues": {":at": {"S": "2026-11-25T10:05:00+00:00"},
                                      ":attempts": {"L": [{"S": stored}, {"S": "2026-11-25T10:05:00+00:00"}]},
                                      ":seen": {"S": stored}}})
    breaker = DynamoBreaker(clients, "breaker")

    assert breaker.claim(breaker.load("glue:orders-stream"), NOW, NOW - timedelta(hours=24)) is True
    stub.assert_no_pending_responses()


def test_leases_are_kept_beside_the_breaker_state_and_listed(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    lease = {"target": "glue:orders-stream", "playbook": "msk_consumer_lag"}
    stub.add_response("update_item", {}, {"TableName": "breaker", "Key": BREAKER_KEY["Key"],
                                          "UpdateExpression": "SET lease = :lease",
                                          "ExpressionAttributeValues": {":lease": {"S": json.dumps(lease,
                                                                                                sort_keys=True)}}})
    stub.add_response("scan", {"Items": [{"lease": {"S": json.dumps(lease)}}]},
                      {"TableName": "breaker", "FilterExpression": "attribute_exists(lease)",
                       "ProjectionExpression": "lease"})
    stub.add_response("update_item", {}, {"TableName": "breaker", "Key": BREAKER_KEY["Key"],
                                          "UpdateExpression": "REMOVE lease"})
    breaker = DynamoBreaker(clients, "breaker")

    breaker.put_lease("glue:orders-stream", lease)
    assert breaker.leases() == [lease]
    breaker.clear_lease("glue:orders-stream")
    stub.assert_no_pending_responses()


def test_a_pending_approval_is_recorded_once_and_answered_once(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    key = {"target": {"S": "approval:ap-0123456789"}}
    approval = {"approval_id": "ap-0123456789", "incident": {"id": "remedy-dev/consumer-lag/glue:o@1"},
                "playbook": "msk_consumer_lag", "expires_at": "2026-11-25T11:05:00Z"}
    stub.add_response("update_item", {}, {
        "TableName": "breaker", "Key": key,
        "UpdateExpression": "SET approval = :a, approval_status = :pending, incident_id = :i, playbook = :p, "
                            "expires_epoch = :e",
        "ConditionExpression": "attribute_not_exists(approval)",
        "ExpressionAttributeValues": {":a": {"S": json.dumps(approval, sort_keys=True)}, ":pending": {"S": "PENDING"},
                                      ":i": {"S": "remedy-dev/consumer-lag/glue:o@1"},
                                      ":p": {"S": "msk_consumer_lag"}, ":e": {"N": "1795604700"}}})
    answer = {"TableName": "breaker", "Key": key,
              "UpdateExpression": "SET approval_status = :status, answered_by = :by, answer_reason = :reason, "
                                  "answered_at = :at, purge_at = :purge",
              "ConditionExpression": "approval_status = :pending AND expires_epoch > :now",
              "ExpressionAttributeValues": {":status": {"S": "APPROVED"}, ":by": {"S": "alice"},
                                            ":reason": {"S": "ok"}, ":at": {"S": "2026-11-25T10:05:00+00:00"},
                                            ":pending": {"S": "PENDING"}, ":now": {"N": "1795601100"},
                                            # answered: left to the table's TTL 30 days on (the audit keeps it)
                                            ":purge": {"N": str(1795601100 + 30 * 86400)}}}
    stub.add_response("update_item", {}, answer)
    stub.add_client_error("update_item", service_error_code="ConditionalCheckFailedException",
                          expected_params=answer)
    stub.add_response("get_item", {"Item": {**key, "approval": {"S": json.dumps(approval)},
                                            "approval_status": {"S": "APPROVED"}, "answered_by": {"S": "alice"}}},
                      {"TableName": "breaker", "Key": key, "ConsistentRead": True})
    approvals = DynamoApprovals(clients, "breaker")

    assert approvals.put(approval) is True
    assert approvals.answer("ap-0123456789", "APPROVED", "alice", "ok", NOW) is True
    assert approvals.answer("ap-0123456789", "APPROVED", "alice", "ok", NOW) is False  # answered once
    assert approvals.get("ap-0123456789") == {**approval, "status": "APPROVED", "answered_by": "alice"}
    stub.assert_no_pending_responses()


def test_a_verification_window_is_closed_once(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    follow_up = {"key": "remedy-dev/consumer-lag/glue:o@1", "playbook": "msk_consumer_lag"}
    stub.add_response("scan", {"Items": [{"follow_up": {"S": json.dumps(follow_up)}}]}, {
        "TableName": "breaker", "FilterExpression": "follow_up_status = :watching AND playbook = :p",
        "ExpressionAttributeValues": {":watching": {"S": "WATCHING"}, ":p": {"S": "msk_consumer_lag"}},
        "ProjectionExpression": "follow_up"})
    close = {"TableName": "breaker", "Key": {"target": {"S": "follow-up:remedy-dev/consumer-lag/glue:o@1"}},
             "UpdateExpression": "SET follow_up_status = :status, closed_at = :at, purge_at = :purge",
             "ConditionExpression": "follow_up_status = :watching",
             "ExpressionAttributeValues": {":status": {"S": "VERIFIED"}, ":at": {"S": "2026-11-25T10:05:00+00:00"},
                                           ":watching": {"S": "WATCHING"},
                                           ":purge": {"N": str(1795601100 + 30 * 86400)}}}
    stub.add_response("update_item", {}, close)
    stub.add_client_error("update_item", service_error_code="ConditionalCheckFailedException", expected_params=close)
    follow_ups = DynamoFollowUps(clients, "breaker")

    assert follow_ups.watching("msk_consumer_lag") == [follow_up]
    assert follow_ups.close(follow_up["key"], "VERIFIED", NOW) is True
    assert follow_ups.close(follow_up["key"], "VERIFIED", NOW) is False
    stub.assert_no_pending_responses()


# --- Audit and notification ----------------------------------------------------------------------------

def test_audit_records_are_ordered_items_per_incident(stubbed: Stubbed) -> None:
    clients, stub = stubbed("dynamodb")
    incident_id = "remedy-dev/consumer-lag/glue:orders-stream@2026-11-25T10:04:40.989+0000"
    for seq, kind, payload in ((1, "incident", {"state": "ALARM"}), (2, "decision", {"verdict": "REFUSED",
                                                                                      "rule": "cooldown"})):
        stub.add_response("put_item", {}, {"TableName": "audit", "Item": {
            "incident_id": {"S": incident_id},
            "seq": {"S": f"2026-11-25T10:05:00+00:00#{seq:04d}"},
            "kind": {"S": kind},
            "at": {"S": "2026-11-25T10:05:00+00:00"},
            "payload": {"S": json.dumps(payload, sort_keys=True)}}})
    audit = DynamoAudit(clients, "audit", FixedClock(NOW))

    audit.record(incident_id, "incident", {"state": "ALARM"})
    audit.record(incident_id, "decision", {"rule": "cooldown", "verdict": "REFUSED"})

    stub.assert_no_pending_responses()


def test_the_notification_is_published_to_the_on_call_topic(stubbed: Stubbed) -> None:
    clients, stub = stubbed("sns")
    subject = "[remedy-dev] ACTED: msk_consumer_lag on glue:orders-stream"
    stub.add_response("publish", {"MessageId": "m-1"},
                      {"TopicArn": TOPIC_ARN, "Subject": subject, "MessageStructure": "json",
                       "Message": ANY})
    sent: dict[str, Any] = {}
    clients("sns").meta.events.register("provide-client-params.sns.Publish",
                                        lambda params, **_: sent.update(params))

    SnsNotifier(clients, TOPIC_ARN).publish(subject, "WHAT FIRED ...")

    stub.assert_no_pending_responses()
    per_protocol = json.loads(sent["Message"])
    # SNS requires a default when MessageStructure is json; people read the text by e-mail, the Slack
    # function gets it structured, Amazon Q Developer in chat applications its custom notification.
    assert per_protocol["default"] == per_protocol["email"] == "WHAT FIRED ..."
    assert json.loads(per_protocol["lambda"]) == {"subject": subject, "text": "WHAT FIRED ..."}
    card = json.loads(per_protocol["https"])
    assert (card["version"], card["source"], card["content"]["title"]) == ("1.0", "custom", subject)


def test_clients_are_made_once_per_service_and_overrides_win() -> None:
    injected: Any = object()
    clients = Clients(overrides={"glue": injected})

    ports = AwsPorts(clients)

    assert clients("glue") is injected
    assert ports.glue is ports.glue  # built on first use, then kept
    assert ports.glue._glue is injected
