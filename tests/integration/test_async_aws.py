"""Asynchronous AWS in the sandbox: what AWS finishes later, the sandbox finishes later too, on its own clock
(sandbox.clock), never after a number of calls. Checked against the AWS documentation and botocore's models
(JobRunState, ConcurrentRunsExceededException, TableRestoreStatus.Status, ClusterStatus, MSK cluster State)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import clock
from sandbox.core import Sandbox

JOB = "orders-stream"


def _state(glue: Any, run_id: str) -> str:
    return str(glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]["JobRunState"])


def _running(sandbox: Sandbox) -> str:
    glue = sandbox.client("glue")
    active = [r["Id"] for r in glue.get_job_runs(JobName=JOB)["JobRuns"] if r["JobRunState"] == "RUNNING"]
    return active[0] if active else str(glue.start_job_run(JobName=JOB)["JobRunId"])


def test_a_stopped_glue_run_is_stopping_until_the_clock_passes_the_stop(sandbox: Sandbox) -> None:
    glue = sandbox.client("glue")
    run_id = _running(sandbox)
    answer = glue.batch_stop_job_run(JobName=JOB, JobRunIds=[run_id])
    assert answer["SuccessfulSubmissions"] == [{"JobName": JOB, "JobRunId": run_id}]
    # Read many times: calls do not move it on, time does.
    assert {_state(glue, run_id) for _ in range(5)} == {"STOPPING"}
    assert "CompletedOn" not in glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]
    clock.advance(clock.DURATIONS["glue.stop"] - 5)
    assert _state(glue, run_id) == "STOPPING"
    clock.advance(5)
    run = glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "STOPPED" and "CompletedOn" in run


def test_a_stopping_run_counts_against_max_concurrent_runs(sandbox: Sandbox) -> None:
    glue = sandbox.client("glue")
    run_id = _running(sandbox)
    glue.batch_stop_job_run(JobName=JOB, JobRunIds=[run_id])
    with pytest.raises(ClientError) as refused:
        glue.start_job_run(JobName=JOB, NumberOfWorkers=4, WorkerType="G.1X")
    assert refused.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    assert refused.value.response["Error"]["Message"] == f"Concurrent runs exceeded for {JOB}"
    clock.advance(clock.DURATIONS["glue.stop"])
    new = glue.start_job_run(JobName=JOB, NumberOfWorkers=4, WorkerType="G.1X")["JobRunId"]
    assert _state(glue, new) == "RUNNING"


def test_a_second_stop_of_a_stopping_run_is_an_error_entry(sandbox: Sandbox) -> None:
    glue = sandbox.client("glue")
    run_id = _running(sandbox)
    glue.batch_stop_job_run(JobName=JOB, JobRunIds=[run_id])
    again = glue.batch_stop_job_run(JobName=JOB, JobRunIds=[run_id])
    assert again["SuccessfulSubmissions"] == [] and again["Errors"][0]["JobRunId"] == run_id


def _msk(sandbox: Sandbox) -> tuple[Any, str]:
    kafka = sandbox.client("kafka")
    return kafka, kafka.list_clusters_v2()["ClusterInfoList"][0]["ClusterArn"]


def test_an_msk_broker_update_is_updating_until_the_clock_passes_it(sandbox: Sandbox) -> None:
    kafka, arn = _msk(sandbox)
    info = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    before = info["Provisioned"]["NumberOfBrokerNodes"]
    kafka.update_broker_count(ClusterArn=arn, CurrentVersion=info["CurrentVersion"],
                              TargetNumberOfBrokerNodes=before * 2)
    for _ in range(3):
        now = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
        assert (now["State"], now["Provisioned"]["NumberOfBrokerNodes"]) == ("UPDATING", before)
    with pytest.raises(ClientError) as busy:  # one operation at a time
        kafka.update_broker_count(ClusterArn=arn, CurrentVersion=now["CurrentVersion"],
                                  TargetNumberOfBrokerNodes=before * 3)
    assert busy.value.response["Error"]["Code"] == "BadRequestException"
    clock.advance(clock.DURATIONS["kafka.update_broker_count"])
    listed = kafka.list_clusters_v2()["ClusterInfoList"][0]
    assert (listed["State"], listed["Provisioned"]["NumberOfBrokerNodes"]) == ("ACTIVE", before * 2)


def test_a_redshift_resize_is_resizing_until_the_clock_passes_it(sandbox: Sandbox) -> None:
    redshift = sandbox.client("redshift")
    cluster_id = sandbox.catalog.redshift.cluster_id
    nodes = redshift.describe_clusters(ClusterIdentifier=cluster_id)["Clusters"][0]["NumberOfNodes"]
    redshift.resize_cluster(ClusterIdentifier=cluster_id, NumberOfNodes=nodes + 2, Classic=False)
    for _ in range(3):
        cluster = redshift.describe_clusters(ClusterIdentifier=cluster_id)["Clusters"][0]
        assert (cluster["ClusterStatus"], cluster["NumberOfNodes"]) == ("resizing", nodes)
    with pytest.raises(ClientError) as busy:
        redshift.resize_cluster(ClusterIdentifier=cluster_id, NumberOfNodes=nodes + 4, Classic=False)
    assert busy.value.response["Error"]["Code"] == "InvalidClusterState"
    clock.advance(clock.DURATIONS["redshift.resize"])
    cluster = redshift.describe_clusters(ClusterIdentifier=cluster_id)["Clusters"][0]
    assert (cluster["ClusterStatus"], cluster["NumberOfNodes"]) == ("available", nodes + 2)


def test_a_table_restore_is_pending_then_in_progress_then_succeeded(sandbox: Sandbox) -> None:
    from sandbox.gaps import redshift as redshift_fill

    redshift = sandbox.client("redshift")
    rs = sandbox.catalog.redshift
    table = rs.tables[0]
    snapshot = redshift.describe_cluster_snapshots(ClusterIdentifier=rs.cluster_id)["Snapshots"][0]
    request = redshift.restore_table_from_cluster_snapshot(
        ClusterIdentifier=rs.cluster_id, SnapshotIdentifier=snapshot["SnapshotIdentifier"],
        SourceDatabaseName=rs.database, SourceSchemaName=table.schema_name, SourceTableName=table.name,
        TargetSchemaName=table.schema_name, NewTableName=f"{table.name}_restored_async")["TableRestoreStatus"]
    request_id = request["TableRestoreRequestId"]

    def status() -> str:
        return str(redshift.describe_table_restore_status(ClusterIdentifier=rs.cluster_id,
                                                          TableRestoreRequestId=request_id)
                   ["TableRestoreStatusDetails"][0]["Status"])

    def restored_table_exists() -> bool:
        return bool(redshift_fill.standin().execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (table.schema_name, f"{table.name}_restored_async")))

    assert request["Status"] == "PENDING" and status() == "PENDING"
    clock.advance(clock.DURATIONS["redshift.restore_table.pending"])
    assert status() == "IN_PROGRESS" and not restored_table_exists()
    clock.advance(clock.DURATIONS["redshift.restore_table"])
    assert status() == "SUCCEEDED" and restored_table_exists()


def test_the_clock_only_goes_forward() -> None:
    before = clock.now()
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.advance_to(before) >= before
