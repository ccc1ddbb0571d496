"""Glue job failures and data quality in the sandbox: Glue's `Glue Job State Change` event (Drill.end_run) or
the landing-freshness alarm → the synthesized routing → the real handler → the emulated account changed (or
deliberately not), audited, notified; and the AWS calls each branch makes, counted by the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from remedy.gameday.drill import Drill
from remedy.gameday.scenarios.data_quality import freshness_alarm
from sandbox.core import Delivery, Sandbox
from sandbox.glue_events import job_state_change_event

pytestmark = pytest.mark.integration

BATCH = "sales-batch"
STREAM = "orders-stream"
FUNCTION = "remedy-dev-glue-job-failure"
THROTTLED = "ERROR Executor: com.amazonaws.services.glue.model.ThrottlingException: Rate exceeded"
# The services the playbooks' diagnoses and actions reach (the safety core's DynamoDB, SSM, SNS and
# CloudWatch calls are the same for every playbook and counted apart).
DOMAIN = ("glue:", "logs:", "iam:", "ec2:", "kafka:", "s3:")


def partition(d: Drill) -> str:
    return (d.now - timedelta(hours=1)).strftime(d.catalog.s3.landing_partition_format)


def handled(sandbox: Sandbox, delivery: Delivery) -> tuple[dict[str, Any], list[str]]:
    """glue_job_failure's result for a delivered Glue event, and the AWS calls it made. Until the lead wires
    the Glue Job State Change route from PLAYBOOKS['glue_job_failure'].glue_job_states, the same event is
    invoked directly (asynchronously, as EventBridge would)."""
    ours = [i for i in delivery.invocations if i.function == FUNCTION]
    invocation = ours[0] if ours else sandbox.invoke_async(sandbox.function(FUNCTION), delivery.event)
    assert invocation.error is None, invocation.error
    return invocation.result, invocation.api_calls


def domain_calls(calls: list[str], playbook: str = "glue_job_failure") -> list[str]:
    """The playbook's own calls, each checked against its declaration: reads, pending reads, actions' IAM."""
    import functions.actions  # noqa: F401 - registers every action
    from functions.core.actions import REGISTRY
    from functions.playbooks import PLAYBOOKS

    declaration = PLAYBOOKS[playbook]
    declared = {*declaration.reads,
                *(a for name in declaration.actions for a in REGISTRY[name].iam_actions)}
    mine = [c for c in calls if c.startswith(DOMAIN)]
    iam = {"s3:ListObjectsV2": "s3:ListBucket"}
    assert {iam.get(c, c) for c in mine} <= declared, f"undeclared: {sorted({iam.get(c, c) for c in mine} - declared)}"
    return mine


def test_a_failed_run_is_routed_to_glue_job_failure_by_the_synthesized_rule(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    run_id = d.start_run(BATCH, {"--partition": partition(d)})
    delivery = d.end_run(BATCH, "FAILED", "ThrottlingException: Rate exceeded", run_id=run_id)
    assert FUNCTION in [i.function for i in delivery.invocations]


def test_a_transient_failure_is_retried_once_in_the_emulated_account(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    hour = partition(d)
    failed = d.start_run(BATCH, {"--partition": hour})
    d.write_error_log(BATCH, failed, ["INFO GlueContext: writing", THROTTLED])
    delivery = d.end_run(BATCH, "FAILED", "An error occurred while calling o102.pyWriteDynamicFrame", run_id=failed)

    result, calls = handled(sandbox, delivery)

    runs = d.runs(BATCH)
    assert [r["JobRunState"] for r in runs] == ["RUNNING", "FAILED"]
    assert runs[0]["Arguments"]["--partition"] == hour
    # A RUNNING retry is not yet a loaded partition: verified by the playbook's scheduled check once it SUCCEEDED.
    assert result["status"] == "ACTED"
    assert result["verification"]["status"] == "INCONCLUSIVE"
    assert [r["kind"] for r in d.audit()] == ["incident", "plan", "decision", "action", "outcome"]
    breaker = sandbox.client("dynamodb").get_item(TableName="remedy-dev-breaker",
                                                  Key={"target": {"S": f"glue:{BATCH}"}})["Item"]
    assert len(breaker["attempts"]["L"]) == 1
    # 4 calls of its own: the runs, the job, one filtered log read, the retry (+1 to verify it).
    assert domain_calls(calls) == ["glue:GetJobRuns", "glue:GetJob", "logs:FilterLogEvents", "glue:StartJobRun",
                                   "glue:GetJobRun"]
    (note,) = d.notifications()
    assert "transient: throttling" in note["message"] and "HOW TO UNDO" in note["message"]

    again, _ = handled(sandbox, d.deliver(delivery.event))

    assert again["status"] == "DUPLICATE"
    assert len(d.runs(BATCH)) == 2
    assert [r["payload"]["reason"] for r in d.audit("duplicate")] == ["this state change was handled before"]

    d.advance(10)
    d.set_run_state(BATCH, runs[0]["Id"], "SUCCEEDED")
    d.tick("glue_job_failure-checks")
    assert [r["payload"]["status"] for r in d.audit("verification")] == ["VERIFIED"]
    assert d.audit("outcome")[-1]["payload"]["status"] == "REMEDIATED"


def test_access_denied_is_not_retried_and_the_missing_action_is_named(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    bucket = "arn:aws:s3:::retail-datalake-dev"
    d.set_job_role_policy(BATCH, [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"{bucket}/landing/orders/*"},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": f"{bucket}/curated/*"},
        {"Effect": "Deny", "Action": ["s3:PutObject"], "Resource": f"{bucket}/curated/sales/*"},
    ])
    failed = d.start_run(BATCH, {"--partition": partition(d)})
    delivery = d.end_run(BATCH, "FAILED", "Access Denied (Service: Amazon S3; Status Code: 403; Error Code: "
                                          "AccessDenied)", run_id=failed)

    result, calls = handled(sandbox, delivery)

    assert [r["JobRunState"] for r in d.runs(BATCH)] == ["FAILED"]
    assert result["status"] == "NO_ACTION"
    findings = [f["detail"] for f in result["plan"]["findings"]]
    assert (f"role {sandbox.catalog.glue_job(BATCH).role_name} may not s3:PutObject on retail-datalake-dev/curated/sales/* "
            "(explicitDeny)") in findings
    assert domain_calls(calls) == ["glue:GetJobRuns", "glue:GetJob", "logs:FilterLogEvents",
                                   "iam:SimulatePrincipalPolicy"]
    (note,) = d.notifications()
    assert "s3:PutObject on arn:aws:s3:::retail-datalake-dev/curated/sales/*" in note["message"]


@pytest.mark.parametrize("port_open", [False, True])
def test_broker_timeouts_check_the_connections_security_groups(sandbox: Sandbox, port_open: bool) -> None:
    d = Drill(sandbox)
    d.msk_connection(STREAM, port_open=port_open)
    running = d.active_runs(STREAM)[0]["Id"]
    delivery = d.end_run(STREAM, "FAILED", "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for "
                                           "a node assignment", run_id=running)

    result, calls = handled(sandbox, delivery)

    assert len(d.active_runs(STREAM)) == (1 if port_open else 0)
    assert result["status"] == ("REMEDIATED" if port_open else "NO_ACTION")
    network = [f for f in result["plan"]["findings"] if f["check"] == "MSK connectivity"]
    assert network[0]["ok"] is port_open
    assert domain_calls(calls)[:6] == ["glue:GetJobRuns", "glue:GetJob", "logs:FilterLogEvents", "glue:GetConnection",
                                       "kafka:ListClustersV2", "ec2:DescribeSecurityGroups"]


def test_events_that_are_not_failures_are_rejected_without_action(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    run_id = d.start_run(BATCH, {"--partition": partition(d)})
    event = job_state_change_event("111111111111", "eu-west-1", BATCH, run_id, "SUCCEEDED")

    result = sandbox.invoke(sandbox.function(FUNCTION), event)

    assert result["status"] == "REJECTED"
    assert result["reason"].endswith("glue_job_failure answers FAILED, TIMEOUT, ERROR only")
    assert sandbox.audit() == []


def test_failed_quality_flags_wait_for_approval_with_the_exact_command(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    hour = partition(d)
    loaded = d.start_run(BATCH, {"--partition": hour})
    d.set_run_state(BATCH, loaded, "SUCCEEDED")
    d.write_quality_flags(BATCH, hour, passed=False, failed_rules=["row_count >= 1000 (got 212)"])

    invocation = freshness_alarm(d, "landing/orders/", 75)

    assert invocation is not None and invocation.error is None
    result = invocation.result
    assert result["status"] == "AWAITING_APPROVAL"
    (decision,) = result["decisions"]
    assert decision["command"] == (f"aws glue start-job-run --job-name {BATCH} --arguments "
                                   f"'{{\"--job-bookmark-option\":\"job-bookmark-disable\",\"--partition\":\"{hour}\"}}'")
    assert [r["Id"] for r in d.runs(BATCH)] == [loaded]
    # + s3:ListObjectsV2 and s3:GetObject, which the sandbox does not count (moto's S3 bypasses call_action).
    assert [c for c in domain_calls(invocation.api_calls, "data_quality") if not c.startswith("s3:")] == [
        "glue:GetJobRuns", "glue:GetJobRuns"]
