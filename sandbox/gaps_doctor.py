"""What `remedy doctor` reads that moto lacks, shaped like AWS, and what a real account would have for the
doctor's checks to pass (seeded from the catalog and the synthesized templates).

Gap fills (install(), once per process, from sandbox.aws.install_gap_fills):
- Kafka ListTopics (MSK's topic API: TopicName, TopicArn, PartitionCount, ReplicationFactor, OutOfSyncReplicaCount)
  and GetBootstrapBrokers (BootstrapBrokerStringSaslIam), from the topics seeded here.
- Lambda GetLayerVersionByArn of a public layer (another account's: moto keeps layers per account and cannot
  publish the Powertools publisher's) and GetAccountSettings (moto has no route for it): the account's
  concurrency limit minus what functions reserve (AWS's default limit 1,000 per region).
- The Redshift stand-in's Redshift-only objects the grants check reads: SVV_USER_INFO (syslog_access of a
  user: UNRESTRICTED when it is a member of the stand-in's syslog role) and USER_IS_MEMBER_OF(user, role).

Seed (seed(catalog, account, templates)): the catalog's VPC and private subnets with their ids, one route table
for them, the VPC endpoints `remedy catalog endpoints` lists (infra.network.required_endpoints over the
templates: interface endpoints with private DNS in the subnets, gateway endpoints on the route table), the
Powertools layer version the templates use, the MSK topics with the catalog's partitions, the on-call topic's
e-mail subscriptions (confirmed), SumOffsetLag data for the consumer groups of jobs whose lag comes from MSK
(they commit offsets), and each batch job's own `--write-mode` argument.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

DEFAULT_CONCURRENCY = 1000  # Lambda's default concurrent executions quota per region (Lambda quotas page)


@dataclass
class _State:
    topics: dict[str, dict[str, int]] = field(default_factory=dict)  # cluster ARN -> topic -> partitions
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)  # layer version ARN -> GetLayerVersion answer
    concurrency_limit: int = DEFAULT_CONCURRENCY


STATE = _State()
_LOCK = threading.Lock()
_INSTALLED = False


ENV = {"DOCTOR_REACH_ADAPTER": "sandbox.gaps_doctor:reach"}  # the in-VPC doctor's TCP checks (functions.doctor)
BLOCKED: set[tuple[str, int]] = set()  # (host, port) a scenario made unreachable (a security group without ingress)


class _Reach:
    """The private network of the emulated account: the hosts AWS's APIs hand out answer, unless blocked."""

    def tcp(self, host: str, port: int, timeout: float) -> str | None:
        if (host, port) in BLOCKED:
            return f"no answer within {timeout:.0f} s (security group or route)"
        return None if host.endswith(".amazonaws.com") else f"gaierror: {host} does not resolve"


def reach() -> _Reach:
    return _Reach()


def reset() -> None:
    global STATE
    STATE = _State()
    BLOCKED.clear()


def set_concurrency_limit(limit: int) -> None:
    """The account's concurrent executions quota (a new account's can be as low as 10)."""
    STATE.concurrency_limit = limit


def delete_topic(cluster_arn: str, topic: str) -> None:
    STATE.topics.get(cluster_arn, {}).pop(topic, None)


def set_partitions(cluster_arn: str, topic: str, partitions: int) -> None:
    STATE.topics.setdefault(cluster_arn, {})[topic] = partitions


# -- gap fills ----------------------------------------------------------------------------------------------

def _fill_kafka() -> None:
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

    if not hasattr(responses.KafkaResponse, "_error"):
        def _error(self: Any, status: int, code: str, message: str) -> Any:
            return status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, json.dumps(
                {"message": message})

        responses.KafkaResponse._error = _error
    responses.KafkaResponse.list_topics = list_topics
    responses.KafkaResponse.get_bootstrap_brokers = get_bootstrap_brokers


