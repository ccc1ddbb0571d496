"""The procedures' synthesized state machines executed in the sandbox (moto runs the ASL; their Lambda steps
run the real handlers in-process), through approval, rejection, an unanswered approval and injected step
failures; outcomes checked in the emulated account.

One sandbox for the module, reset once: every test works on its own resources and incident ids, so the
tests stay independent without a reset (two seconds) each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remedy.commands import incident
from remedy.gameday.scenarios.procedures import (
    corrupt_customers,
    corrupt_landing,
    customer_quality,
    kept_fields,
    key_status,
    open_ingress,
    settle,
    start,
    suspicious_user,
)
from sandbox import stepfunctions
from sandbox.aws import inject_error
from sandbox.core import Sandbox
from sandbox.gaps import redshift
from sandbox.people import answering, shown

pytestmark = pytest.mark.integration

ALICE = "alice@example.com"


@pytest.fixture(scope="module")
def sb(sandbox_env: Sandbox) -> Iterator[Sandbox]:
    sandbox_env.reset()
    yield sandbox_env


def approve(sb: Sandbox, incident_id: str, reason: str = "ok") -> dict[str, Any]:
    return incident.approve(sb.client, sb.catalog, incident_id, **answering(sb, ALICE), reason=reason)


def told(sb: Sandbox, incident_id: str) -> dict[str, Any]:
    """The procedure's outcome record (what on call was told)."""
    [record] = [r for r in sb.audit(incident_id) if r["kind"] == "procedure_outcome"]
    return dict(record["payload"])


def test_the_deployed_state_machines_are_the_synthesized_standard_ones(sb: Sandbox) -> None:
    sfn = sb.client("stepfunctions")
    machines = {m["name"]: m for m in sfn.list_state_machines()["stateMachines"]}
    template = sb.templates[f"{sb.catalog.prefix}-procedures"]
    names = {r["Properties"]["StateMachineName"] for r in template["Resources"].values()
             if r["Type"] == "AWS::StepFunctions::StateMachine"}
    assert names <= set(machines) and len(names) == 6
    for name in names:
        described = sfn.describe_state_machine(stateMachineArn=machines[name]["stateMachineArn"])
        definition = json.loads(described["definition"])
        assert described["type"] == "STANDARD" and "Approval" in definition["States"], name


def test_scale_glue_approved_carries_the_whole_definition_and_records_who(sb: Sandbox) -> None:
    glue = sb.client("glue")
    before = glue.get_job(JobName="customer-scd-batch")["Job"]
    start(sb, "scale-glue", "IT-GLUE-1", job="customer-scd-batch", workers=6, worker_type="G.2X")
    assert settle(sb, "scale-glue", "IT-GLUE-1")["waiting"]
    assert glue.get_job(JobName="customer-scd-batch")["Job"] == before  # nothing before the answer
    approve(sb, "IT-GLUE-1", "month end")
    assert settle(sb, "scale-glue", "IT-GLUE-1", until_end=True)["status"] == "SUCCEEDED"
    after = glue.get_job(JobName="customer-scd-batch")["Job"]
    assert (after["NumberOfWorkers"], after["WorkerType"]) == (6, "G.2X")
    assert kept_fields(before, after) == []
    kinds = sorted(r["kind"] for r in sb.audit("IT-GLUE-1"))
    assert kinds == ["answer", "approval", "approval_requested", "procedure_outcome", "rollback_point"]
    [answer] = [r["payload"] for r in sb.audit("IT-GLUE-1") if r["kind"] == "approval"]
    assert (answer["by"], answer["decision"], answer["reason"]) == (shown(sb, ALICE), "APPROVED", "month end")
    status = incident.status(sb.client, sb.catalog, "IT-GLUE-1")
    [run] = status["runs"]
    assert [s["state"] for s in run["steps"]] == ["Plan", "NeedsChange", "Approval", "Approved", "Go",
                                                  "GateUpdateJob", "GateUpdateJob verdict", "GateUpdateJob go",
                                                  "RecordRollbackPoint", "UpdateJob", "ReadJob", "Changed", "Report",
                                                  "Done"]  # the gate: kill switch and freezes (docs/safety.md)
    assert status["approvals"][0]["status"] == "APPROVED" and status["approvals"][0]["answered_by"] == shown(sb, ALICE)


