"""The data lake of the catalog, created in the emulated account in a healthy state: the MSK cluster,
the Glue jobs (streaming jobs running), the bucket with fresh landing data, the Redshift cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.core.catalog import Catalog

STREAMING_COMMAND = "gluestreaming"
BATCH_COMMAND = "glueetl"


def seed(catalog: Catalog, account: Any) -> None:
    _bucket(catalog, account)
    _glue(catalog, account)
    _msk(catalog, account)
    _redshift(catalog, account)
    from sandbox.kafka_standin import seed_streams

    seed_streams(catalog, account)  # brokers' offsets and the streaming jobs' Spark checkpoints (lag probe)
    from sandbox.slack_standin import seed as seed_slack

    seed_slack(catalog, account)  # the Slack app's signing secret and bot token (the stand-in's)


def _bucket(catalog: Catalog, account: Any) -> None:
    s3 = account.client("s3")
    bucket = catalog.s3.name
    if bucket in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        return
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": catalog.region})
    if catalog.s3.versioning:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    stamp = datetime.now(UTC).strftime("%Y/%m/%d/%H")
    for prefix in catalog.s3.landing_prefixes:
        s3.put_object(Bucket=bucket, Key=f"{prefix}{stamp}/part-0000.json", Body=b'{"seed": true}\n')
    for job in catalog.glue_jobs:
        s3.put_object(Bucket=bucket, Key=f"scripts/{job.name}.py", Body=b"# glue job script\n")


def _glue(catalog: Catalog, account: Any) -> None:
    glue = account.client("glue")
    existing = set(glue.list_jobs().get("JobNames", []))
    for job in catalog.glue_jobs:
        if job.name in existing:
            continue
        arguments = {"--job-bookmark-option": "job-bookmark-enable", "--enable-metrics": "true"}
        if job.writes_prefix:
            arguments["--output_path"] = f"s3://{catalog.s3.name}/{job.writes_prefix}"
        if job.topic:
            arguments["--topic"] = job.topic
        glue.create_job(
            Name=job.name,
            Role=f"arn:aws:iam::{catalog.account_id}:role/{job.role_name}",
            Command={"Name": STREAMING_COMMAND if job.streaming else BATCH_COMMAND,
                     "ScriptLocation": f"s3://{catalog.s3.name}/scripts/{job.name}.py", "PythonVersion": "3"},
            DefaultArguments=arguments,
            GlueVersion="4.0",
            WorkerType=job.worker_type,
            NumberOfWorkers=job.min_workers,
            ExecutionProperty={"MaxConcurrentRuns": 1},
            **({} if job.streaming else {"Timeout": 120}),  # streaming jobs run without a timeout
        )
        if job.streaming:
            glue.start_job_run(JobName=job.name)


def _msk(catalog: Catalog, account: Any) -> None:
    kafka = account.client("kafka")
    names = {c["ClusterName"] for c in kafka.list_clusters_v2().get("ClusterInfoList", [])}
    if catalog.msk.cluster_name in names:
        return
    kafka.create_cluster_v2(ClusterName=catalog.msk.cluster_name, Provisioned={
        "BrokerNodeGroupInfo": {"InstanceType": catalog.msk.broker_instance_type,
                                "ClientSubnets": ["subnet-0a1", "subnet-0b2", "subnet-0c3"],
                                "SecurityGroups": ["sg-0msk"]},
        "KafkaVersion": catalog.msk.kafka_version,
        "NumberOfBrokerNodes": catalog.msk.broker_count,
    })
    set_cluster_state(catalog.msk.cluster_name, "ACTIVE")  # moto leaves it CREATING; AWS gets there in minutes


def set_cluster_state(cluster_name: str, state: str) -> None:
    """The MSK cluster's state, as MSK would set it (ACTIVE, MAINTENANCE, REBOOTING_BROKER …): moto has no call."""
    from moto.kafka.models import kafka_backends

    for account in kafka_backends:
        for backend in kafka_backends[account].values():
            for cluster in backend.clusters.values():
                if cluster.cluster_name == cluster_name:
                    cluster.state = state


def _redshift(catalog: Catalog, account: Any) -> None:
    redshift = account.client("redshift")
    clusters = {c["ClusterIdentifier"] for c in redshift.describe_clusters().get("Clusters", [])}
    if catalog.redshift.cluster_id in clusters:
        return
    redshift.create_cluster(
        ClusterIdentifier=catalog.redshift.cluster_id, NodeType=catalog.redshift.node_type,
        NumberOfNodes=catalog.redshift.number_of_nodes, ClusterType="multi-node"
        if catalog.redshift.number_of_nodes > 1 else "single-node",
        MasterUsername="admin", MasterUserPassword="Sandbox-only-1",
        DBName=catalog.redshift.database, Port=catalog.redshift.port,
        AutomatedSnapshotRetentionPeriod=catalog.redshift.snapshot_retention_days,
    )
