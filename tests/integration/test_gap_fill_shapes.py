"""Responses shaped like AWS: every operation a gap fill answers (or changes the answer of) is called through a
real boto3 client against the sandbox, and the parsed response is validated against botocore's output shape
for the operation: types and required members (botocore's ParamValidator), enums and every nested member
(checked here), and, for JSON protocols, the raw body's member names (botocore drops names it does not know,
so a misspelt member would otherwise vanish instead of failing).

FILLED lists the operations explicitly; test_every_installed_fill_is_validated proves the list covers every
method the gap-fill modules install on moto, so a new fill cannot skip this test.

The gap-fill tables (sandbox/gaps/<service>.py OPERATIONS) are held to the same: every row is installed and
exercised here, says why moto's own answer is not enough (a "missing" row is one pristine moto does not
serve), and every operation the product calls (a deployed function or a state machine: sandbox/iam_requests.py
TABLE, and the state machines' aws-sdk tasks) is either served by moto or a row of a table.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.validate import ParamValidator

from sandbox.core import Sandbox

pytestmark = pytest.mark.integration

GAP_PACKAGE = "sandbox.gaps."  # every module in it, and the engine's own patches in sandbox.aws
ENGINE_MODULES = ("sandbox.aws",)
JOB = "orders-stream"


# --- validation against botocore's output shape ------------------------------------------------------------

def shape_problems(shape: Any, value: Any, path: str = "") -> list[str]:
    """Enums and nesting, member by member (ParamValidator checks types and required members, not enums)."""
    if shape is None:
        return [] if value in ({}, None) else [f"{path or '<response>'}: the operation has no output, got {value!r}"]
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        problems = [f"{path}.{k}: not a member of {shape.name}" for k in value if k not in shape.members]
        for name, member in shape.members.items():
            if name in value:
                problems += shape_problems(member, value[name], f"{path}.{name}")
        return problems
    if kind == "list" and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in shape_problems(shape.member, item, f"{path}[{i}]")]
    if kind == "map" and isinstance(value, dict):
        return [p for k, item in value.items() for p in shape_problems(shape.value, item, f"{path}.{k}")]
    if kind == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        return [f"{path}: {value!r} is not one of {shape.name}'s values {shape.enum}"]
    return []


def raw_problems(shape: Any, raw: Any, path: str = "") -> list[str]:
    """Member names in a JSON body that the output shape does not have (by their wire names)."""
    kind = getattr(shape, "type_name", None)
    if kind == "structure" and isinstance(raw, dict):
        by_wire = {m.serialization.get("name", n): m for n, m in shape.members.items()
                   if m.serialization.get("location") in (None, "")}
        problems = []
        for key, item in raw.items():
            if key not in by_wire:
                problems.append(f"{path}.{key}: not a member of {shape.name} (the SDK drops it)")
            else:
                problems += raw_problems(by_wire[key], item, f"{path}.{key}")
        return problems
    if kind == "list" and isinstance(raw, list):
        return [p for i, item in enumerate(raw) for p in raw_problems(shape.member, item, f"{path}[{i}]")]
    if kind == "map" and isinstance(raw, dict):
        return [p for k, item in raw.items() for p in raw_problems(shape.value, item, f"{path}.{k}")]
    return []


class Recorded:
    """A boto3 client of the sandbox that keeps the raw body of its last response."""

    def __init__(self, sandbox: Sandbox, service: str):
        env = sandbox.account.environ()
        self.client = boto3.client(service, endpoint_url=sandbox.account.endpoint, region_name=sandbox.catalog.region,
                                   aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                   aws_session_token=env["AWS_SESSION_TOKEN"])
        self.raw: bytes = b""
        self.client.meta.events.register("after-call", self._keep)

    def _keep(self, http_response: Any, model: Any, **_: Any) -> None:
        # A streaming body (Lambda Invoke's Payload) is the caller's to read: reading it here would empty it.
        streaming = model.has_streaming_output or model.has_event_stream_output
        self.raw = http_response.content if http_response is not None and not streaming else b""


def validate(recorded: Recorded, operation: str, response: dict[str, Any]) -> list[str]:
    model = recorded.client.meta.service_model
    shape = model.operation_model(operation).output_shape
    parsed = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if shape is None:
        return shape_problems(None, parsed)
    report = ParamValidator().validate(parsed, shape)
    problems = report.generate_report().splitlines()[1:] if report.has_errors() else []
    problems += shape_problems(shape, parsed)
    if model.protocol in ("json", "rest-json") and not shape.serialization.get("payload"):
        problems += raw_problems(shape, json.loads(recorded.raw or b"{}"))
    return problems


# --- the filled operations, each exercised for real ----------------------------------------------------------

Exercise = Callable[[Sandbox], tuple[Recorded, str, dict[str, Any]]]


def _a_run(sandbox: Sandbox) -> str:
    """A run of the streaming job (the sandbox starts one when it seeds the job), in whatever state."""
    return str(sandbox.client("glue").get_job_runs(JobName=JOB)["JobRuns"][0]["Id"])


def glue_batch_stop_job_run(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    sandbox.reset()  # the seeded run RUNNING
    glue = Recorded(sandbox, "glue")
    return glue, "BatchStopJobRun", glue.client.batch_stop_job_run(
        JobName=JOB, JobRunIds=[_a_run(sandbox), "jr_no_such_run"])  # a submission and an error entry


def glue_update_job(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    glue = Recorded(sandbox, "glue")
    job = glue.client.get_job(JobName=JOB)["Job"]
    update = {k: job[k] for k in ("Role", "Command", "DefaultArguments", "GlueVersion", "WorkerType",
                                  "NumberOfWorkers", "ExecutionProperty") if k in job}
    return glue, "UpdateJob", glue.client.update_job(JobName=JOB, JobUpdate=update)


def glue_get_job_runs(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    glue = Recorded(sandbox, "glue")
    return glue, "GetJobRuns", glue.client.get_job_runs(JobName=JOB, MaxResults=5)


def glue_get_job_run(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    glue = Recorded(sandbox, "glue")
    return glue, "GetJobRun", glue.client.get_job_run(JobName=JOB, RunId=_a_run(sandbox))


def glue_start_job_run(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    batch = next(job.name for job in sandbox.catalog.glue_jobs if not job.streaming)
    sandbox.reset()  # no run of the batch job under way: MaxConcurrentRuns (1) allows this one
    glue = Recorded(sandbox, "glue")
    return glue, "StartJobRun", glue.client.start_job_run(JobName=batch, NumberOfWorkers=2, WorkerType="G.1X")


def glue_get_connection(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    glue = Recorded(sandbox, "glue")
    name = f"conn-{uuid.uuid4().hex[:8]}"
    glue.client.create_connection(ConnectionInput={
        "Name": name, "ConnectionType": "JDBC",
        "ConnectionProperties": {"JDBC_CONNECTION_URL": "jdbc:postgresql://db:5432/x", "USERNAME": "u"}})
    return glue, "GetConnection", glue.client.get_connection(Name=name, HidePassword=True)


def events_test_event_pattern(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    events = Recorded(sandbox, "events")
    event = {"id": "1", "source": "aws.glue", "detail-type": "Glue Job State Change", "account": "123456789012",
             "time": "2025-01-01T00:00:00Z", "region": sandbox.catalog.region, "resources": [], "detail": {}}
    return events, "TestEventPattern", events.client.test_event_pattern(
        EventPattern=json.dumps({"source": ["aws.glue"]}), Event=json.dumps(event))


def cloudwatch_describe_alarms(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    cloudwatch = Recorded(sandbox, "cloudwatch")
    return cloudwatch, "DescribeAlarms", cloudwatch.client.describe_alarms(
        AlarmNamePrefix=f"{sandbox.catalog.prefix}/", AlarmTypes=["MetricAlarm", "CompositeAlarm"])


def cloudwatch_put_composite_alarm(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    cloudwatch = Recorded(sandbox, "cloudwatch")
    metric = sandbox.client("cloudwatch").describe_alarms()["MetricAlarms"][0]["AlarmName"]
    return cloudwatch, "PutCompositeAlarm", cloudwatch.client.put_composite_alarm(
        AlarmName=f"shape-{uuid.uuid4().hex[:8]}", AlarmRule=f'ALARM("{metric}")')


def cloudwatch_describe_alarm_history(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    cloudwatch = Recorded(sandbox, "cloudwatch")
    name = sandbox.client("cloudwatch").describe_alarms()["MetricAlarms"][0]["AlarmName"]
    sandbox.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="shape test")
    return cloudwatch, "DescribeAlarmHistory", cloudwatch.client.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", MaxRecords=1,
        StartDate=datetime.now(UTC) - timedelta(days=1), EndDate=datetime.now(UTC) + timedelta(minutes=1))


def iam_simulate_principal_policy(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    iam = Recorded(sandbox, "iam")
    name = f"shape-{uuid.uuid4().hex[:8]}"
    role = iam.client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]
    iam.client.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    return iam, "SimulatePrincipalPolicy", iam.client.simulate_principal_policy(
        PolicySourceArn=role["Arn"], ActionNames=["s3:GetObject", "s3:PutObject"])


def logs_filter_log_events(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    logs = Recorded(sandbox, "logs")
    group = f"/aws-glue/jobs/shape-{uuid.uuid4().hex[:8]}"
    logs.client.create_log_group(logGroupName=group)
    logs.client.create_log_stream(logGroupName=group, logStreamName="jr_1-driver")
    logs.client.put_log_events(logGroupName=group, logStreamName="jr_1-driver", logEvents=[
        {"timestamp": int(time.time() * 1000), "message": "ERROR OutOfMemoryError in stage 3"}])
    return logs, "FilterLogEvents", logs.client.filter_log_events(
        logGroupName=group, logStreamNamePrefix="jr_1", filterPattern="?ERROR ?Exception", limit=1)


def _msk_arn(sandbox: Sandbox) -> str:
    return str(sandbox.client("kafka").list_clusters_v2()["ClusterInfoList"][0]["ClusterArn"])


def kafka_describe_cluster_v2(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    kafka = Recorded(sandbox, "kafka")
    return kafka, "DescribeClusterV2", kafka.client.describe_cluster_v2(ClusterArn=_msk_arn(sandbox))


def kafka_list_clusters_v2(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    kafka = Recorded(sandbox, "kafka")
    return kafka, "ListClustersV2", kafka.client.list_clusters_v2()


def kafka_update_broker_count(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    sandbox.reset()  # the cluster ACTIVE, no update under way
    kafka = Recorded(sandbox, "kafka")
    arn = _msk_arn(sandbox)
    info = kafka.client.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    return kafka, "UpdateBrokerCount", kafka.client.update_broker_count(
        ClusterArn=arn, CurrentVersion=info["CurrentVersion"],
        TargetNumberOfBrokerNodes=info["Provisioned"]["NumberOfBrokerNodes"] * 2)


def redshift_resize_cluster(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    sandbox.reset()  # the cluster available, no resize under way
    redshift = Recorded(sandbox, "redshift")
    cluster_id = sandbox.catalog.redshift.cluster_id
    nodes = redshift.client.describe_clusters(ClusterIdentifier=cluster_id)["Clusters"][0]["NumberOfNodes"]
    return redshift, "ResizeCluster", redshift.client.resize_cluster(ClusterIdentifier=cluster_id,
                                                                     NumberOfNodes=nodes + 2, Classic=False)


def redshift_describe_clusters(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    redshift = Recorded(sandbox, "redshift")
    return redshift, "DescribeClusters", redshift.client.describe_clusters(
        ClusterIdentifier=sandbox.catalog.redshift.cluster_id)


def redshift_create_cluster_snapshot(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    redshift = Recorded(sandbox, "redshift")
    return redshift, "CreateClusterSnapshot", redshift.client.create_cluster_snapshot(
        ClusterIdentifier=sandbox.catalog.redshift.cluster_id, SnapshotIdentifier=f"shape-{uuid.uuid4().hex[:8]}")


def _restore(sandbox: Sandbox, redshift: Any) -> dict[str, Any]:
    rs = sandbox.catalog.redshift
    table = rs.tables[0]
    snapshot = redshift.describe_cluster_snapshots(ClusterIdentifier=rs.cluster_id)["Snapshots"][0]
    return dict(redshift.restore_table_from_cluster_snapshot(
        ClusterIdentifier=rs.cluster_id, SnapshotIdentifier=snapshot["SnapshotIdentifier"],
        SourceDatabaseName=rs.database, SourceSchemaName=table.schema_name, SourceTableName=table.name,
        TargetSchemaName=table.schema_name, NewTableName=f"{table.name}_restored_{uuid.uuid4().hex[:6]}"))


def redshift_restore_table_from_cluster_snapshot(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    redshift = Recorded(sandbox, "redshift")
    return redshift, "RestoreTableFromClusterSnapshot", _restore(sandbox, redshift.client)


def redshift_describe_table_restore_status(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    redshift = Recorded(sandbox, "redshift")
    request_id = _restore(sandbox, sandbox.client("redshift"))["TableRestoreStatus"]["TableRestoreRequestId"]
    return redshift, "DescribeTableRestoreStatus", redshift.client.describe_table_restore_status(
        ClusterIdentifier=sandbox.catalog.redshift.cluster_id, TableRestoreRequestId=request_id)


def _statement(sandbox: Sandbox, data: Any, sql: str = "SELECT 1 AS one, 'x' AS two, NULL AS three") -> dict[str, Any]:
    rs = sandbox.catalog.redshift
    return dict(data.execute_statement(ClusterIdentifier=rs.cluster_id, Database=rs.database, DbUser="remedy",
                                       Sql=sql))


def redshift_data_execute_statement(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    data = Recorded(sandbox, "redshift-data")
    return data, "ExecuteStatement", _statement(sandbox, data.client)


def redshift_data_batch_execute_statement(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    data = Recorded(sandbox, "redshift-data")
    rs = sandbox.catalog.redshift
    return data, "BatchExecuteStatement", data.client.batch_execute_statement(
        ClusterIdentifier=rs.cluster_id, Database=rs.database, DbUser="remedy", Sqls=["SELECT 1", "SELECT 2"])


def redshift_data_describe_statement(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    data = Recorded(sandbox, "redshift-data")
    statement_id = _statement(sandbox, sandbox.client("redshift-data"))["Id"]
    return data, "DescribeStatement", data.client.describe_statement(Id=statement_id)


def redshift_data_get_statement_result(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    data = Recorded(sandbox, "redshift-data")
    statement_id = _statement(sandbox, sandbox.client("redshift-data"))["Id"]
    return data, "GetStatementResult", data.client.get_statement_result(Id=statement_id)


def cloudtrail_lookup_events(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    from sandbox.gaps.cloudtrail import seed_cloudtrail_event

    seed_cloudtrail_event(name="UpdateJob", source="glue.amazonaws.com", at=datetime.now(UTC) - timedelta(hours=1),
                          username="alice", access_key="AKIAEXAMPLE", region=sandbox.catalog.region,
                          resources=[{"ResourceType": "AWS::Glue::Job", "ResourceName": JOB}])
    cloudtrail = Recorded(sandbox, "cloudtrail")
    return cloudtrail, "LookupEvents", cloudtrail.client.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "UpdateJob"}], MaxResults=5)


def health_describe_events(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    from sandbox.gaps.health import set_support_plan

    set_support_plan("business")
    try:
        health = Recorded(sandbox, "health")
        return health, "DescribeEvents", health.client.describe_events()
    finally:
        set_support_plan("basic")


def secretsmanager_rotate_secret(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    secrets = Recorded(sandbox, "secretsmanager")
    secret = sandbox.catalog.redshift.admin_secret
    assert secret, "the dev catalog names a Redshift admin secret"
    return secrets, "RotateSecret", secrets.client.rotate_secret(SecretId=secret)


def _breaker_table(sandbox: Sandbox) -> tuple[Recorded, str]:
    from infra import names

    return Recorded(sandbox, "dynamodb"), names.breaker_table(sandbox.catalog)


def dynamodb_put_item(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    ddb, table = _breaker_table(sandbox)
    return ddb, "PutItem", ddb.client.put_item(TableName=table, Item={"target": {"S": "shape:put"}},
                                                ConditionExpression="attribute_not_exists(target)",
                                                ReturnConsumedCapacity="TOTAL")


def dynamodb_update_item(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    ddb, table = _breaker_table(sandbox)
    return ddb, "UpdateItem", ddb.client.update_item(
        TableName=table, Key={"target": {"S": "shape:update"}}, UpdateExpression="ADD version :one",
        ConditionExpression="attribute_not_exists(version)", ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW")


def dynamodb_delete_item(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    ddb, table = _breaker_table(sandbox)
    ddb.client.put_item(TableName=table, Item={"target": {"S": "shape:delete"}})
    return ddb, "DeleteItem", ddb.client.delete_item(TableName=table, Key={"target": {"S": "shape:delete"}},
                                                      ConditionExpression="attribute_exists(target)",
                                                      ReturnValues="ALL_OLD")


def dynamodb_get_item(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    ddb, table = _breaker_table(sandbox)
    ddb.client.put_item(TableName=table, Item={"target": {"S": "shape:get"}})
    return ddb, "GetItem", ddb.client.get_item(TableName=table, Key={"target": {"S": "shape:get"}},
                                               ConsistentRead=True)


def dynamodb_query(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    ddb, table = _breaker_table(sandbox)
    ddb.client.put_item(TableName=table, Item={"target": {"S": "shape:query"}})
    return ddb, "Query", ddb.client.query(TableName=table, KeyConditionExpression="target = :t",
                                          ExpressionAttributeValues={":t": {"S": "shape:query"}})


def _run_waiting_on_a_token(sandbox: Sandbox) -> tuple[Recorded, str, str]:
    """A run whose only task waits on its token (sent to a queue): the recorded client, its arn, the token."""
    sqs, sfn = sandbox.client("sqs"), Recorded(sandbox, "stepfunctions")
    queue = sqs.create_queue(QueueName=f"shape-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    role = f"arn:aws:iam::{sandbox.catalog.account_id}:role/shape"
    machine = sfn.client.create_state_machine(name=f"shape-{uuid.uuid4().hex[:8]}", roleArn=role, definition=json.dumps({
        "StartAt": "Wait", "States": {"Wait": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True,
            "HeartbeatSeconds": 3600, "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}}}}))
    arn = sfn.client.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            return sfn, arn, json.loads(messages[0]["Body"])["token"]
    raise AssertionError("the execution never sent its task token")


def stepfunctions_send_task_failure(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    sfn, _arn, token = _run_waiting_on_a_token(sandbox)
    return sfn, "SendTaskFailure", sfn.client.send_task_failure(taskToken=token, error="Shape", cause="a cause")


def stepfunctions_stop_execution(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    sfn, arn, _token = _run_waiting_on_a_token(sandbox)
    return sfn, "StopExecution", sfn.client.stop_execution(executionArn=arn, error="Shape", cause="a cause")


def test_of_two_updates_conditional_on_the_same_version_exactly_one_writes(sandbox_env: Sandbox,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Optimistic locking as AWS documents it: each writer checks the version it read; the item changes under
    the second, whose condition then fails. The condition check is slowed so that, without the lock, both
    requests would pass it before either writes (as in moto alone)."""
    import threading

    from botocore.exceptions import ClientError
    from moto.dynamodb import models

    parser = models.create_condition_expression_parser

    def slow_parser(*args: Any, **kwargs: Any) -> Any:
        built = parser(*args, **kwargs)
        parse = built.parse

        def parse_then_linger() -> Any:
            condition = parse()
            check = condition.expr

            def slow_check(item: Any) -> Any:
                passed = check(item)
                time.sleep(0.3)  # the other request's whole check fits in here, unless it waits for this write
                return passed

            condition.expr = slow_check
            return condition

        built.parse = parse_then_linger
        return built

    monkeypatch.setattr(models, "create_condition_expression_parser", slow_parser)
    ddb, table = _breaker_table(sandbox_env)
    key = {"target": {"S": f"race:{uuid.uuid4().hex[:8]}"}}
    outcomes: dict[str, str] = {}

    def claim(who: str) -> None:
        client = Recorded(sandbox_env, "dynamodb").client
        try:
            client.update_item(TableName=table, Key=key, UpdateExpression="SET version = :next, holder = :who",
                               ConditionExpression="attribute_not_exists(version) OR version = :seen",
                               ExpressionAttributeValues={":seen": {"N": "0"}, ":next": {"N": "1"},
                                                          ":who": {"S": who}})
            outcomes[who] = "written"
        except ClientError as error:
            outcomes[who] = error.response["Error"]["Code"]

    threads = [threading.Thread(target=claim, args=(who,)) for who in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["ConditionalCheckFailedException", "written"], outcomes
    winner = next(who for who, outcome in outcomes.items() if outcome == "written")
    item = ddb.client.get_item(TableName=table, Key=key)["Item"]
    assert item["holder"] == {"S": winner} and item["version"] == {"N": "1"}


def test_a_stopped_run_is_aborted_when_the_call_returns_with_the_callers_error_and_cause(sandbox_env: Sandbox) -> None:
    """AWS: the run is ABORTED at the stopDate StopExecution answers (moto left it RUNNING until the waiting
    task's heartbeat, an hour here, and dropped the error and cause)."""
    sfn, arn, _token = _run_waiting_on_a_token(sandbox_env)
    stopped = sfn.client.stop_execution(executionArn=arn, error="Operator.Stop", cause="stopped by hand")
    described = sfn.client.describe_execution(executionArn=arn)
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "Operator.Stop",
                                                                              "stopped by hand")
    assert described["stopDate"] == stopped["stopDate"]
    time.sleep(0.2)  # the run's woken task ends meanwhile: nothing follows the abort, the status stands
    events = sfn.client.get_execution_history(executionArn=arn)["events"]
    assert events[-1]["type"] == "ExecutionAborted" and not any(e["type"] == "ExecutionFailed" for e in events)
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Operator.Stop", "cause": "stopped by hand"}
    assert sfn.client.describe_execution(executionArn=arn)["status"] == "ABORTED"