def test_a_duplicate_start_is_refused_not_run_twice(sb: Sandbox) -> None:
    start(sb, "scale-glue", "IT-GLUE-DUP", job="customers-stream", workers=2)  # already at 2: ends at once
    settle(sb, "scale-glue", "IT-GLUE-DUP", until_end=True)
    with pytest.raises(incident.IncidentError, match=r"was started before \(SUCCEEDED since .*\): not started again"):
        start(sb, "scale-glue", "IT-GLUE-DUP", job="customers-stream", workers=4)
    runs = sb.client("stepfunctions").list_executions(
        stateMachineArn=incident.state_machine_arn(sb.catalog, "scale-glue"))["executions"]
    assert [r["name"] for r in runs].count("scale-glue--IT-GLUE-DUP") == 1


def test_a_rejected_approval_changes_nothing_and_says_who_rejected(sb: Sandbox) -> None:
    glue = sb.client("glue")
    before = glue.get_job(JobName="orders-stream")["Job"]
    start(sb, "scale-glue", "IT-GLUE-2", job="orders-stream", workers=10)
    settle(sb, "scale-glue", "IT-GLUE-2")
    incident.reject(sb.client, sb.catalog, "IT-GLUE-2", **answering(sb, ALICE), reason="lag is draining")
    ended = settle(sb, "scale-glue", "IT-GLUE-2", until_end=True)
    assert (ended["status"], ended["error"]) == ("FAILED", "Remedy.Rejected")
    assert ended["cause"] == f"rejected by {shown(sb, ALICE)}: lag is draining"
    assert glue.get_job(JobName="orders-stream")["Job"] == before
    outcome = told(sb, "IT-GLUE-2")
    assert outcome["status"] == "REJECTED" and outcome["done"] == []


def test_an_unanswered_approval_times_out_into_the_failure_path(sb: Sandbox) -> None:
    start(sb, "scale-redshift", "IT-RS-1", nodes=3, approval_timeout_seconds=1)
    ended = settle(sb, "scale-redshift", "IT-RS-1", until_end=True)
    assert (ended["status"], ended["error"]) == ("FAILED", "Remedy.ApprovalTimedOut")
    assert sb.client("redshift").describe_clusters()["Clusters"][0]["NumberOfNodes"] == \
        sb.catalog.redshift.number_of_nodes
    with pytest.raises(incident.IncidentError, match="is TIMED_OUT: nothing more was done"):
        approve(sb, "IT-RS-1")
    [item] = incident.status(sb.client, sb.catalog, "IT-RS-1")["approvals"]
    assert item["status"] == "TIMED_OUT"


def test_scale_msk_and_redshift_approved(sb: Sandbox) -> None:
    start(sb, "scale-msk", "IT-MSK-1", brokers=6)
    settle(sb, "scale-msk", "IT-MSK-1")
    approve(sb, "IT-MSK-1")
    start(sb, "scale-redshift", "IT-RS-2", nodes=4)
    assert settle(sb, "scale-msk", "IT-MSK-1", until_end=True)["status"] == "SUCCEEDED"
    settle(sb, "scale-redshift", "IT-RS-2")
    approve(sb, "IT-RS-2")
    assert settle(sb, "scale-redshift", "IT-RS-2", until_end=True)["status"] == "SUCCEEDED"
    kafka = sb.client("kafka")
    arn = kafka.list_clusters_v2()["ClusterInfoList"][0]["ClusterArn"]
    assert kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["Provisioned"]["NumberOfBrokerNodes"] == 6
    assert sb.client("redshift").describe_clusters()["Clusters"][0]["NumberOfNodes"] == 4