def _fill_lambda() -> None:
    from moto.awslambda import responses, urls

    def get_layer_version_by_arn(self: Any) -> Any:
        # GET /2018-10-31/layers?find=LayerVersion&Arn=…: moto has no method for it.
        arn = (parse_qs(self.parsed_url.query).get("Arn") or [""])[0]
        found = STATE.layers.get(arn)
        if found is None:
            # AWS: an unknown version of another account's layer is answered like one you may not read.
            return 403, {"x-amzn-ErrorType": "AccessDeniedException", "Content-Type": "application/json",
                         "status": "403"}, \
                json.dumps({"Type": "User", "Message": f"User is not authorized to perform: "
                                                       f"lambda:GetLayerVersion on resource: {arn}"})
        return 200, {"Content-Type": "application/json"}, json.dumps(found)

    def get_account_settings(self: Any) -> Any:
        reserved = sum(int(getattr(fn, "reserved_concurrency", None) or 0)
                       for fn in self.backend.list_functions())
        return 200, {"Content-Type": "application/json"}, json.dumps({
            "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                             "CodeSizeZipped": 52428800, "ConcurrentExecutions": STATE.concurrency_limit,
                             "UnreservedConcurrentExecutions": STATE.concurrency_limit - reserved},
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(self.backend.list_functions())}})

    responses.LambdaResponse.get_layer_version_by_arn = get_layer_version_by_arn
    responses.LambdaResponse.get_account_settings = get_account_settings
    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = responses.LambdaResponse.dispatch


# The Redshift objects the doctor's grants check reads, created in the stand-in like its other system views.
_USER_VIEWS = [
    """CREATE OR REPLACE VIEW pg_catalog.svv_user_info AS
    SELECT r.rolname::text AS user_name, r.oid::integer AS user_id, r.rolcreatedb AS createdb,
           r.rolsuper AS superuser, false AS catalog_update, r.rolconnlimit::text AS connection_limit,
           (CASE WHEN pg_has_role(r.oid, 'redshift_syslog_unrestricted', 'MEMBER') THEN 'UNRESTRICTED'
                 ELSE 'RESTRICTED' END)::text AS syslog_access,
           NULL::timestamp AS last_ddl_timestamp, 0 AS session_timeout, NULL::text AS external_user_id
      FROM pg_catalog.pg_roles r
     WHERE r.rolname NOT LIKE 'pg\\_%' AND r.rolname NOT IN ('redshift_syslog_unrestricted', 'sys:operator')
       AND (pg_has_role(current_user, r.oid, 'MEMBER')
            OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user))""",
    """CREATE OR REPLACE FUNCTION pg_catalog.user_is_member_of(user_name text, role_name text) RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT pg_has_role(user_name, role_name, 'MEMBER') $$""",
    "GRANT SELECT ON pg_catalog.svv_user_info TO PUBLIC",
]


def _install_user_views(rs: Any) -> None:
    if rs.execute("SELECT 1 FROM pg_catalog.pg_views WHERE viewname = 'svv_user_info'"):
        return
    rs.execute("SET allow_system_table_mods = on")
    try:
        for statement in _USER_VIEWS:
            rs.execute(statement)
    finally:
        rs.execute("RESET allow_system_table_mods")


def _fill_redshift_views() -> None:
    """Only statements that read these objects install them (the other Data API callers' stand-in is untouched)."""
    from sandbox import gaps_procedures

    original = gaps_procedures._run_statements

    def run_statements(sqls: list[str]) -> dict[str, Any]:
        if any("svv_user_info" in sql or "user_is_member_of" in sql for sql in sqls):
            _install_user_views(gaps_procedures.standin())
        result: dict[str, Any] = original(sqls)
        return result

    gaps_procedures._run_statements = run_statements


def install() -> None:
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        _fill_kafka()
        _fill_lambda()
        _fill_redshift_views()
        _INSTALLED = True


# -- seed ---------------------------------------------------------------------------------------------------

def seed(catalog: Any, account: Any, templates: dict[str, dict[str, Any]]) -> None:
    reset()
    _seed_network(catalog, account, templates)
    _seed_layers(templates)
    _seed_topics(catalog, account)
    _seed_subscriptions(catalog, account)
    _seed_lag_metrics(catalog, account)
    _seed_write_modes(catalog, account)


def _with_id(module: Any, attr: str, value: str, make: Any) -> Any:
    original = getattr(module, attr)
    setattr(module, attr, lambda *_a, **_k: value)  # the catalog's id, not a random one
    try:
        return make()
    finally:
        setattr(module, attr, original)