def heartbeat(sfn: Recorded, token: str) -> None:
    """SendTaskHeartbeat, once the task counts heartbeats: moto sets up the count just after the task sends its
    token, so a heartbeat at once can find none yet (InvalidToken)."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + 5
    while True:
        try:
            sfn.client.send_task_heartbeat(taskToken=token)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidToken" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_task_whose_heartbeat_is_overdue_on_the_sandbox_clock_times_out(sandbox_env: Sandbox) -> None:
    """HeartbeatSeconds count on the sandbox's clock (sandbox/stepfunctions.py): a heartbeat resets the count;
    an hour of silence, let pass by advancing the clock, times the task out."""
    from sandbox import clock

    sfn, arn, token = _run_waiting_on_a_token(sandbox_env)  # HeartbeatSeconds: 3600

    def status() -> str:
        return str(sfn.client.describe_execution(executionArn=arn)["status"])

    clock.advance(3000)
    heartbeat(sfn, token)
    clock.advance(3000)  # 100 minutes since the task began, 50 since its heartbeat
    time.sleep(0.5)  # the task, woken by the clock, has looked: not yet overdue
    assert status() == "RUNNING"
    clock.advance(601)
    deadline = time.monotonic() + 10
    while status() == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status() == "FAILED"
    events = sfn.client.get_execution_history(executionArn=arn)["events"]
    # The task has no TimeoutSeconds: this is its heartbeat. The history says States.Timeout (AWS: the name
    # States.HeartbeatTimeout exists only for Catch and Retry to match on).
    assert [e["taskTimedOutEventDetails"]["error"] for e in events if e["type"] == "TaskTimedOut"] == \
        ["States.Timeout"]


def kafka_list_topics(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    kafka = Recorded(sandbox, "kafka")
    return kafka, "ListTopics", kafka.client.list_topics(ClusterArn=_msk_arn(sandbox))


def kafka_get_bootstrap_brokers(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    kafka = Recorded(sandbox, "kafka")
    return kafka, "GetBootstrapBrokers", kafka.client.get_bootstrap_brokers(ClusterArn=_msk_arn(sandbox))


def lambda_get_layer_version_by_arn(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    from sandbox.gaps import awslambda

    client = Recorded(sandbox, "lambda")
    arn = next(iter(awslambda.STATE.layers))  # the Powertools layer version the templates use (seeded)
    return client, "GetLayerVersionByArn", client.client.get_layer_version_by_arn(Arn=arn)


def lambda_get_account_settings(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    client = Recorded(sandbox, "lambda")
    return client, "GetAccountSettings", client.client.get_account_settings()


def lambda_get_function_url_config(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    client = Recorded(sandbox, "lambda")
    arn = next(iter(sandbox.deployment.function_urls))  # the answer function's AWS_IAM URL, say
    return client, "GetFunctionUrlConfig", client.client.get_function_url_config(FunctionName=arn)


def sns_publish(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    client = Recorded(sandbox, "sns")
    topic = client.client.create_topic(Name="gap-fill-shapes")["TopicArn"]
    return client, "Publish", client.client.publish(TopicArn=topic, Message="shape")


def lambda_invoke(sandbox: Sandbox) -> tuple[Recorded, str, dict[str, Any]]:
    client = Recorded(sandbox, "lambda")
    spec = next(iter(sandbox.deployment.functions.values()))
    answer = dict(client.client.invoke(FunctionName=spec.name, Payload=json.dumps({"not": "an event"}).encode()))
    answer["Payload"] = answer["Payload"].read()  # a streaming body, read as the caller does
    return client, "Invoke", answer


FILLED: dict[str, Exercise] = {
    "lambda:GetFunctionUrlConfig": lambda_get_function_url_config,
    "sns:Publish": sns_publish,
    "glue:BatchStopJobRun": glue_batch_stop_job_run,
    "glue:UpdateJob": glue_update_job,
    "glue:GetJobRuns": glue_get_job_runs,
    "glue:GetJobRun": glue_get_job_run,
    "glue:StartJobRun": glue_start_job_run,
    "glue:GetConnection": glue_get_connection,
    "events:TestEventPattern": events_test_event_pattern,
    "cloudwatch:DescribeAlarms": cloudwatch_describe_alarms,
    "cloudwatch:PutCompositeAlarm": cloudwatch_put_composite_alarm,
    "cloudwatch:DescribeAlarmHistory": cloudwatch_describe_alarm_history,
    "iam:SimulatePrincipalPolicy": iam_simulate_principal_policy,
    "logs:FilterLogEvents": logs_filter_log_events,
    "kafka:DescribeClusterV2": kafka_describe_cluster_v2,
    "kafka:ListClustersV2": kafka_list_clusters_v2,
    "kafka:UpdateBrokerCount": kafka_update_broker_count,
    "kafka:ListTopics": kafka_list_topics,
    "kafka:GetBootstrapBrokers": kafka_get_bootstrap_brokers,
    "redshift:ResizeCluster": redshift_resize_cluster,
    "redshift:DescribeClusters": redshift_describe_clusters,
    "redshift:CreateClusterSnapshot": redshift_create_cluster_snapshot,
    "redshift:RestoreTableFromClusterSnapshot": redshift_restore_table_from_cluster_snapshot,
    "redshift:DescribeTableRestoreStatus": redshift_describe_table_restore_status,
    "redshift-data:ExecuteStatement": redshift_data_execute_statement,
    "redshift-data:BatchExecuteStatement": redshift_data_batch_execute_statement,
    "redshift-data:DescribeStatement": redshift_data_describe_statement,
    "redshift-data:GetStatementResult": redshift_data_get_statement_result,
    "cloudtrail:LookupEvents": cloudtrail_lookup_events,
    "health:DescribeEvents": health_describe_events,
    "secretsmanager:RotateSecret": secretsmanager_rotate_secret,
    "stepfunctions:SendTaskFailure": stepfunctions_send_task_failure,
    "stepfunctions:StopExecution": stepfunctions_stop_execution,
    "lambda:Invoke": lambda_invoke,
    "lambda:GetLayerVersionByArn": lambda_get_layer_version_by_arn,
    "lambda:GetAccountSettings": lambda_get_account_settings,
    "dynamodb:PutItem": dynamodb_put_item,
    "dynamodb:UpdateItem": dynamodb_update_item,
    "dynamodb:DeleteItem": dynamodb_delete_item,
    "dynamodb:GetItem": dynamodb_get_item,
    "dynamodb:Query": dynamodb_query,
}
# Rows of the tables whose only answer of the fill's own is an error (its success is moto's): not shape-checked.
ERROR_ONLY = {"support:CreateCase": "SubscriptionRequiredException on the Basic plan (tests/integration/"
                                    "test_procedures.py rehearses it); moto answers on Business"}

# What each method a gap-fill module installs on moto answers: the operations above whose response it makes or
# changes, or why it answers none (error answers and plumbing are tested where they matter).
INSTALLED: dict[str, tuple[str, ...] | str] = {
    "GlueResponse.batch_stop_job_run": ("glue:BatchStopJobRun",),
    "GlueResponse.update_job": ("glue:UpdateJob",),
    "GlueResponse.get_job_runs": ("glue:GetJobRuns",),
    "FakeJobRun.as_dict": ("glue:GetJobRun", "glue:GetJobRuns"),
    "FakeJobRun.__init__": ("glue:StartJobRun", "glue:GetJobRun"),
    "FakeJobRun.advance": ("glue:GetJobRun", "glue:GetJobRuns"),
    "FakeJob.start_job_run": ("glue:StartJobRun",),
    "FakeConnection.as_dict": ("glue:GetConnection",),
    "EventsHandler.test_event_pattern": ("events:TestEventPattern",),
    "CloudWatchResponse.describe_alarms": ("cloudwatch:DescribeAlarms",),
    "CloudWatchResponse.put_composite_alarm": ("cloudwatch:PutCompositeAlarm",),
    "CloudWatchResponse.describe_alarm_history": ("cloudwatch:DescribeAlarmHistory",),
    "IamResponse.simulate_principal_policy": ("iam:SimulatePrincipalPolicy",),
    "LogsResponse.filter_log_events": ("logs:FilterLogEvents",),
    "KafkaBackend.describe_cluster_v2": ("kafka:DescribeClusterV2",),
    "KafkaBackend.list_clusters_v2": ("kafka:ListClustersV2",),
    "KafkaResponse.update_broker_count": ("kafka:UpdateBrokerCount",),
    "KafkaResponse.list_topics": ("kafka:ListTopics",),
    "KafkaResponse.get_bootstrap_brokers": ("kafka:GetBootstrapBrokers",),
    "RedshiftResponse.resize_cluster": ("redshift:ResizeCluster",),
    "RedshiftResponse.restore_table_from_cluster_snapshot": ("redshift:RestoreTableFromClusterSnapshot",),
    "RedshiftResponse.describe_table_restore_status": ("redshift:DescribeTableRestoreStatus",),
    "RedshiftBackend.describe_clusters": ("redshift:DescribeClusters",),
    "RedshiftBackend.create_cluster_snapshot": ("redshift:CreateClusterSnapshot",),
    "RedshiftDataAPIServiceResponse.execute_statement": ("redshift-data:ExecuteStatement",),
    "RedshiftDataAPIServiceResponse.batch_execute_statement": ("redshift-data:BatchExecuteStatement",),
    "RedshiftDataAPIServiceResponse.describe_statement": ("redshift-data:DescribeStatement",),
    "RedshiftDataAPIServiceResponse.get_statement_result": ("redshift-data:GetStatementResult",),
    "CloudTrailResponse.lookup_events": ("cloudtrail:LookupEvents",),
    "SecretsManagerBackend.rotate_secret": ("secretsmanager:RotateSecret",),
    "StepFunctionResponse.send_task_failure": ("stepfunctions:SendTaskFailure",),
    "StepFunctionResponse.stop_execution": ("stepfunctions:StopExecution",),
    "EventManager.add_event": "records nothing in a run's history after its ExecutionAborted (StopExecution: "
                              "test_a_stopped_run_is_aborted_when_the_call_returns_with_the_callers_error_and_cause)",
    "LambdaResponse.invoke": ("lambda:Invoke",),
    "LambdaResponse.get_layer_version_by_arn": ("lambda:GetLayerVersionByArn",),
    "LambdaResponse.get_account_settings": ("lambda:GetAccountSettings",),
    # Health and Support are answered in front of moto's routing; the success answer is Health's DescribeEvents.
    "DomainDispatcherApplication.__call__": ("health:DescribeEvents", "support:CreateCase"),
    "Subscription.publish": ("sns:Publish",),
    # One lock around each item operation (sandbox/gaps/dynamodb.py): the answers are moto's, checked here.
    "DynamoDBBackend.put_item": ("dynamodb:PutItem",),
    "DynamoDBBackend.update_item": ("dynamodb:UpdateItem",),
    "DynamoDBBackend.delete_item": ("dynamodb:DeleteItem",),
    "DynamoDBBackend.get_item": ("dynamodb:GetItem",),
    "DynamoDBBackend.query": ("dynamodb:Query",),  # delivery to the deployed functions' Lambda subscriptions
    "LambdaResponse.get_function_url_config": ("lambda:GetFunctionUrlConfig",),
    "BaseResponse.call_action": "records calls, answers IAM denials and injected faults (error bodies: "
                                "tests/integration/test_sandbox_faults.py)",
    "S3Response.bucket_response": "records S3 calls, answers IAM denials and injected faults (error bodies)",
    "S3Response.key_response": "records S3 calls, answers IAM denials and injected faults (error bodies)",
}


def installed_methods() -> set[str]:
    """Class.method for every public method (and dunder) a gap-fill module put on a moto class."""
    found = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("moto.") or module is None:
            continue
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if not cls.__module__.startswith("moto."):
                continue
            for attr, value in vars(cls).items():
                function = getattr(value, "__func__", value)
                owner = str(getattr(function, "__module__", None))
                if (owner in ENGINE_MODULES or owner.startswith(GAP_PACKAGE)) and \
                        (not attr.startswith("_") or (attr.startswith("__") and attr.endswith("__"))):
                    found.add(f"{cls_name}.{attr}")
    return found


def test_every_installed_fill_is_validated(sandbox_env: Sandbox) -> None:
    unlisted = installed_methods() - set(INSTALLED)
    assert not unlisted, f"gap fills not listed here (add them to INSTALLED, their operations to FILLED): {unlisted}"
    named = {op for ops in INSTALLED.values() if isinstance(ops, tuple) for op in ops}
    unexercised = named - set(FILLED) - set(ERROR_ONLY)
    assert not unexercised, f"operations answered by a fill but not exercised: {sorted(unexercised)}"


def test_every_table_row_is_installed_and_every_fill_is_in_a_table(sandbox_env: Sandbox) -> None:
    from sandbox import gaps

    named = {op for ops in INSTALLED.values() if isinstance(ops, tuple) for op in ops}
    tables = set(gaps.operations())
    assert not tables - named, f"rows of sandbox/gaps tables no installed method answers: {sorted(tables - named)}"
    assert not named - tables, f"filled operations missing from their service's table: {sorted(named - tables)}"


# --- the tables against moto and against what the product calls ---------------------------------------------

# Whether pristine moto (no fill installed: a process of its own) serves an operation: its service's Response
# class has the operation's method (moto dispatches an action to its snake_case name), neither it nor the
# backend's method of that name raises NotImplementedError. Answers "" when served, else why not.
_MOTO_SERVES = """
import importlib, inspect, json, sys
from moto.backends import ALT_SERVICE_NAMES
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores

