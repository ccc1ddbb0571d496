"""The adapters of the glue_job_failure and data_quality playbooks against botocore's Stubber: the real API
models check every request and response shape."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from functions.core.adapters.aws import AwsPorts
from functions.core.adapters.clients import Clients
from functions.core.adapters.ec2 import Ec2NetworkAdapter
from functions.core.adapters.glue import GlueAdapter
from functions.core.adapters.iam import IamPolicyAdapter
from functions.core.adapters.kafka import KafkaAdapter
from functions.core.adapters.logs import LogsAdapter
from functions.core.adapters.s3 import S3Adapter
from functions.core.ports import GlueConnection, PolicyDecision, SgRule

Stubbed = Callable[[str], tuple[Clients, Stubber]]
RUN = "jr_" + "ab" * 32
AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    stubbers: list[Stubber] = []

    def make(service: str) -> tuple[Clients, Stubber]:
        client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        stub = Stubber(client)
        stub.activate()
        stubbers.append(stub)
        return Clients(overrides={service: client}), stub

    yield make
    for stub in stubbers:
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_get_run_reads_one_run_with_its_attempt(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_response("get_job_run", {"JobRun": {
        "Id": RUN, "JobName": "sales-batch", "JobRunState": "FAILED", "Attempt": 1, "StartedOn": AT,
        "ErrorMessage": "Rate exceeded", "Arguments": {"--partition": "2026/11/25/09"}, "NumberOfWorkers": 2,
        "WorkerType": "G.1X"}}, {"JobName": "sales-batch", "RunId": RUN})

    run = GlueAdapter(clients).get_run("sales-batch", RUN)

    assert (run.id, run.state, run.attempt, run.error) == (RUN, "FAILED", 1, "Rate exceeded")
    assert (run.workers, run.worker_type, run.arguments) == (2, "G.1X", {"--partition": "2026/11/25/09"})


def test_get_connection_reads_the_network_path_without_the_password(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_response("get_connection", {"Connection": {
        "Name": "orders-msk", "ConnectionType": "KAFKA",
        "ConnectionProperties": {"KAFKA_BOOTSTRAP_SERVERS": "b-1.msk:9094, b-2.msk:9094"},
        "PhysicalConnectionRequirements": {"SubnetId": "subnet-1", "SecurityGroupIdList": ["sg-glue"],
                                           "AvailabilityZone": "eu-west-1a"}}},
        {"Name": "orders-msk", "HidePassword": True})

    connection = GlueAdapter(clients).get_connection("orders-msk")

    assert connection == GlueConnection("orders-msk", "KAFKA", "subnet-1", ("sg-glue",), ("b-1.msk:9094", "b-2.msk:9094"))
    assert connection.broker_ports == {9094}


def test_recent_runs_carry_the_attempt(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    stub.add_response("get_job_runs", {"JobRuns": [{"Id": RUN, "JobName": "sales-batch", "JobRunState": "FAILED",
                                                    "Attempt": 2}]}, {"JobName": "sales-batch", "MaxResults": 5})

    (run,) = GlueAdapter(clients).recent_runs("sales-batch", limit=5)

    assert run.attempt == 2


def test_the_error_log_read_is_one_filtered_page(stubbed: Stubbed) -> None:
    clients, stub = stubbed("logs")
    stub.add_response("filter_log_events", {"events": [{"message": "ERROR Rate exceeded\n"},
                                                       {"message": "ERROR AccessDenied"}]},
                      {"logGroupName": "/aws-glue/jobs/error", "logStreamNamePrefix": RUN, "filterPattern": "?ERROR",
                       "limit": 50, "startTime": int(AT.timestamp() * 1000)})

    lines = LogsAdapter(clients).matching_lines("/aws-glue/jobs/error", RUN, "?ERROR", 50, AT)

    assert lines == ["ERROR Rate exceeded", "ERROR AccessDenied"]


def test_a_missing_log_group_is_no_lines(stubbed: Stubbed) -> None:
    clients, stub = stubbed("logs")
    stub.add_client_error("filter_log_events", "ResourceNotFoundException", "The specified log group does not exist.")

    assert LogsAdapter(clients).matching_lines("/aws-glue/jobs/error", RUN, "?ERROR", 50) == []


def test_other_log_errors_are_raised(stubbed: Stubbed) -> None:
    clients, stub = stubbed("logs")
    stub.add_client_error("filter_log_events", "AccessDeniedException", "no")

    with pytest.raises(Exception, match="AccessDeniedException"):
        LogsAdapter(clients).matching_lines("/aws-glue/jobs/error", RUN, "?ERROR", 50)


def test_simulate_asks_once_for_every_action_on_every_resource(stubbed: Stubbed) -> None:
    clients, stub = stubbed("iam")
    role = "arn:aws:iam::111111111111:role/remedy-dev-glue-sales-batch"
    objects = "arn:aws:s3:::retail-datalake-dev/curated/sales/*"
    stub.add_response("simulate_principal_policy", {"EvaluationResults": [
        {"EvalActionName": "s3:PutObject", "EvalResourceName": objects, "EvalDecision": "implicitDeny"},
        {"EvalActionName": "s3:DeleteObject", "EvalResourceName": objects, "EvalDecision": "allowed"},
    ], "IsTruncated": False}, {"PolicySourceArn": role, "ActionNames": ["s3:DeleteObject", "s3:PutObject"],
                               "ResourceArns": [objects]})

    decisions = IamPolicyAdapter(clients).simulate(role, ["s3:DeleteObject", "s3:PutObject"], [objects])

    assert decisions == [PolicyDecision("s3:PutObject", objects, "implicitDeny"),
                         PolicyDecision("s3:DeleteObject", objects, "allowed")]
    assert [d.allowed for d in decisions] == [False, True]


def test_newest_object_lists_one_page_from_the_window(stubbed: Stubbed) -> None:
    clients, stub = stubbed("s3")
    stub.add_response("list_objects_v2", {"Contents": [
        {"Key": "landing/orders/2026/11/25/09/a.json", "LastModified": AT, "Size": 10},
        {"Key": "landing/orders/2026/11/25/10/b.json", "LastModified": AT.replace(hour=10), "Size": 20},
    ]}, {"Bucket": "retail-datalake-dev", "Prefix": "landing/orders/", "MaxKeys": 1000,
         "StartAfter": "landing/orders/2026/11/25/09"})

    newest = S3Adapter(clients).newest_object("retail-datalake-dev", "landing/orders/", "landing/orders/2026/11/25/09")

    assert newest is not None and (newest.key, newest.size) == ("landing/orders/2026/11/25/10/b.json", 20)


def test_an_empty_listing_is_no_object(stubbed: Stubbed) -> None:
    clients, stub = stubbed("s3")
    stub.add_response("list_objects_v2", {"KeyCount": 0}, {"Bucket": "b-1", "Prefix": "p/", "MaxKeys": 1000})

    assert S3Adapter(clients).newest_object("b-1", "p/") is None


def test_read_json_reads_the_flags_and_a_missing_key_is_none(stubbed: Stubbed) -> None:
    clients, stub = stubbed("s3")
    body = json.dumps({"passed": False, "failed_rules": ["row_count >= 1000"]}).encode()
    key = "staging/_quality/sales-batch/2026/11/25/09.json"
    stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))},
                      {"Bucket": "retail-datalake-dev", "Key": key})
    stub.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)

    adapter = S3Adapter(clients)
    assert adapter.read_json("retail-datalake-dev", key) == {"passed": False, "failed_rules": ["row_count >= 1000"]}
    assert adapter.read_json("retail-datalake-dev", "staging/_quality/none.json") is None


def test_security_groups_become_rules(stubbed: Stubbed) -> None:
    clients, stub = stubbed("ec2")
    stub.add_response("describe_security_groups", {"SecurityGroups": [{
        "GroupId": "sg-msk", "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 9094, "ToPort": 9094, "UserIdGroupPairs": [{"GroupId": "sg-glue"}]},
            {"IpProtocol": "tcp", "FromPort": 9098, "ToPort": 9098, "IpRanges": [{"CidrIp": "10.40.0.0/16"}]}],
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]},
        {"GroupIds": ["sg-msk"]})
    stub.add_response("describe_subnets", {"Subnets": [{"SubnetId": "subnet-1", "CidrBlock": "10.40.1.0/24"}]},
                      {"SubnetIds": ["subnet-1"]})

    adapter = Ec2NetworkAdapter(clients)
    group = adapter.security_groups(["sg-msk"])["sg-msk"]

    assert group.ingress == (SgRule("tcp", 9094, 9094, groups=("sg-glue",)),
                             SgRule("tcp", 9098, 9098, cidrs=("10.40.0.0/16",)))
    assert group.egress == (SgRule("-1", None, None, cidrs=("0.0.0.0/0",)),)
    assert group.egress[0].covers(9094) and not group.ingress[0].covers(9092)
    assert adapter.subnet_cidr("subnet-1") == "10.40.1.0/24"


def test_broker_security_groups_from_one_filtered_listing(stubbed: Stubbed) -> None:
    clients, stub = stubbed("kafka")
    cluster: dict[str, Any] = {"ClusterName": "retail-msk-dev", "ClusterType": "PROVISIONED",
                               "Provisioned": {"BrokerNodeGroupInfo": {"ClientSubnets": ["s-1"],
                                                                       "InstanceType": "kafka.m5.large",
                                                                       "SecurityGroups": ["sg-msk"]},
                                               "NumberOfBrokerNodes": 3}}
    stub.add_response("list_clusters_v2", {"ClusterInfoList": [cluster]}, {"ClusterNameFilter": "retail-msk-dev"})
    stub.add_response("list_clusters_v2", {"ClusterInfoList": []}, {"ClusterNameFilter": "other"})

    adapter = KafkaAdapter(clients)
    assert adapter.broker_security_groups("retail-msk-dev") == ("sg-msk",)
    assert adapter.broker_security_groups("other") == ()


def test_aws_ports_build_the_new_adapters_lazily() -> None:
    ports = AwsPorts(Clients())
    assert isinstance(ports.logs, LogsAdapter) and isinstance(ports.iam, IamPolicyAdapter)
    assert isinstance(ports.s3, S3Adapter) and isinstance(ports.network, Ec2NetworkAdapter)
    assert isinstance(ports.kafka, KafkaAdapter)
    assert ports.clients._made == {}  # no client made until a port is used
