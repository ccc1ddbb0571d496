"""MSK (kafka): cluster ARNs that name the cluster, clusters that finish updating, UpdateBrokerCount,
ListTopics and GetBootstrapBrokers.

moto 5.2 leaves the cluster name out of a cluster's ARN (no grant on `cluster/<name>/*` would match it), has
no UpdateBrokerCount, ListTopics or GetBootstrapBrokers, and writes `loggingInfo: {}` for a cluster without
broker logs (botocore's LoggingInfo requires BrokerLogs). Here an update of the broker count leaves the cluster
UPDATING, with the old count, until the sandbox's clock has passed the update
(sandbox.clock.DURATIONS["kafka.update_broker_count"]), then ACTIVE with the new count; a busy cluster refuses
another update, as MSK does. Topics are those seeded from the catalog (sandbox.seed_doctor, `STATE.topics`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from sandbox import clock
from sandbox.gaps import Fill

_API = "https://docs.aws.amazon.com/msk/1.0/apireference"
OPERATIONS: dict[str, Fill] = {
    "kafka:UpdateBrokerCount": Fill("missing", "the cluster UPDATING (old count) until the sandbox's clock has "
                                               "passed the update, then ACTIVE with the new count; a new "
                                               "currentVersion; a busy or stale-version cluster refused",
                                    f"{_API}/clusters-clusterarn-nodes-count.html"),
    "kafka:DescribeClusterV2": Fill("async", "an UPDATING cluster settles on the sandbox's clock; no empty "
                                             "loggingInfo; an ARN with the cluster's name",
                                    "https://docs.aws.amazon.com/MSK/2.0/APIReference/v2-clusters-clusterarn.html"),
    "kafka:ListClustersV2": Fill("async", "clusters settled as DescribeClusterV2 settles them",
                                 "https://docs.aws.amazon.com/MSK/2.0/APIReference/v2-clusters.html"),
    "kafka:ListTopics": Fill("missing", "the cluster's seeded topics (partitions, replication factor 3, in sync), "
                                        "topicNameFilter as a prefix", f"{_API}/clusters-clusterarn-topics.html"),
    "kafka:GetBootstrapBrokers": Fill("missing", "BootstrapBrokerStringSaslIam: one host per broker, port 9098",
                                      f"{_API}/clusters-clusterarn-bootstrap-brokers.html"),
}


@dataclass
class _State:
    topics: dict[str, dict[str, int]] = field(default_factory=dict)  # cluster ARN -> topic -> partitions


STATE = _State()
_INSTALLED = False


def reset() -> None:
    global STATE
    STATE = _State()


def delete_topic(cluster_arn: str, topic: str) -> None:
    STATE.topics.get(cluster_arn, {}).pop(topic, None)


def set_partitions(cluster_arn: str, topic: str, partitions: int) -> None:
    STATE.topics.setdefault(cluster_arn, {})[topic] = partitions


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _fill_cluster_arn()
    _fill_broker_count()
    _fill_topics_and_brokers()
    _INSTALLED = True


def _fill_cluster_arn() -> None:
    """An MSK cluster's ARN names the cluster, as AWS's does (`cluster/<name>/<uuid>`, the IAM service reference's
    `kafka` cluster resource type); moto's leaves the name out, which no grant on `cluster/<name>/*` would match."""
    from moto.kafka import models
    from moto.utilities.utils import get_partition

    def generate_arn(self: Any) -> str:
        kind = "cluster" if self.cluster_type == "PROVISIONED" else "serverless-cluster"
        return (f"arn:{get_partition(self.region_name)}:kafka:{self.region_name}:{self.account_id}:"
                f"{kind}/{self.cluster_name}/{self.cluster_id}")

    models.FakeKafkaCluster._generate_arn = generate_arn