S3_NAMES = {"GetBucketLifecycleConfiguration": "get_bucket_lifecycle"}  # moto's S3 names it after the old API


def served(key):
    service, operation = key.split(":")
    module = ALT_SERVICE_NAMES.get(service, service.replace("-", ""))
    try:
        responses = importlib.import_module(f"moto.{module}.responses")
    except ImportError:
        return f"moto has no {service} service"
    name = S3_NAMES.get(operation) if service == "s3" and operation in S3_NAMES else camelcase_to_underscores(operation)
    classes = [c for _, c in inspect.getmembers(responses, inspect.isclass)
               if issubclass(c, BaseResponse) and c.__module__ == responses.__name__]
    method = next((getattr(c, name) for c in classes if hasattr(c, name)), None)
    if method is None:
        return f"no {name} in moto.{module}.responses"
    if "NotImplementedError" in inspect.getsource(method):
        return f"{name} raises NotImplementedError"
    models = importlib.import_module(f"moto.{module}.models")
    for _, backend in inspect.getmembers(models, inspect.isclass):
        impl = getattr(backend, name, None)
        if backend.__name__.endswith("Backend") and callable(impl) and \\
                "raise NotImplementedError" in inspect.getsource(impl):
            return f"{backend.__name__}.{name} raises NotImplementedError"
    return ""


