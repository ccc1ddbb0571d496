"""run() with the glue_job_failure playbook over in-memory fakes: outcomes in the fakes' state, the audit
trail and the notification, never call counts of mocks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.core.catalog import Catalog, parse_catalog
from functions.core.events import parse_glue_event
from functions.core.models import Incident, OutcomeStatus, Verdict, VerificationStatus
from functions.core.playbook import Context, run
from functions.core.ports import GlueConnection, SecurityGroup, SgRule
from functions.playbooks.glue_job_failure import LOG_LINES, GlueJobFailure, classify
from sandbox.glue_events import job_state_change_event
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeKillSwitch, FakeNotifier, FixedClock
from tests.unit.glue_fakes import BOOKMARK_OFF, FakeGlueRuns, GluePorts, role_arn

PLAYBOOK = GlueJobFailure()
JOB = "sales-batch"
PARTITION = "2026/11/25/09"
BUCKET = "arn:aws:s3:::retail-datalake-dev"
ERROR_LOG = "/aws-glue/jobs/error"
THROTTLED = "ERROR GlueContext: com.amazonaws.services.glue.model.ThrottlingException: Rate exceeded"
ACCESS_DENIED = ("An error occurred while calling o113.pyWriteDynamicFrame. Access Denied (Service: Amazon S3; "
                 "Status Code: 403; Error Code: AccessDenied; Request ID: X1)")
OOM = "java.lang.OutOfMemoryError: Java heap space"


@pytest.fixture
def gports() -> GluePorts:
    glue = FakeGlueRuns()
    for name in ("orders-stream", "customers-stream", "sales-batch", "customer-scd-batch"):
        glue.define(name)
    return GluePorts(glue=glue)


@pytest.fixture
def ctx(catalog: Catalog, gports: GluePorts, kill_switch: FakeKillSwitch, breaker: FakeBreaker, audit: FakeAudit,
        notifier: FakeNotifier, clock: FixedClock) -> Context:
    return Context(catalog=catalog, ports=gports, kill_switch=kill_switch, breaker=breaker, audit=audit,
                   notifier=notifier, clock=clock)


def glue_incident(catalog: Catalog, job: str, run_id: str, state: str = "FAILED", message: str = "") -> Incident:
    """The incident of the Glue Job State Change event Glue emits for the run."""
    event = job_state_change_event("111111111111", "eu-west-1", job, run_id, state, message, NOW)
    return parse_glue_event(event, catalog, "glue_job_failure")


def alarm_incident(job: str = JOB) -> Incident:
    alarm = f"remedy-dev/glue-failures/glue:{job}"
    return Incident(id=f"{alarm}@2026-11-25T10:05:00.000+0000", alarm_name=alarm, state="ALARM",
                    previous_state="OK", reason="Threshold Crossed", changed_at=NOW, account="111111111111",
                    region="eu-west-1", playbook="glue_job_failure", resource=f"glue:{job}")


def failed_batch(gports: GluePorts, error: str, lines: tuple[str, ...] = (), job: str = JOB,
                 arguments: dict[str, str] | None = None, worker_type: str = "G.1X") -> str:
    run_id = gports.glue.add_run(job, "FAILED", error=error, worker_type=worker_type,
                                 arguments={"--partition": PARTITION} if arguments is None else arguments)
    if lines:
        gports.logs.write(ERROR_LOG, run_id, list(lines))
    return run_id


def message_of(notifier: FakeNotifier) -> str:
    assert len(notifier.published) == 1
    return notifier.published[0][1]


def bent(raw: dict[str, Any], **changes: Any) -> Catalog:
    """The dev catalog with the sales-batch job changed."""
    raw["glue_jobs"][2].update(changes)
    return parse_catalog(raw, "bent")


# --- transient: retried once ---------------------------------------------------------------------------

def test_a_throttled_batch_run_is_retried_once_with_the_same_partition(ctx: Context, gports: GluePorts,
                                                                       audit: FakeAudit, notifier: FakeNotifier,
                                                                       breaker: FakeBreaker) -> None:
    failed = failed_batch(gports, "An error occurred while calling o102.pyWriteDynamicFrame",
                          lines=("INFO starting", THROTTLED))
    incident = glue_incident(ctx.catalog, JOB, failed)

    outcome = run(PLAYBOOK, incident, ctx)

    (new,) = gports.glue.started(JOB)
    assert new.arguments == {"--partition": PARTITION}  # the job's defaults (bookmark) are not repeated
    assert (new.workers, new.worker_type, new.state) == (2, "G.1X", "RUNNING")
    # A batch run RUNNING proves nothing yet: verified when it has SUCCEEDED, within the verification window.
    assert outcome.status is OutcomeStatus.ACTED
    assert outcome.verification.status is VerificationStatus.INCONCLUSIVE
    assert outcome.verification.detail == f"run {new.id} of {JOB} is RUNNING: verified when it has SUCCEEDED"
    assert [d.verdict for d in outcome.decisions] == [Verdict.ALLOWED]
    assert outcome.results[0].changed["retry_of"] == failed
    assert audit.kinds(incident.id) == ["incident", "plan", "decision", "action", "outcome"]
    assert breaker.items[f"glue:{JOB}"].attempts == [NOW]
    # The log read stays small: one filtered read of the run's stream.
    assert gports.logs.reads == [{"group": ERROR_LOG, "stream_prefix": failed, "limit": LOG_LINES}]
    message = message_of(notifier)
    assert "transient: throttling (ERROR GlueContext: com.amazonaws.services.glue.model.ThrottlingException" \
        in message
    assert "overwrites partition 2026/11/25/09 of analytics.fact_sales" in message
    assert f"SUCCEEDED glue.restart_job: started run {new.id} as a retry of {failed}" in message
    assert f"aws glue batch-stop-job-run --job-name {JOB} --job-run-ids {new.id}" in message


def test_the_same_failure_delivered_again_restarts_nothing(ctx: Context, gports: GluePorts,
                                                           notifier: FakeNotifier) -> None:
    failed = failed_batch(gports, "Status Code: 503; Error Code: SlowDown")
    incident = glue_incident(ctx.catalog, JOB, failed)
    run(PLAYBOOK, incident, ctx)

    again = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert len(gports.glue.started(JOB)) == 1
    assert again.status is OutcomeStatus.NO_ACTION and again.decisions == []
    assert "the job was retried already" in again.summary


def test_the_alarm_examines_the_newest_run(ctx: Context, gports: GluePorts) -> None:
    failed_batch(gports, "Connection reset by peer; Lost executor 3 on 172.31.0.9")
    gports.glue.start_state = "SUCCEEDED"

    outcome = run(PLAYBOOK, alarm_incident(), ctx)

    (new,) = gports.glue.started(JOB)
    assert new.arguments == {"--partition": PARTITION}
    assert outcome.status is OutcomeStatus.REMEDIATED


def test_the_alarm_does_nothing_when_the_newest_run_is_running(ctx: Context, gports: GluePorts) -> None:
    failed_batch(gports, THROTTLED)
    running = gports.glue.add_run(JOB, "RUNNING", arguments={"--partition": PARTITION})

    outcome = run(PLAYBOOK, alarm_incident(), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.NO_ACTION
    assert f"the newest run {running} is RUNNING" in outcome.summary


def test_glue_retrying_the_run_itself_is_left_to_glue(ctx: Context, gports: GluePorts) -> None:
    gports.glue.define(JOB, max_retries=1)
    failed = failed_batch(gports, THROTTLED)

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert "Glue retries this run itself (MaxRetries 1, this was attempt 0)" in outcome.summary


def test_a_retry_that_fails_at_once_escalates(ctx: Context, gports: GluePorts, notifier: FakeNotifier) -> None:
    gports.glue.start_state = "FAILED"
    failed = failed_batch(gports, THROTTLED)

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert outcome.status is OutcomeStatus.ESCALATED
    assert outcome.verification.status is VerificationStatus.FAILED
    assert "is FAILED again" in message_of(notifier)


def test_an_unreadable_log_still_classifies_from_the_error_message(ctx: Context, gports: GluePorts) -> None:
    gports.logs.error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not granted"}},
                                    "FilterLogEvents")
    failed = failed_batch(gports, "ThrottlingException: Rate exceeded")

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert len(gports.glue.started(JOB)) == 1
    assert any(f.detail == f"could not read {ERROR_LOG}: AccessDeniedException: An error occurred "
                           f"(AccessDeniedException) when calling the FilterLogEvents operation: not granted"
               for f in outcome.plan.findings)


def test_approve_mode_waits_with_the_exact_command(raw_catalog: dict[str, Any], ctx: Context, gports: GluePorts,
                                                   notifier: FakeNotifier) -> None:
    raw_catalog["guardrails"]["playbooks"]["glue_job_failure"]["mode"] = "approve"
    ctx.catalog = parse_catalog(raw_catalog)
    failed = failed_batch(gports, THROTTLED)

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    assert outcome.decisions[0].command == (
        "aws glue start-job-run --job-name sales-batch --number-of-workers 2 "
        "--arguments '{\"--partition\":\"2026/11/25/09\"}'")
    assert "WAITING FOR YOU" in message_of(notifier)


# --- out of memory: the next worker type, when the catalog allows it -----------------------------------

def test_out_of_memory_is_retried_on_the_next_worker_type(ctx: Context, gports: GluePorts,
                                                          notifier: FakeNotifier) -> None:
    failed = failed_batch(gports, "Command failed with exit code 1", lines=(f"ERROR Executor: {OOM}",))
    gports.glue.start_state = "SUCCEEDED"

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    (new,) = gports.glue.started(JOB)
    assert (new.worker_type, new.workers, new.arguments) == ("G.2X", 2, {"--partition": PARTITION})
    assert outcome.status is OutcomeStatus.REMEDIATED
    assert f"started run {new.id} on G.2X as a retry of {failed}" in message_of(notifier)


def test_out_of_memory_at_the_largest_allowed_type_is_not_retried(ctx: Context, gports: GluePorts) -> None:
    failed = failed_batch(gports, OOM, worker_type="G.2X")  # max_worker_type G.2X in the dev catalog

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.NO_ACTION
    assert "ran out of memory on G.2X and the catalog allows no bigger worker type" in outcome.summary


def test_out_of_memory_without_permission_to_upgrade_is_not_retried(ctx: Context, gports: GluePorts) -> None:
    failed = failed_batch(gports, OOM, job="customer-scd-batch")

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, "customer-scd-batch", failed), ctx)

    assert gports.glue.started("customer-scd-batch") == []
    assert "allows no bigger worker type" in outcome.summary


# --- permanent: not retried, the cause named ------------------------------------------------------------

def test_access_denied_is_not_retried_and_the_missing_action_is_named(ctx: Context, gports: GluePorts,
                                                                      notifier: FakeNotifier) -> None:
    role = role_arn(JOB)
    for action, resource in (("s3:ListBucket", BUCKET), ("s3:GetObject", f"{BUCKET}/landing/orders/*"),
                             ("s3:DeleteObject", f"{BUCKET}/curated/sales/*")):
        gports.iam.allow(role, action, resource)
    failed = failed_batch(gports, ACCESS_DENIED)

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.NO_ACTION and outcome.decisions == []
    permissions = [f.detail for f in outcome.plan.findings if f.check == "S3 permissions"]
    assert permissions == ["role remedy-dev-glue-sales-batch may not s3:PutObject on "
                           "retail-datalake-dev/curated/sales/* (implicitDeny)"]
    assert outcome.plan.recommendations == [
        "grant role remedy-dev-glue-sales-batch s3:PutObject on arn:aws:s3:::retail-datalake-dev/curated/sales/*, "
        "then re-run: aws glue start-job-run --job-name sales-batch --arguments "
        "'{\"--partition\":\"2026/11/25/09\"}'; not retried (AccessDenied is not transient)."]
    # One simulation: every action the job needs on the bucket and its prefixes.
    assert gports.iam.calls == [(role, ["s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"],
                                 [BUCKET, f"{BUCKET}/curated/sales/*", f"{BUCKET}/landing/orders/*"])]
    assert "BAD role remedy-dev-glue-sales-batch may not s3:PutObject on retail-datalake-dev/curated/sales/*" \
        in message_of(notifier)


def test_access_denied_with_an_allowing_role_points_elsewhere(ctx: Context, gports: GluePorts) -> None:
    role = role_arn(JOB)
    for action, resource in (("s3:ListBucket", BUCKET), ("s3:GetObject", f"{BUCKET}/landing/orders/*"),
                             ("s3:PutObject", f"{BUCKET}/curated/sales/*"),
                             ("s3:DeleteObject", f"{BUCKET}/curated/sales/*")):
        gports.iam.allow(role, action, resource)
    failed = failed_batch(gports, ACCESS_DENIED)

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert "check the bucket policy, KMS key policy, SCPs and Lake Formation" in outcome.summary


def test_access_denied_wins_over_a_transient_line_in_the_same_log(ctx: Context, gports: GluePorts) -> None:
    failed = failed_batch(gports, "Command failed", lines=(THROTTLED, "ERROR " + ACCESS_DENIED))

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert any(f.check == "cause" and f.detail.startswith("not transient: access denied")
               for f in outcome.plan.findings)


def test_a_script_error_is_not_retried(ctx: Context, gports: GluePorts) -> None:
    failed = failed_batch(gports, "NameError: name 'ordr_total' is not defined")

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.plan.recommendations == [
        "sales-batch failed (script error), not a transient cause: not retried, a retry would fail the same way. "
        "Fix the job (script s3://retail-datalake-dev/scripts/sales-batch.py) or its input, then re-run: aws glue "
        "start-job-run --job-name sales-batch --arguments '{\"--partition\":\"2026/11/25/09\"}'"]


def test_an_unrecognised_error_is_not_retried_blindly(ctx: Context, gports: GluePorts) -> None:
    failed = failed_batch(gports, "Something odd happened")

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert "unrecognised error" in outcome.summary


# --- the safe re-run rule: refused by the guard, audited ------------------------------------------------

def test_an_append_retry_without_bookmark_is_refused_and_the_audit_says_why(
        raw_catalog: dict[str, Any], ctx: Context, gports: GluePorts, audit: FakeAudit,
        notifier: FakeNotifier) -> None:
    ctx.catalog = bent(raw_catalog, write_mode="append")
    gports.glue.define(JOB, default_arguments=BOOKMARK_OFF)
    failed = failed_batch(gports, "Status Code: 503; Error Code: SlowDown; Please reduce your request rate")
    incident = glue_incident(ctx.catalog, JOB, failed)

    outcome = run(PLAYBOOK, incident, ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.REFUSED
    reason = ("sales-batch appends to analytics.fact_sales without a job bookmark: a re-run would load partition "
              "2026/11/25/09 into analytics.fact_sales a second time")
    (decision,) = audit.of_kind("decision", incident.id)
    assert (decision["verdict"], decision["rule"]) == ("REFUSED", "parameters")
    assert decision["reason"] == f"invalid parameters: unsafe re-run: {reason}"
    assert audit.kinds(incident.id) == ["incident", "plan", "decision", "outcome"]
    message = message_of(notifier)
    assert f"BAD {reason}" in message
    assert f"NOT DONE\n  glue.restart_job: REFUSED by parameters: invalid parameters: unsafe re-run: {reason}" \
        in message


def test_an_append_retry_with_the_bookmark_on_is_a_safe_plain_retry(raw_catalog: dict[str, Any], ctx: Context,
                                                                     gports: GluePorts) -> None:
    ctx.catalog = bent(raw_catalog, write_mode="append")  # the job's default: bookmark enabled
    failed = failed_batch(gports, "ThrottlingException: Rate exceeded")

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert len(gports.glue.started(JOB)) == 1
    assert any(f.check == "safe re-run" and f.detail.startswith("plain retry with the job bookmark enabled")
               for f in outcome.plan.findings)


def test_a_run_without_its_partition_and_without_bookmark_is_refused(ctx: Context, gports: GluePorts) -> None:
    failed = failed_batch(gports, "ThrottlingException: Rate exceeded", arguments=BOOKMARK_OFF)

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, JOB, failed), ctx)

    assert gports.glue.started(JOB) == []
    assert outcome.status is OutcomeStatus.REFUSED
    assert "the run has no --partition argument and no job bookmark" in outcome.decisions[0].reason


# --- MSK connectivity ------------------------------------------------------------------------------------

ALL_OUT = (SgRule("-1", None, None, cidrs=("0.0.0.0/0",)),)


def streaming_with_connection(gports: GluePorts, ingress: tuple[SgRule, ...]) -> str:
    gports.glue.define("orders-stream", connections=["orders-msk"], default_arguments={})
    gports.glue.connections["orders-msk"] = GlueConnection(
        "orders-msk", "KAFKA", "subnet-1", ("sg-glue",), ("b-1.retail-msk-dev:9094", "b-2.retail-msk-dev:9094"))
    gports.kafka.clusters["retail-msk-dev"] = ("sg-msk",)
    gports.network.groups = {"sg-glue": SecurityGroup("sg-glue", (), ALL_OUT),
                             "sg-msk": SecurityGroup("sg-msk", ingress, ALL_OUT)}
    gports.network.subnets["subnet-1"] = "10.40.1.0/24"
    return gports.glue.add_run("orders-stream", "FAILED", arguments={},
                               error="org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a "
                                     "node assignment")


def test_a_broker_timeout_with_the_port_closed_is_not_retried(ctx: Context, gports: GluePorts) -> None:
    failed = streaming_with_connection(gports, (SgRule("tcp", 9092, 9092, groups=("sg-glue",)),))

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, "orders-stream", failed), ctx)

    assert gports.glue.started("orders-stream") == []
    assert outcome.status is OutcomeStatus.NO_ACTION
    (network,) = [f for f in outcome.plan.findings if f.check == "MSK connectivity"]
    assert not network.ok
    assert network.detail == ("broker port 9094 is not open from connection orders-msk (sg-glue) to the brokers' "
                              "sg-msk (no ingress rule admits the connection)")


@pytest.mark.parametrize("ingress", [
    (SgRule("tcp", 9094, 9094, groups=("sg-glue",)),),
    (SgRule("tcp", 9092, 9098, cidrs=("10.40.0.0/16",)),),  # a CIDR that holds the connection's subnet
])
def test_a_broker_timeout_with_the_port_open_is_retried(ctx: Context, gports: GluePorts,
                                                        ingress: tuple[SgRule, ...]) -> None:
    failed = streaming_with_connection(gports, ingress)
    # A streaming run never ends: verified RUNNING with the job's failure alarm back to OK.
    gports.alarms.states["remedy-dev/glue-failures/glue:orders-stream"] = "OK"

    outcome = run(PLAYBOOK, glue_incident(ctx.catalog, "orders-stream", failed), ctx)

    (new,) = gports.glue.started("orders-stream")
    assert new.arguments == {}  # a streaming job: no partition, no re-run rule
    assert outcome.status is OutcomeStatus.REMEDIATED
    assert outcome.verification.detail == (f"streaming run {new.id} of orders-stream is RUNNING and "
                                           f"remedy-dev/glue-failures/glue:orders-stream is OK")
    assert any(f.check == "MSK connectivity" and f.ok and f.detail.startswith("broker port 9094 is open")
               for f in outcome.plan.findings)


def test_a_cidr_rule_that_misses_the_subnet_does_not_count(ctx: Context, gports: GluePorts) -> None:
    failed = streaming_with_connection(gports, (SgRule("tcp", 9094, 9094, cidrs=("192.168.0.0/16",)),))

    run(PLAYBOOK, glue_incident(ctx.catalog, "orders-stream", failed), ctx)

    assert gports.glue.started("orders-stream") == []


# --- classification ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("texts", "kind", "transient"), [
    (["ThrottlingException: Rate exceeded"], "throttling", True),
    (["AmazonS3Exception: Slow Down (Status Code: 503; Error Code: SlowDown)"], "s3_slowdown", True),
    (["Connection to node -1 (b-1.msk/10.0.0.1:9094) could not be established"], "broker_connection", True),
    (["ConcurrentRunsExceededException: Concurrent runs exceeded for sales-batch"], "concurrent_runs", True),
    (["ExecutorLostFailure (executor 4 exited caused by one of the running tasks)"], "lost_workers", True),
    (["Container killed by YARN for exceeding memory limits", "ExecutorLostFailure"], "out_of_memory", True),
    (["InternalServiceException: Internal service error"], "glue_internal", True),
    (["Access Denied (Service: Amazon S3; Status Code: 403)"], "access_denied", False),
    (["SyntaxError: invalid syntax (sales.py, line 3)"], "script", False),
    (["AnalysisException: cannot resolve 'order_total' given input columns"], "schema", False),
    (["Rate exceeded", "AccessDenied"], "access_denied", False),
    (["what is this"], "unknown", False),
    ([""], "unknown", False),
])
def test_classify(texts: list[str], kind: str, transient: bool) -> None:
    cause = classify(texts)
    assert (cause.kind, cause.transient) == (kind, transient)


def test_a_timeout_without_a_transient_cause_is_not_transient() -> None:
    cause = classify(["Job run timed out after 120 minutes"], "TIMEOUT")
    assert (cause.kind, cause.transient, cause.label) == ("unknown", False, "timed out (no transient cause found)")