def _fill_broker_count() -> None:
    from moto.kafka import models, responses

    original_describe = models.KafkaBackend.describe_cluster_v2
    original_list = models.KafkaBackend.list_clusters_v2

    def settle(cluster: Any) -> None:
        if cluster.state == "UPDATING" and clock.done(getattr(cluster, "update_started_at", None),
                                                      "kafka.update_broker_count"):
            cluster.state = "ACTIVE"  # the brokers are in once the sandbox's clock has passed the update
            cluster.number_of_broker_nodes = getattr(cluster, "target_broker_nodes", cluster.number_of_broker_nodes)

    def describe_cluster_v2(self: Any, cluster_arn: str) -> dict[str, Any]:
        if cluster_arn in self.clusters:
            settle(self.clusters[cluster_arn])
        info: dict[str, Any] = original_describe(self, cluster_arn)
        provisioned = info.get("provisioned") or {}
        if not provisioned.get("loggingInfo"):
            # moto writes {} for a cluster without broker logs; botocore's LoggingInfo requires BrokerLogs, so
            # AWS leaves an unset one out (tests/integration/test_gap_fill_shapes.py). ListClustersV2 uses this.
            provisioned.pop("loggingInfo", None)
        return info

    def list_clusters_v2(self: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        for cluster in self.clusters.values():
            settle(cluster)
        return list(original_list(self, *args, **kwargs))

    def update_broker_count(self: Any) -> str:
        path = unquote(self.parsed_url.path)
        arn = path.split("/v1/clusters/", 1)[1].rsplit("/nodes/count", 1)[0]
        body = json.loads(self.body or "{}")
        cluster = self.kafka_backend.clusters.get(arn)
        if cluster is None:
            return self._error(404, "NotFoundException", f"cluster {arn} not found")
        if body.get("currentVersion") != cluster.current_version:
            return self._error(400, "BadRequestException", "The cluster's current version does not match")
        if cluster.state != "ACTIVE":  # one operation at a time: AWS refuses an update of a busy cluster
            return self._error(400, "BadRequestException", f"The cluster is in the {cluster.state} state; "
                                                           f"the operation is allowed only in ACTIVE")
        target = int(body["targetNumberOfBrokerNodes"])
        if target <= (cluster.number_of_broker_nodes or 0):
            return self._error(400, "BadRequestException", "The broker count can only be increased")
        # UPDATING, with the old broker count, until the sandbox's clock has passed the update's duration.
        cluster.target_broker_nodes = target
        cluster.update_started_at = clock.now()
        cluster.state = "UPDATING"
        cluster.current_version = f"K{uuid.uuid4().hex[:12].upper()}"
        operation = f"{arn.replace(':cluster/', ':cluster-operation/')}/{uuid.uuid4()}"
        return json.dumps({"clusterArn": arn, "clusterOperationArn": operation})

    def _error(self: Any, status: int, code: str, message: str) -> Any:
        # moto answers with the status in the headers (without it, 200: the error would pass as a success)
        return status, {"x-amzn-ErrorType": code, "status": str(status)}, json.dumps({"message": message})

    models.KafkaBackend.describe_cluster_v2 = describe_cluster_v2
    models.KafkaBackend.list_clusters_v2 = list_clusters_v2
    responses.KafkaResponse.update_broker_count = update_broker_count
    responses.KafkaResponse._error = _error


def _fill_topics_and_brokers() -> None:
    from moto.kafka import responses

    def cluster_arn(self: Any, suffix: str) -> str:
        return unquote(self.parsed_url.path).split("/v1/clusters/", 1)[1].rsplit(suffix, 1)[0]

    def list_topics(self: Any) -> Any:
        arn = cluster_arn(self, "/topics")
        if arn not in self.kafka_backend.clusters:
            return self._error(404, "NotFoundException", f"cluster {arn} not found")
        name_filter = (parse_qs(self.parsed_url.query).get("topicNameFilter") or [""])[0]
        region_account = arn.split(":")[3:5]
        cluster_name = arn.split("/")[1]
        topics = [{"TopicArn": f"arn:aws:kafka:{region_account[0]}:{region_account[1]}:topic/{cluster_name}/"
                               f"{arn.rsplit('/', 1)[-1]}/{name}", "TopicName": name, "PartitionCount": count,
                   "ReplicationFactor": 3, "OutOfSyncReplicaCount": 0}
                  for name, count in sorted(STATE.topics.get(arn, {}).items()) if name.startswith(name_filter)]
        return 200, {"Content-Type": "application/json"}, json.dumps({"topics": [
            {k[0].lower() + k[1:]: v for k, v in t.items()} for t in topics]})

    def get_bootstrap_brokers(self: Any) -> Any:
        arn = cluster_arn(self, "/bootstrap-brokers")
        cluster = self.kafka_backend.clusters.get(arn)
        if cluster is None:
            return self._error(404, "NotFoundException", f"cluster {arn} not found")
        name = cluster.cluster_name
        hosts = ",".join(f"b-{i + 1}.{name}.sandbox.kafka.{self.region}.amazonaws.com:9098"
                         for i in range(int(cluster.number_of_broker_nodes)))
        return 200, {"Content-Type": "application/json"}, json.dumps({"bootstrapBrokerStringSaslIam": hosts})

    responses.KafkaResponse.list_topics = list_topics
    responses.KafkaResponse.get_bootstrap_brokers = get_bootstrap_brokers
