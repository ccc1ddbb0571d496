"""MSK: the catalog's cluster, its state and its brokers' security groups (KafkaPort)."""

from __future__ import annotations

from typing import Any

from functions.core.adapters.clients import Clients


class KafkaAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def _cluster(self, cluster_name: str) -> dict[str, Any] | None:
        # ListClustersV2 filtered by name returns the cluster's description: one call, no ARN needed.
        clusters = self._clients("kafka").list_clusters_v2(ClusterNameFilter=cluster_name)["ClusterInfoList"]
        return next((c for c in clusters if c.get("ClusterName") == cluster_name), None)

    def broker_security_groups(self, cluster_name: str) -> tuple[str, ...]:
        cluster = self._cluster(cluster_name)
        if cluster is None:
            return ()
        broker_group = (cluster.get("Provisioned") or {}).get("BrokerNodeGroupInfo") or {}
        return tuple(broker_group.get("SecurityGroups") or ())

    def cluster_state(self, cluster_name: str) -> str | None:
        cluster = self._cluster(cluster_name)
        return str(cluster.get("State")) if cluster is not None else None
