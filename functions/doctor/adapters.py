"""The doctor's ports over boto3 (read-only calls only). Clients come from functions.core.adapters.clients.Clients:
endpoints and credentials are configuration (AWS_ENDPOINT_URL, the caller's profile or the function's role)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from botocore.exceptions import ClientError

from functions.core.adapters.clients import Clients
from functions.core.errors import error_code
from functions.doctor.ports import (
    GlueJobFacts,
    LayerVersion,
    MskCluster,
    RedshiftCluster,
    Route,
    Subscription,
    VpcEndpoint,
)

_NOT_FOUND = {"EntityNotFoundException", "NotFoundException", "ResourceNotFoundException", "ClusterNotFound",
              "ClusterNotFoundFault", "ParameterNotFound", "404", "NoSuchBucket", "NotFound"}


class MskAdapter:
    def __init__(self, clients: Clients):
        self._kafka = lambda: clients("kafka")

    def cluster(self, name: str) -> MskCluster | None:
        infos = self._kafka().list_clusters_v2(ClusterNameFilter=name).get("ClusterInfoList", [])
        info = next((c for c in infos if c.get("ClusterName") == name), None)
        if info is None:
            return None
        brokers = int(info.get("Provisioned", {}).get("NumberOfBrokerNodes", 0))
        return MskCluster(arn=info["ClusterArn"], state=str(info.get("State")), broker_count=brokers)

    def topics(self, cluster_arn: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for page in self._kafka().get_paginator("list_topics").paginate(ClusterArn=cluster_arn):
            for topic in page.get("Topics", []):
                found[topic["TopicName"]] = int(topic.get("PartitionCount", 0))
        return found

    def bootstrap_brokers(self, cluster_arn: str) -> list[tuple[str, int]]:
        answer = self._kafka().get_bootstrap_brokers(ClusterArn=cluster_arn)
        text = answer.get("BootstrapBrokerStringSaslIam") or answer.get("BootstrapBrokerStringTls") or ""
        pairs = []
        for item in filter(None, text.split(",")):
            host, _, port = item.rpartition(":")
            pairs.append((host, int(port)))
        return pairs


class MetricsAdapter:
    def __init__(self, clients: Clients):
        self._cw = lambda: clients("cloudwatch")

    def lag_metric_groups(self, cluster_name: str) -> set[tuple[str, str]]:
        # ListMetrics returns metrics with data in the last two weeks: a group that stopped committing drops out.
        pages = self._cw().get_paginator("list_metrics").paginate(
            Namespace="AWS/Kafka", MetricName="SumOffsetLag",
            Dimensions=[{"Name": "Cluster Name", "Value": cluster_name}])
        found = set()
        for page in pages:
            for metric in page.get("Metrics", []):
                dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                if "Consumer Group" in dims and "Topic" in dims:
                    found.add((dims["Consumer Group"], dims["Topic"]))
        return found


class GlueAdapter:
    def __init__(self, clients: Clients):
        self._glue = lambda: clients("glue")

    def job(self, name: str) -> GlueJobFacts | None:
        try:
            job = self._glue().get_job(JobName=name)["Job"]
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                return None
            raise
        return GlueJobFacts(name=name, command=str(job.get("Command", {}).get("Name")),
                            worker_type=job.get("WorkerType"), role=str(job.get("Role", "")),
                            max_concurrent_runs=int(job.get("ExecutionProperty", {}).get("MaxConcurrentRuns", 1)),
                            default_arguments=dict(job.get("DefaultArguments", {})))


class StorageAdapter:
    def __init__(self, clients: Clients):
        self._s3 = lambda: clients("s3")

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._s3().head_bucket(Bucket=bucket)
        except ClientError as error:
            if error_code(error) in _NOT_FOUND:
                return False
            raise
        return True

    def has_objects(self, bucket: str, prefix: str) -> bool:
        return bool(self._s3().list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0))


class RedshiftAdapter:
    """DescribeClusters, and SQL through the Data API as the catalog's db_user (temporary credentials: the
    caller needs redshift:GetClusterCredentials on that user, as the service's own functions have)."""

    def __init__(self, clients: Clients, cluster_id: str, database: str, db_user: str, poll_seconds: float = 0.25,
                 timeout_seconds: float = 60.0):
        self._clients = clients
        self._cluster_id, self._database, self._db_user = cluster_id, database, db_user
        self._poll, self._timeout = poll_seconds, timeout_seconds

    def cluster(self, cluster_id: str) -> RedshiftCluster | None:
        try:
            found = self._clients("redshift").describe_clusters(ClusterIdentifier=cluster_id)["Clusters"]
        except ClientError as error:
            if error_code(error) in _NOT_FOUND:
                return None
            raise
        if not found:
            return None
        c = found[0]
        endpoint = c.get("Endpoint") or {}
        return RedshiftCluster(status=str(c.get("ClusterStatus")), database=str(c.get("DBName")),
                               node_type=str(c.get("NodeType")), number_of_nodes=int(c.get("NumberOfNodes", 0)),
                               endpoint=(endpoint["Address"], int(endpoint["Port"])) if endpoint.get("Address")
                               else None)

    def query(self, sql: str) -> list[list[Any]]:
        data = self._clients("redshift-data")
        started = data.execute_statement(ClusterIdentifier=self._cluster_id, Database=self._database,
                                         DbUser=self._db_user, Sql=sql)
        deadline = time.monotonic() + self._timeout
        while True:
            state = data.describe_statement(Id=started["Id"])
            if state["Status"] == "FINISHED":
                break
            if state["Status"] in ("FAILED", "ABORTED"):
                raise RuntimeError(str(state.get("Error") or state["Status"]))
            if time.monotonic() > deadline:
                raise RuntimeError(f"statement still {state['Status']} after {self._timeout:.0f} s")
            time.sleep(self._poll)
        if not state.get("HasResultSet"):
            return []
        records = data.get_statement_result(Id=started["Id"]).get("Records", [])
        return [[_value(field) for field in row] for row in records]


