"""The lag probe's adapters, offline: the Kafka admin client's configuration (MSK IAM over TLS, no group, bounded
waits) and the mapping of its answers (a fake client object), the brokers' lookup and the checkpoint listing
(botocore's Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from kafka.net.sasl.oauth import AbstractTokenProvider
from kafka.structs import OffsetAndMetadata, OffsetAndTimestamp

from functions.core.catalog import Catalog
from functions.probes.adapters import S3Checkpoints
from functions.probes.consumer_lag import LagUnmeasurable, PartitionOffsets
from functions.probes.kafka import (
    MskOffsets,
    bootstrap_brokers,
    client_config,
    msk_offsets,
    token_provider,
)

CLUSTER_ARN = "arn:aws:kafka:eu-west-1:111111111111:cluster/retail-msk-dev/0b1c2d3e-aaaa-bbbb-cccc-111122223333-4"
IAM_BROKERS = "b-1.retail.kafka.eu-west-1.amazonaws.com:9098,b-2.retail.kafka.eu-west-1.amazonaws.com:9098"


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
    return client, Stubber(client)


class FakeAdmin:
    """What kafka-python's KafkaAdminClient answers, for the three read calls the adapter makes."""

    def __init__(self, fail: str = ""):
        self.fail = fail
        self.calls: list[str] = []
        self.closed = False

    def describe_topics(self, topics: list[str]) -> list[dict[str, Any]]:
        self.calls.append("describe_topics")
        if self.fail == "metadata":
            raise RuntimeError("TopicAuthorizationFailedError")
        return [{"error_code": 0, "name": "orders", "partitions": [{"partition_index": 1}, {"partition_index": 0}]}]

    def list_partition_offsets(self, specs: dict[Any, Any]) -> dict[Any, Any]:
        self.calls.append(f"list_partition_offsets:{sorted({s.name for s in specs.values()})}")
        latest = set(specs.values()) == {OffsetSpec.LATEST}
        return {tp: OffsetAndTimestamp(500 + tp.partition if latest else 10, -1, -1) for tp in specs}

    def list_group_offsets(self, groups: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("list_group_offsets")
        if self.fail == "group":
            raise RuntimeError("GroupAuthorizationFailedError")
        return {"glue-customers-stream": {TopicPartition("customers", 0): OffsetAndMetadata(7, "", -1),
                                          TopicPartition("customers", 1): OffsetAndMetadata(-1, "", -1),
                                          TopicPartition("other", 0): OffsetAndMetadata(3, "", -1)}}

    def close(self) -> None:
        self.closed = True


def test_client_is_tls_with_msk_iam_and_no_group_membership() -> None:
    provider = token_provider("eu-west-1", generate=lambda region: (f"token-{region}", 10**15))
    config = client_config(IAM_BROKERS, provider)
    assert config["security_protocol"] == "SASL_SSL" and config["sasl_mechanism"] == "OAUTHBEARER"
    assert isinstance(config["sasl_oauth_token_provider"], AbstractTokenProvider)
    assert config["bootstrap_servers"] == IAM_BROKERS.split(",")
    assert config["ssl_check_hostname"] is True
    # An admin client: kafka-python refuses group_id / enable_auto_commit in it, so it cannot join or commit.
    assert not {"group_id", "enable_auto_commit", "auto_commit_interval_ms"} & set(config)
    assert set(config) <= set(KafkaAdminClient.DEFAULT_CONFIG), set(config) - set(KafkaAdminClient.DEFAULT_CONFIG)
    # Every wait bounded well inside the function's 50 s timeout.
    assert config["request_timeout_ms"] <= 10_000 and config["bootstrap_timeout_ms"] <= 20_000
    assert config["reconnect_backoff_max_ms"] <= 2_000


def test_token_provider_signs_for_the_region_and_reuses_a_fresh_token() -> None:
    signed: list[str] = []

    def generate(region: str) -> tuple[str, int]:
        signed.append(region)
        return f"token-{len(signed)}", 10**15  # expires far in the future

    provider = token_provider("eu-west-1", generate=generate)
    assert provider.token() == "token-1" and provider.token() == "token-1"
    assert signed == ["eu-west-1"]
    expired = token_provider("eu-west-1", generate=lambda region: ("t", 0))  # already expired: signed every time
    assert expired.token() == "t"


def test_answers_are_mapped_to_partition_offsets() -> None:
    admin = FakeAdmin()
    offsets = MskOffsets(admin).partition_offsets("orders")
    assert offsets == {0: PartitionOffsets(10, 500), 1: PartitionOffsets(10, 501)}
    assert admin.calls == ["describe_topics", "list_partition_offsets:['LATEST']",
                           "list_partition_offsets:['EARLIEST']"]


def test_committed_offsets_are_the_groups_on_the_topic_only() -> None:
    committed = MskOffsets(FakeAdmin()).committed_offsets("glue-customers-stream", "customers")
    assert committed == {0: 7}  # -1: nothing committed for partition 1; another topic's offsets left out


@pytest.mark.parametrize(("fail", "call", "reason"), [
    ("metadata", "partition_offsets", "Metadata of topic orders failed: RuntimeError: TopicAuthorization"),
    ("group", "committed_offsets", "OffsetFetch of group g failed: RuntimeError: GroupAuthorization"),
])
def test_client_errors_become_the_unmeasured_reason(fail: str, call: str, reason: str) -> None:
    adapter = MskOffsets(FakeAdmin(fail=fail))
    with pytest.raises(LagUnmeasurable, match=reason):
        adapter.partition_offsets("orders") if call == "partition_offsets" else adapter.committed_offsets("g", "t")


def test_brokers_are_looked_up_by_cluster_name(catalog: Catalog) -> None:
    kafka, stub = stubbed("kafka")
    stub.add_response("list_clusters_v2", {"ClusterInfoList": [
        {"ClusterName": "retail-msk-dev", "ClusterArn": CLUSTER_ARN}]}, {"ClusterNameFilter": "retail-msk-dev"})
    stub.add_response("get_bootstrap_brokers", {"BootstrapBrokerStringSaslIam": IAM_BROKERS},
                      {"ClusterArn": CLUSTER_ARN})
    made: dict[str, Any] = {}

    def admin_factory(**config: Any) -> FakeAdmin:
        made.update(config)
        return FakeAdmin()

    with stub:
        adapter = msk_offsets(catalog, lambda service: kafka, admin_factory=admin_factory)
    stub.assert_no_pending_responses()
    assert isinstance(adapter, MskOffsets) and made["bootstrap_servers"] == IAM_BROKERS.split(",")


def test_a_cluster_without_an_iam_listener_is_named(catalog: Catalog) -> None:
    kafka, stub = stubbed("kafka")
    stub.add_response("list_clusters_v2", {"ClusterInfoList": [
        {"ClusterName": "retail-msk-dev", "ClusterArn": CLUSTER_ARN}]})
    stub.add_response("get_bootstrap_brokers", {"BootstrapBrokerStringTls": "b-1:9094"})
    with stub, pytest.raises(LagUnmeasurable, match="no IAM-authenticated listener"):
        bootstrap_brokers(catalog, lambda service: kafka)


def test_checkpoint_listing_names_the_files_of_one_log_directory() -> None:
    s3, stub = stubbed("s3")
    prefix = "temporary/orders-stream/checkpoint/offsets/"
    stub.add_response("list_objects_v2", {"Contents": [{"Key": f"{prefix}0"}, {"Key": f"{prefix}1"}],
                                          "IsTruncated": False},
                      {"Bucket": "b", "Prefix": prefix, "Delimiter": "/", "MaxKeys": 1000})
    with stub:
        assert S3Checkpoints(lambda service: s3).batch_ids("b", prefix) == ["0", "1"]


def test_access_denied_on_the_checkpoint_is_the_reason() -> None:
    s3, stub = stubbed("s3")
    stub.add_client_error("get_object", service_error_code="AccessDenied", service_message="Access Denied",
                          http_status_code=403)
    with stub, pytest.raises(LagUnmeasurable, match=r"s3://b/k: cannot read: AccessDenied: Access Denied"):
        S3Checkpoints(lambda service: s3).read("b", "k")