def test_security_incident_contains_at_once_then_revokes_after_approval(sb: Sandbox) -> None:
    now = datetime.now(UTC)
    suspect = suspicious_user(sb, now)
    sm = sb.client("secretsmanager")
    version = sm.get_secret_value(SecretId=sb.catalog.redshift.admin_secret)["VersionId"]
    start(sb, "security-incident", "IT-SEC-1", principal=f"user/{suspect['user']}",
          start=(now - timedelta(hours=2)).isoformat(), end=now.isoformat())
    assert settle(sb, "security-incident", "IT-SEC-1")["waiting"]
    assert key_status(sb, suspect["user"]) == "Inactive"  # at once, before any approval
    assert sm.get_secret_value(SecretId=sb.catalog.redshift.admin_secret)["VersionId"] != version
    assert open_ingress(sb, suspect["group"]) == ["0.0.0.0/0"]  # waits for the answer
    approve(sb, "IT-SEC-1", "contain")
    assert settle(sb, "security-incident", "IT-SEC-1", until_end=True)["status"] == "SUCCEEDED"
    assert open_ingress(sb, suspect["group"]) == []
    permissions = sb.client("ec2").describe_security_groups(GroupIds=[suspect["group"]])["SecurityGroups"][0]
    assert [r["CidrIp"] for p in permissions["IpPermissions"] for r in p["IpRanges"]] == ["10.0.0.0/16"]
    deny = sb.client("iam").get_user_policy(UserName=suspect["user"], PolicyName="remedy-revoke-older-sessions")
    statement = deny["PolicyDocument"]["Statement"][0]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    assert "aws:TokenIssueTime" in statement["Condition"]["DateLessThan"]
    outcome = told(sb, "IT-SEC-1")
    findings = "\n".join(outcome["findings"])
    assert "5 events in the window, 3 changes, 1 refused" in findings
    assert "quick-fix (user etl-contractor (inline)): Action '*': administrator access" in findings


def test_a_failing_rotation_does_not_stop_containment_and_is_left_to_do(sb: Sandbox) -> None:
    iam = sb.client("iam")
    iam.create_user(UserName="ci-bot")
    key = iam.create_access_key(UserName="ci-bot")["AccessKey"]["AccessKeyId"]
    now = datetime.now(UTC)
    with inject_error("secretsmanager", "RotateSecret", "AccessDeniedException", "not authorized: RotateSecret"):
        start(sb, "security-incident", "IT-SEC-2", principal=key, start=(now - timedelta(hours=1)).isoformat(),
              end=now.isoformat())
        assert settle(sb, "security-incident", "IT-SEC-2")["waiting"]
    assert key_status(sb, "ci-bot") == "Inactive"  # contained although the rotation failed
    approve(sb, "IT-SEC-2", "contain")
    assert settle(sb, "security-incident", "IT-SEC-2", until_end=True)["status"] == "SUCCEEDED"
    outcome = told(sb, "IT-SEC-2")
    [left] = [line for line in outcome["left"] if "rotate the Redshift admin secret by hand" in line]
    assert "SecretsManager.AccessDeniedException" in left
    assert f"aws secretsmanager rotate-secret --secret-id {sb.catalog.redshift.admin_secret}" in left
    assert not any(line.startswith("rotated the Redshift admin secret") for line in outcome["done"])
    failures = [i for i in stepfunctions.INVOCATIONS if not i.ok]
    assert failures == []  # the failure was AWS's answer to a direct integration, not a step function's error