def _value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("booleanValue", "longValue", "doubleValue", "stringValue"):
        if key in field:
            return field[key]
    return None


class AccountAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def secret_exists(self, name: str) -> bool:
        try:
            self._clients("secretsmanager").describe_secret(SecretId=name)
        except ClientError as error:
            if error_code(error) in _NOT_FOUND:
                return False
            raise
        return True

    def topic_exists(self, arn: str) -> bool:
        try:
            self._clients("sns").get_topic_attributes(TopicArn=arn)
        except ClientError as error:
            if error_code(error) in _NOT_FOUND:
                return False
            raise
        return True

    def subscriptions(self, topic_arn: str) -> list[Subscription]:
        pages = self._clients("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        return [Subscription(protocol=s["Protocol"], endpoint=s["Endpoint"],
                             confirmed=s["SubscriptionArn"] not in ("PendingConfirmation", "Deleted"))
                for page in pages for s in page.get("Subscriptions", [])]

    def parameter_exists(self, name: str) -> bool:
        try:
            self._clients("ssm").get_parameter(Name=name)
        except ClientError as error:
            if error_code(error) in _NOT_FOUND:
                return False
            raise
        return True

    def rules(self, name_prefix: str) -> dict[str, str]:
        events = self._clients("events")
        found = {}
        for page in events.get_paginator("list_rules").paginate(NamePrefix=name_prefix):
            for rule in page.get("Rules", []):
                if rule.get("State") == "ENABLED" and rule.get("EventPattern"):
                    found[rule["Name"]] = rule["EventPattern"]
        return found

    def pattern_matches(self, pattern: str, event: dict[str, Any]) -> bool:
        return bool(self._clients("events").test_event_pattern(EventPattern=pattern,
                                                               Event=json.dumps(event))["Result"])

    def alarm_names(self, prefix: str) -> list[str]:
        pages = self._clients("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
        return [a["AlarmName"] for page in pages for a in page.get("MetricAlarms", [])]


class NetworkAdapter:
    def __init__(self, clients: Clients):
        self._ec2 = lambda: clients("ec2")

    def endpoints(self, vpc_id: str) -> list[VpcEndpoint]:
        pages = self._ec2().get_paginator("describe_vpc_endpoints").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        return [VpcEndpoint(service_name=e["ServiceName"], kind=str(e.get("VpcEndpointType")),
                            state=str(e.get("State")), subnet_ids=tuple(e.get("SubnetIds", [])),
                            route_table_ids=tuple(e.get("RouteTableIds", [])),
                            private_dns=bool(e.get("PrivateDnsEnabled")))
                for page in pages for e in page.get("VpcEndpoints", [])]

    def routes(self, subnet_id: str) -> tuple[str | None, list[Route]]:
        ec2 = self._ec2()
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["RouteTables"]
        if not tables:  # no explicit association: the VPC's main route table
            vpc = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"]
            main = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
            tables = ec2.describe_route_tables(Filters=main)["RouteTables"]
        if not tables:
            return None, []
        table = tables[0]
        routes = [Route(destination=str(r.get("DestinationCidrBlock") or r.get("DestinationPrefixListId") or ""),
                        target=str(r.get("NatGatewayId") or r.get("GatewayId") or r.get("VpcPeeringConnectionId")
                                   or r.get("TransitGatewayId") or ""), state=str(r.get("State", "active")))
                  for r in table.get("Routes", [])]
        return table["RouteTableId"], routes

    def nat_gateway_state(self, nat_gateway_id: str) -> str | None:
        found = self._ec2().describe_nat_gateways(NatGatewayIds=[nat_gateway_id]).get("NatGateways", [])
        return str(found[0]["State"]) if found else None


class LambdaAdapter:
    def __init__(self, clients: Clients):
        self._lambda = lambda: clients("lambda")

    def layer_version(self, arn: str) -> LayerVersion | None:
        try:
            found = self._lambda().get_layer_version_by_arn(Arn=arn)
        except ClientError as error:
            if error_code(error) in _NOT_FOUND or error_code(error) == "AccessDeniedException":
                return None  # AWS answers an unknown public layer version with AccessDenied too
            raise
        return LayerVersion(arn=found["LayerVersionArn"], compatible_runtimes=tuple(found.get("CompatibleRuntimes",
                                                                                               [])))

    def unreserved_concurrency(self) -> tuple[int, int]:
        limit = self._lambda().get_account_settings()["AccountLimit"]
        return int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])

    def reserved_concurrency(self, function_name: str) -> int:
        try:
            answer = self._lambda().get_function_concurrency(FunctionName=function_name)
        except ClientError as error:
            if error_code(error) in _NOT_FOUND:
                return 0
            raise
        return int(answer.get("ReservedConcurrentExecutions") or 0)