def _seed_network(catalog: Any, account: Any, templates: dict[str, dict[str, Any]]) -> None:
    if catalog.network is None:
        return
    import moto.ec2.models.subnets as subnets_module
    import moto.ec2.models.vpcs as vpcs_module
    from moto.ec2.models import ec2_backends

    from infra.network import required_endpoints

    net = catalog.network
    backend = ec2_backends[account.account_id][account.region]
    ec2 = account.client("ec2")
    if net.vpc_id not in backend.vpcs:
        _with_id(vpcs_module, "random_vpc_id", net.vpc_id,
                 lambda: backend.create_vpc("10.0.0.0/16"))
    for i, subnet in enumerate(net.private_subnet_ids):
        if subnet not in {s.id for s in backend.describe_subnets()}:
            zone = net.availability_zones[i % len(net.availability_zones)]
            _with_id(subnets_module, "random_subnet_id", subnet,
                     lambda i=i, zone=zone: backend.create_subnet(net.vpc_id, f"10.0.{64 + i}.0/24", None, zone))
    table = ec2.create_route_table(VpcId=net.vpc_id)["RouteTable"]["RouteTableId"]
    for subnet in net.private_subnet_ids:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    if net.egress == "nat":
        public = ec2.create_subnet(VpcId=net.vpc_id, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        return
    for endpoint in required_endpoints(templates, catalog.region):
        if endpoint.kind == "Gateway":
            ec2.create_vpc_endpoint(VpcId=net.vpc_id, ServiceName=endpoint.name, VpcEndpointType="Gateway",
                                    RouteTableIds=[table])
        else:
            ec2.create_vpc_endpoint(VpcId=net.vpc_id, ServiceName=endpoint.name, VpcEndpointType="Interface",
                                    SubnetIds=list(net.private_subnet_ids), PrivateDnsEnabled=True,
                                    SecurityGroupIds=list(net.function_security_group_ids))


def _seed_layers(templates: dict[str, dict[str, Any]]) -> None:
    for template in templates.values():
        for resource in template.get("Resources", {}).values():
            for arn in resource.get("Properties", {}).get("Layers", []) if resource.get("Type") == \
                    "AWS::Lambda::Function" else []:
                if not isinstance(arn, str) or ":layer:AWSLambdaPowertoolsPython" not in arn:
                    continue
                layer_arn, _, version = arn.rpartition(":")
                STATE.layers[arn] = {
                    "Content": {"Location": "https://awslambda-layers.s3.amazonaws.com/sandbox",
                                "CodeSha256": "c2FuZGJveA==", "CodeSize": 6291456},
                    "LayerArn": layer_arn, "LayerVersionArn": arn, "Version": int(version),
                    "Description": "Powertools for AWS Lambda (Python)", "CreatedDate": "2026-01-01T00:00:00.000+0000",
                    "CompatibleRuntimes": ["python3.14"], "CompatibleArchitectures": ["x86_64"],
                    "LicenseInfo": "MIT-0"}


def cluster_arn(catalog: Any, account: Any) -> str | None:
    infos = account.client("kafka").list_clusters_v2(ClusterNameFilter=catalog.msk.cluster_name)["ClusterInfoList"]
    return infos[0]["ClusterArn"] if infos else None


def _seed_topics(catalog: Any, account: Any) -> None:
    arn = cluster_arn(catalog, account)
    if arn is not None:
        STATE.topics[arn] = {t.name: t.partitions for t in catalog.msk.topics}


def _seed_subscriptions(catalog: Any, account: Any) -> None:
    sns = account.client("sns")
    arn = (f"arn:aws:sns:{catalog.region}:{catalog.account_id}:{catalog.notifications.on_call_topic}")
    if arn not in {t["TopicArn"] for t in sns.list_topics().get("Topics", [])}:
        return  # created by the deployment (sandbox.cfn), seeded after it
    for email in catalog.notifications.emails:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email)  # moto confirms e-mail subscriptions


def _seed_lag_metrics(catalog: Any, account: Any) -> None:
    """A job whose lag comes from MSK commits offsets to its group: MSK publishes its SumOffsetLag."""
    now = datetime.now(UTC)
    for job in catalog.glue_jobs:
        if job.streaming and getattr(job, "lag_source", "msk") == "msk" and job.consumer_group:
            account.client("cloudwatch").put_metric_data(Namespace="AWS/Kafka", MetricData=[{
                "MetricName": "SumOffsetLag", "Timestamp": now, "Value": 120.0,
                "Dimensions": [{"Name": "Cluster Name", "Value": catalog.msk.cluster_name},
                               {"Name": "Consumer Group", "Value": job.consumer_group},
                               {"Name": "Topic", "Value": job.topic}]}])


def _seed_write_modes(catalog: Any, account: Any) -> None:
    """Each batch job's script states how it writes (--write-mode), as the doctor expects it to."""
    glue = account.glue_backend()
    for job in catalog.glue_jobs:
        if job.streaming:
            continue
        try:
            defined = glue.get_job(job.name)
        except Exception:
            continue
        defined.default_arguments = {**(defined.default_arguments or {}), "--write-mode": job.write_mode}