print(json.dumps({key: served(key) for key in json.loads(sys.argv[1])}))
"""

# Operations the product calls that are never called in the sandbox, and why.
NOT_CALLED_IN_THE_SANDBOX = {
    "s3:PutBucketMetricsConfiguration": "the bucket_metrics custom resource (infra/constructs/bucket_metrics.py) "
                                        "calls it at deploy time in CloudFormation; sandbox.cfn runs no custom "
                                        "resources",
}


def moto_serves(operations: list[str]) -> dict[str, str]:
    import subprocess

    answer = subprocess.run([sys.executable, "-c", _MOTO_SERVES, json.dumps(sorted(operations))], check=True,
                            capture_output=True, text=True, timeout=120)
    return dict(json.loads(answer.stdout))


def sdk_task_operations(sandbox: Sandbox) -> set[str]:
    """The operation of every aws-sdk task of the synthesized state machines, "<botocore service>:<Operation>"."""
    from infra.gates import SDK_PREFIX, all_states, operation_model, state_machines

    found = set()
    for stack, template in sandbox.templates.items():
        for _where, definition in state_machines(stack, template):
            for _name, state in all_states(definition.get("States", {})):
                resource = state.get("Resource")
                if state.get("Type") == "Task" and isinstance(resource, str) and resource.startswith(SDK_PREFIX):
                    service, _, action = resource[len(SDK_PREFIX):].partition(":")
                    model = operation_model(service, action.split(".", 1)[0])
                    found.add(f"{model.service_model.service_name}:{model.name}")
    return found


def called_operations(sandbox: Sandbox) -> set[str]:
    """Every operation a deployed function or a state machine calls: the IAM request table's rows (a call
    without one fails as unmapped) and every aws-sdk task of the synthesized state machines."""
    from sandbox.iam_requests import TABLE

    return {f"{service}:{operation}" for service, operation in TABLE} | sdk_task_operations(sandbox)


def test_the_tables_say_why_moto_is_not_enough_and_name_the_aws_document(sandbox_env: Sandbox) -> None:
    from sandbox import gaps

    rows = gaps.operations()
    malformed = [op for op, fill in rows.items() if not isinstance(fill, gaps.Fill) or fill.why not in gaps.WHY
                 or not fill.what or not fill.doc.startswith("https://docs.aws.amazon.com/")]
    assert not malformed, f"rows without a reason or an AWS document: {malformed}"
    served = moto_serves(list(rows))
    wrong = [f"{op}: '{rows[op].why}' but moto {'serves it' if not why_not else 'does not: ' + why_not}"
             for op, why_not in served.items() if (rows[op].why == "missing") != bool(why_not)]
    assert not wrong, "a row's reason disagrees with moto:\n" + "\n".join(wrong)


def test_every_operation_the_product_calls_is_served_by_moto_or_filled(sandbox_env: Sandbox) -> None:
    from sandbox import gaps
    from sandbox.iam_requests import TABLE

    tasks = sdk_task_operations(sandbox_env)
    assert "kafka:UpdateBrokerCount" in tasks  # the scaling procedure's task: the templates were read
    assert not tasks - {f"{s}:{o}" for s, o in TABLE}, "aws-sdk tasks without a row in sandbox/iam_requests.py"
    called = called_operations(sandbox_env)
    unserved = {op: why for op, why in moto_serves(sorted(called - set(gaps.operations()))).items() if why}
    unserved = {op: why for op, why in unserved.items() if op not in NOT_CALLED_IN_THE_SANDBOX}
    assert not unserved, "called, not served by moto and in no gap-fill table (sandbox/gaps/<service>.py):\n" + \
        "\n".join(f"{op}: {why}" for op, why in sorted(unserved.items()))


def test_the_check_names_an_unserved_operation() -> None:
    answer = moto_serves(["kafka:UpdateBrokerCount", "glue:GetJob", "health:DescribeEvents"])
    assert answer == {"kafka:UpdateBrokerCount": "no update_broker_count in moto.kafka.responses",
                      "glue:GetJob": "", "health:DescribeEvents": "moto has no health service"}


@pytest.mark.parametrize("operation", sorted(FILLED))
def test_gap_fill_response_fits_botocore_output_shape(sandbox_env: Sandbox, operation: str) -> None:
    recorded, name, response = FILLED[operation](sandbox_env)
    assert f"{recorded.client.meta.service_model.service_name}:{name}" == operation
    problems = validate(recorded, name, response)
    assert problems == [], f"{operation}:\n" + "\n".join(problems)


def test_the_validation_names_a_mis_shaped_response(sandbox_env: Sandbox) -> None:
    glue = Recorded(sandbox_env, "glue")
    shape = glue.client.meta.service_model.operation_model("GetJobRun").output_shape
    run = {"Id": "jr_1", "JobRunState": "FINISHED", "Attempt": "1", "StartedOn": datetime.now(UTC)}
    assert shape_problems(shape, {"JobRun": run}) == [
        f".JobRun.JobRunState: 'FINISHED' is not one of JobRunState's values {shape.members['JobRun'].members['JobRunState'].enum}"]
    report = ParamValidator().validate({"JobRun": run}, shape)
    assert "Attempt" in report.generate_report()
    assert raw_problems(shape, {"JobRun": {"ID": "jr_1"}}) == [".JobRun.ID: not a member of JobRun (the SDK drops it)"]