class SocketReach:
    def tcp(self, host: str, port: int, timeout: float) -> str | None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return None
        except TimeoutError:
            return f"no answer within {timeout:.0f} s (security group or route)"
        except OSError as error:
            return f"{type(error).__name__}: {error.strerror or error}"



def context_for(catalog: Any, clients: Clients, grants_sql: str | None = None, in_vpc: bool = False) -> Any:
    """The checks' context over these adapters (the `templates` inputs are the CLI's to add)."""
    from functions.doctor.checks import Context

    rs = catalog.redshift
    return Context(catalog=catalog, msk=MskAdapter(clients), metrics=MetricsAdapter(clients), glue=GlueAdapter(clients),
                   storage=StorageAdapter(clients),
                   redshift=RedshiftAdapter(clients, rs.cluster_id, rs.database, rs.db_user),
                   account=AccountAdapter(clients), network=NetworkAdapter(clients), lambdas=LambdaAdapter(clients),
                   reach=reach_adapter() if in_vpc else None, grants_sql=grants_sql)


def reach_adapter() -> Any:
    """TCP from this function's subnets; DOCTOR_REACH_ADAPTER=module:callable names another (configuration: the
    sandbox's private network is a stand-in, as the lag probe's brokers are)."""
    import importlib
    import os

    configured = os.environ.get("DOCTOR_REACH_ADAPTER")
    if not configured:
        return SocketReach()
    module, _, name = configured.partition(":")
    return getattr(importlib.import_module(module), name)()
