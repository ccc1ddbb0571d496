"""The brokers' side of the lag probe: partition offsets and a group's committed offsets, read from the MSK
cluster with kafka-python's admin client over TLS, authenticated with IAM (SASL OAUTHBEARER, tokens from AWS's
aws-msk-iam-sasl-signer-python). README "Libraries and why" says why these two.

Read-only by construction: the admin client has no consumer group of its own (kafka-python refuses `group_id`
and `enable_auto_commit` in its configuration), so it can neither join nor commit to the job's group. It sends
Metadata (kafka-cluster:Connect, DescribeTopic), ListOffsets (DescribeTopic) and OffsetFetch (DescribeGroup)
and nothing else.

The brokers are looked up per run (ListClustersV2 by the catalog's cluster name, then GetBootstrapBrokers):
brokers added by scale-msk are found without a catalog change. Every network wait is bounded, so a run ends
well inside the function's timeout with a reason rather than being killed.

Which adapter the probe uses is configuration (LAG_OFFSETS_ADAPTER, functions.probes.settings): this module's
`msk_offsets` by default; the sandbox names its stand-in there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from functions.core.catalog import Catalog
from functions.core.errors import error_line
from functions.probes.consumer_lag import LagUnmeasurable, PartitionOffsets

CLIENT_ID = "remedy-lag-probe"
# Bounded waits (milliseconds): a run reads a few topics' offsets; 10 s per request leaves room for retries
# inside the function's 50 s timeout, a dead listener fails after the bootstrap timeout, not Lambda's.
REQUEST_TIMEOUT_MS = 10_000
BOOTSTRAP_TIMEOUT_MS = 15_000
RECONNECT_BACKOFF_MAX_MS = 2_000
IDLE_MS = 60_000  # connections die with the invocation anyway; no idle connection kept open for minutes
TOKEN_MARGIN_SECONDS = 60  # renew a signed token this long before it expires (tokens last 15 minutes)


def token_provider(region: str, generate: Callable[[str], tuple[str, int]] | None = None) -> Any:
    """kafka-python's OAUTHBEARER token provider, with tokens signed by AWS's MSK IAM signer for `region`
    (the function's role credentials, from its environment). Reused until shortly before they expire."""
    from kafka.net.sasl.oauth import AbstractTokenProvider

    if generate is None:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        generate = MSKAuthTokenProvider.generate_auth_token
    sign: Callable[[str], tuple[str, int]] = generate

    class MskIamTokenProvider(AbstractTokenProvider):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self._token, self._expires_ms = "", 0

        def token(self) -> str:
            if time.time() * 1000 >= self._expires_ms - TOKEN_MARGIN_SECONDS * 1000:
                self._token, self._expires_ms = sign(region)
            return self._token

    return MskIamTokenProvider()


def client_config(bootstrap_servers: str, provider: Any) -> dict[str, Any]:
    """The admin client's configuration: TLS + IAM on MSK's IAM listener (port 9098), bounded waits."""
    return {
        "bootstrap_servers": bootstrap_servers.split(","),
        "client_id": CLIENT_ID,
        "security_protocol": "SASL_SSL",  # TLS to the brokers, SASL inside it
        "sasl_mechanism": "OAUTHBEARER",  # MSK IAM access control
        "sasl_oauth_token_provider": provider,
        "ssl_check_hostname": True,  # the brokers' certificates are issued for their names (public CAs)
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        "connections_max_idle_ms": IDLE_MS,
    }


def _field(item: Any, *names: str) -> Any:
    for name in names:
        if isinstance(item, dict) and name in item:
            return item[name]
        if hasattr(item, name):
            return getattr(item, name)
    return None


class MskOffsets:
    """OffsetsPort on a kafka-python admin client (or any object with the same three read methods)."""

    def __init__(self, admin: Any):
        self._admin = admin

    def close(self) -> None:
        self._admin.close()

    def partition_offsets(self, topic: str) -> dict[int, PartitionOffsets]:
        from kafka import TopicPartition
        from kafka.admin import OffsetSpec

        partitions = self._partitions(topic)
        try:
            latest = self._admin.list_partition_offsets({TopicPartition(topic, p): OffsetSpec.LATEST
                                                         for p in partitions})
            earliest = self._admin.list_partition_offsets({TopicPartition(topic, p): OffsetSpec.EARLIEST
                                                           for p in partitions})
        except Exception as error:  # kafka-python's errors have no common base worth naming here
            raise LagUnmeasurable(f"brokers: ListOffsets of topic {topic} failed: {error_line(error)}") from None
        by_partition = {tp.partition: answer.offset for tp, answer in latest.items()}
        starts = {tp.partition: answer.offset for tp, answer in earliest.items()}
        return {p: PartitionOffsets(earliest=starts.get(p, 0), latest=offset) for p, offset in by_partition.items()}

    def committed_offsets(self, group: str, topic: str) -> dict[int, int]:
        try:
            answer = self._admin.list_group_offsets({group: None})
        except Exception as error:
            raise LagUnmeasurable(f"brokers: OffsetFetch of group {group} failed: {error_line(error)}") from None
        offsets = answer.get(group, {}) if isinstance(answer, dict) else {}
        # -1: the group has no committed offset for that partition (OffsetFetch's answer for "none").
        return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}

    def _partitions(self, topic: str) -> list[int]:
        try:
            topics = self._admin.describe_topics([topic])
        except Exception as error:
            raise LagUnmeasurable(f"brokers: Metadata of topic {topic} failed: {error_line(error)}") from None
        for item in topics or []:
            if _field(item, "topic", "name") != topic:
                continue
            if _field(item, "error_code") not in (None, 0):
                raise LagUnmeasurable(f"brokers: topic {topic}: error code {_field(item, 'error_code')} "
                                      f"(unknown topic, or DescribeTopic denied)")
            partitions = [_field(p, "partition", "partition_index") for p in _field(item, "partitions") or []]
            if partitions:
                return sorted(int(p) for p in partitions)
        raise LagUnmeasurable(f"brokers: topic {topic} not found (or DescribeTopic denied)")


def bootstrap_brokers(catalog: Catalog, clients: Any) -> str:
    """The cluster's IAM listener (BootstrapBrokerStringSaslIam), looked up by the catalog's cluster name."""
    kafka = clients("kafka")
    name = catalog.msk.cluster_name
    found = kafka.list_clusters_v2(ClusterNameFilter=name).get("ClusterInfoList", [])
    arn = next((c["ClusterArn"] for c in found if c.get("ClusterName") == name), None)
    if arn is None:
        raise LagUnmeasurable(f"MSK cluster {name} not found (ListClustersV2)")
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn).get("BootstrapBrokerStringSaslIam")
    if not brokers:
        raise LagUnmeasurable(f"MSK cluster {name} has no IAM-authenticated listener (BootstrapBrokerStringSaslIam "
                              f"is empty): turn on IAM access control for clients")
    return str(brokers)


def msk_offsets(catalog: Catalog, clients: Any, admin_factory: Callable[..., Any] | None = None) -> MskOffsets:
    """The production adapter (the default LAG_OFFSETS_ADAPTER): brokers looked up, admin client connected."""
    if admin_factory is None:
        from kafka import KafkaAdminClient

        admin_factory = KafkaAdminClient
    config = client_config(bootstrap_brokers(catalog, clients), token_provider(catalog.region))
    try:
        return MskOffsets(admin_factory(**config))
    except Exception as error:
        raise LagUnmeasurable(f"brokers: cannot connect to {catalog.msk.cluster_name}: {error_line(error)}") from None
