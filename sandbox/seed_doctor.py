"""What a real account would have for `remedy doctor`'s checks to pass, seeded from the catalog and the
synthesized templates (after each reset), and the private network the in-VPC doctor reaches.

Seed (seed(catalog, account, templates)): the catalog's VPC and private subnets with their ids, one route table
for them, the VPC endpoints `remedy catalog endpoints` lists (infra.network.required_endpoints over the
templates: interface endpoints with private DNS in the subnets, gateway endpoints on the route table), the
Powertools layer version the templates use (sandbox.gaps.awslambda), the MSK topics with the catalog's
partitions (sandbox.gaps.kafka), the on-call topic's e-mail subscriptions (confirmed), SumOffsetLag data for the
consumer groups of jobs whose lag comes from MSK (they commit offsets), and each batch job's own `--write-mode`
argument.

The doctor's own API gaps are filled per service: Kafka ListTopics and GetBootstrapBrokers
(sandbox/gaps/kafka.py), Lambda GetLayerVersionByArn and GetAccountSettings (sandbox/gaps/awslambda.py), the
stand-in's SVV_USER_INFO and USER_IS_MEMBER_OF (sandbox/gaps/redshift_data.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.gaps import awslambda, kafka

ENV = {"DOCTOR_REACH_ADAPTER": "sandbox.seed_doctor:reach"}  # the in-VPC doctor's TCP checks (functions.doctor)
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
    kafka.reset()
    awslambda.reset()
    BLOCKED.clear()


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
                awslambda.STATE.layers[arn] = {
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
        kafka.STATE.topics[arn] = {t.name: t.partitions for t in catalog.msk.topics}


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