def test_data_corruption_restores_swaps_reprocesses_verifies_and_resumes(sb: Sandbox) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    corrupt_customers(sb, now)
    prefix = "landing/customers/it/"
    good = corrupt_landing(sb, now, prefix)
    assert customer_quality(sb)["null_emails"] == 30
    start(sb, "data-corruption", "IT-DC-1", tables=["analytics.dim_customer"], prefixes=[prefix],
          start=(now - timedelta(hours=1)).isoformat(), end=(now + timedelta(minutes=1)).isoformat())
    assert settle(sb, "data-corruption", "IT-DC-1")["waiting"]
    glue = sb.client("glue")
    assert glue.get_trigger(Name="customer-scd-batch-hourly")["Trigger"]["State"] == "DEACTIVATED"
    approve(sb, "IT-DC-1")
    run_id = _reprocessing_run(sb, "customer-scd-batch", "IT-DC-1")
    ended = settle(sb, "data-corruption", "IT-DC-1", until_end=True)
    assert ended["status"] == "SUCCEEDED", ended
    assert customer_quality(sb) == {"rows": 200, "null_emails": 0, "duplicates": 0}
    tables = {r[0] for r in redshift.standin().execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics'")}
    assert "dim_customer_corrupt_it_dc_1" in tables and "dim_customer_restored_it_dc_1" not in tables
    s3 = sb.client("s3")
    assert s3.head_object(Bucket=sb.catalog.s3.name, Key=f"{prefix}part-0001.json")["ETag"].strip('"') == \
        good[f"{prefix}part-0001.json"]
    assert "DeleteMarkers" in s3.list_object_versions(Bucket=sb.catalog.s3.name, Prefix=f"{prefix}part-0002.json")
    assert glue.get_trigger(Name="customer-scd-batch-hourly")["Trigger"]["State"] == "ACTIVATED"
    [run] = [r for r in glue.get_job_runs(JobName="customer-scd-batch")["JobRuns"] if r["Id"] == run_id]
    assert run["Arguments"]["--remedy_incident"] == "IT-DC-1"
    [point] = [r["payload"] for r in sb.audit("IT-DC-1") if r["kind"] == "rollback_point"]
    assert point["tables"]["analytics.dim_customer"]["kept_as"] == "dim_customer_corrupt_it_dc_1"


def _reprocessing_run(sb: Sandbox, job: str, incident_id: str) -> str:
    import time

    for _ in range(200):
        runs = [r for r in sb.client("glue").get_job_runs(JobName=job)["JobRuns"]
                if r.get("Arguments", {}).get("--remedy_incident") == incident_id]
        if runs:
            for run in sb.account.glue_backend().get_job(job).job_runs:
                if run.job_run_id == runs[0]["Id"]:
                    run.status = "SUCCEEDED"  # Glue finishes the run
            return str(runs[0]["Id"])
        time.sleep(0.05)
    raise AssertionError("no re-processing run started")


def test_service_outage_rolls_back_our_recorded_change_and_escalates(sb: Sandbox) -> None:
    glue = sb.client("glue")
    original = glue.get_job(JobName="sales-batch")["Job"]
    start(sb, "scale-glue", "IT-OUT-0", job="sales-batch", workers=12)
    settle(sb, "scale-glue", "IT-OUT-0")
    approve(sb, "IT-OUT-0")
    settle(sb, "scale-glue", "IT-OUT-0", until_end=True)
    start(sb, "service-outage", "IT-OUT-1", reason="dashboards red")
    assert settle(sb, "service-outage", "IT-OUT-1")["waiting"]
    [question] = [r["payload"] for r in sb.audit("IT-OUT-1") if r["kind"] == "approval_requested"]
    assert any("roll back Glue job sales-batch" in line for line in question["about_to"])
    approve(sb, "IT-OUT-1")
    assert settle(sb, "service-outage", "IT-OUT-1", until_end=True)["status"] == "SUCCEEDED"
    after = glue.get_job(JobName="sales-batch")["Job"]
    assert after["NumberOfWorkers"] == original["NumberOfWorkers"] and kept_fields(original, after) == []
    outcome = told(sb, "IT-OUT-1")
    assert any(line.startswith("AWS Health: unavailable") for line in outcome["findings"])
    assert "AWS Support case not opened: unavailable" in " ".join(outcome["done"])
    assert "paged on call through the on-call topic" in outcome["done"]


def test_the_cli_starts_refuses_a_duplicate_and_approves_against_the_emulated_account(sb: Sandbox) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, **sb.account.environ(), **answering(sb, "carol")["credentials"]}  # carol's own keys

    def remedy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "remedy.cli", "incident", *args], capture_output=True,
                              text=True, timeout=120, check=False, env=env)

    started = remedy("start", "scale-glue", "--job", "customers-stream", "--workers", "4", "--incident", "IT-CLI-1")
    assert started.returncode == 0, started.stderr
    assert "started scale-glue IT-CLI-1" in started.stdout
    again = remedy("start", "scale-glue", "--job", "customers-stream", "--workers", "4", "--incident", "IT-CLI-1")
    assert again.returncode == 2
    [line] = again.stderr.strip().splitlines()
    assert line.startswith("remedy: scale-glue IT-CLI-1 was started before (RUNNING since ")
    assert line.endswith("not started again (see remedy incident status IT-CLI-1; a new incident needs --incident ID)")
    settle(sb, "scale-glue", "IT-CLI-1")
    waiting = remedy("status", "IT-CLI-1")
    assert waiting.returncode == 0 and "approval scale-glue: PENDING" in waiting.stdout, waiting.stdout
    answered = remedy("approve", "IT-CLI-1", "--reason", "lag", "--by", ALICE)
    assert answered.returncode == 0, answered.stderr
    assert settle(sb, "scale-glue", "IT-CLI-1", until_end=True)["status"] == "SUCCEEDED"
    assert sb.client("glue").get_job(JobName="customers-stream")["Job"]["NumberOfWorkers"] == 4
