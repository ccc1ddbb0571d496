"""Runbook: Glue Job Failures — a run ends FAILED; transient causes are retried once, permanent ones are
named and left to a person, and a batch retry that could load a partition twice is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario

SECTION = "Common Issues / Glue Job Failures"
BATCH = "sales-batch"
STREAM = "orders-stream"
BATCH_CHECKS = "glue_job_failure-checks"  # the playbook's schedule (verification windows)


def _partition(d: Drill) -> str:
    """The hour the batch job loads: the previous one, laid out as landing is (catalog)."""
    return (d.now - timedelta(hours=1)).strftime(d.catalog.s3.landing_partition_format)


def fail_run(d: Drill, job: str, run_id: str, error: str,
             log: list[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run ends FAILED (error log written first, as Glue does) and Glue's event goes through EventBridge:
    the playbook's result and the event."""
    if log:
        d.write_error_log(job, run_id, log)
    delivery = d.end_run(job, "FAILED", error, run_id=run_id)
    return _result(d, delivery), delivery.event


def redeliver(d: Drill, event: dict[str, Any]) -> dict[str, Any]:
    return _result(d, d.deliver(event))


def _result(d: Drill, delivery: Any) -> dict[str, Any]:
    """What glue_job_failure made of the delivery. Until the lead wires its `Glue Job State Change` route
    (glue_job_states) into the templates, no rule sends the event to the function: it is then invoked with
    the same event, asynchronously as EventBridge would (retries, on-failure queue), and the step says so."""
    ours = [i for i in delivery.invocations if i.function == f"{d.catalog.prefix}-glue-job-failure"]
    if ours:
        return ours[0].result if isinstance(ours[0].result, dict) else {}
    return invoke_directly(d, delivery.event)


def invoke_directly(d: Drill, event: dict[str, Any]) -> dict[str, Any]:
    function = f"{d.catalog.prefix}-glue-job-failure"
    d.say("note", f"no Glue Job State Change route to {function} in the templates yet: invoked directly")
    invocation = d.sandbox.invoke_async(d.sandbox.function(function), event)
    if invocation.error:
        d.say("handler", f"failed after {invocation.attempts} attempts: {invocation.error}")
        return {}
    result = invocation.result if isinstance(invocation.result, dict) else {}
    d.outcomes.append(result)
    d.say("handler", f"{result.get('status')}: {result.get('summary') or result.get('reason', '')}")
    return result


def _findings(result: dict[str, Any]) -> list[str]:
    return [f["detail"] for f in result.get("plan", {}).get("findings", [])]


@scenario("glue-transient-failure", "Batch run throttled: retried once with the same partition, once only", SECTION)
def glue_transient_failure(d: Drill) -> None:
    partition = _partition(d)
    failed = d.start_run(BATCH, {"--partition": partition})
    result, event = fail_run(d, BATCH, failed, "An error occurred while calling o102.pyWriteDynamicFrame",
                      ["INFO GlueContext: writing partition", "ERROR Executor: com.amazonaws.services.glue.model."
                                                              "ThrottlingException: Rate exceeded"])
    new = [r for r in d.active_runs(BATCH) if r["Id"] != failed]
    d.expect("the run was retried once, with the same partition argument",
             len(new) == 1 and new[0].get("Arguments", {}).get("--partition") == partition,
             f"new runs: {[(r['Id'][:10], r.get('Arguments', {}).get('--partition')) for r in new]}")
    d.expect("classified transient from the error log (throttling)",
             any("transient: throttling" in f for f in _findings(result)))
    decisions = [r["payload"] for r in d.audit("decision")]
    d.expect("the guard's ALLOWED decision for glue.restart_job is in the audit trail",
             [(x["verdict"], x["action"]["name"]) for x in decisions] == [("ALLOWED", "glue.restart_job")])
    d.expect("not verified yet: a RUNNING retry proves nothing, a verification window is open",
             result.get("status") == "ACTED" and result["verification"]["status"] == "INCONCLUSIVE"
             and bool(result.get("follow_up")), result.get("verification", {}).get("detail", ""))
    inbox = d.notifications()
    d.expect("on call read what failed, why it was retried and how to undo it",
             len(inbox) == 1 and all(w in inbox[0]["message"] for w in ("throttling", "WHAT WE DID", "HOW TO UNDO")),
             inbox[0]["subject"] if inbox else "no notification")

    # EventBridge delivers at least once: the same state change again restarts nothing.
    again = redeliver(d, event)
    d.expect("a duplicate delivery does nothing and is recorded",
             again.get("status") == "DUPLICATE" and len(d.runs(BATCH)) == 2 and d.audit("duplicate") != [])

    # The retry loads the partition; the playbook's scheduled check sees it SUCCEEDED within the window.
    d.advance(10)
    d.set_run_state(BATCH, new[0]["Id"], "SUCCEEDED")
    d.tick(f"{BATCH_CHECKS}")
    verdicts = [r["payload"]["status"] for r in d.audit("verification")]
    d.expect("the scheduled check verified it: the retried run SUCCEEDED (VERIFIED, REMEDIATED)",
             verdicts == ["VERIFIED"] and d.audit("outcome")[-1]["payload"]["status"] == "REMEDIATED", str(verdicts))


@scenario("glue-access-denied", "Batch run denied S3 access: not retried, the missing action named", SECTION)
def glue_access_denied(d: Drill) -> None:
    bucket = f"arn:aws:s3:::{d.catalog.s3.name}"
    role = d.set_job_role_policy(BATCH, [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"{bucket}/landing/orders/*"},
        {"Effect": "Allow", "Action": ["s3:DeleteObject"], "Resource": f"{bucket}/curated/sales/*"},
    ])
    failed = d.start_run(BATCH, {"--partition": _partition(d)})
    result, _ = fail_run(d, BATCH, failed, "An error occurred while calling o113.pyWriteDynamicFrame. Access Denied "
                                        "(Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)")
    d.expect("not retried (AccessDenied is not transient)", d.active_runs(BATCH) == [] and len(d.runs(BATCH)) == 1)
    missing = f"role {role} may not s3:PutObject on {d.catalog.s3.name}/curated/sales/* (implicitDeny)"
    d.expect("the simulated role policy names the missing action", missing in _findings(result), missing)
    d.expect("nothing for the guard to decide: no action planned, NO_ACTION recorded",
             d.audit("decision") == [] and [r["payload"]["status"] for r in d.audit("outcome")] == ["NO_ACTION"])
    inbox = d.notifications()
    d.expect("on call is told which grant is missing",
             len(inbox) == 1 and f"grant role {role} s3:PutObject on {bucket}/curated/sales/*" in inbox[0]["message"])


@scenario("unsafe-batch-rerun", "Hand-started backfill (no partition, bookmark off) fails: its retry is refused",
          SECTION)
def unsafe_batch_rerun(d: Drill) -> None:
    failed = d.start_run(BATCH, {"--job-bookmark-option": "job-bookmark-disable"})
    result, _ = fail_run(d, BATCH, failed, "Status Code: 503; Error Code: SlowDown; Please reduce your request rate")
    d.expect("classified transient (S3 SlowDown) ...", any("transient: S3 SlowDown" in f for f in _findings(result)))
    d.expect("... but not retried", d.active_runs(BATCH) == [] and len(d.runs(BATCH)) == 1)
    refusals = [r["payload"] for r in d.audit("decision") if r["payload"]["verdict"] == "REFUSED"]
    why = "the run has no --partition argument and no job bookmark"
    d.expect("the guard's refusal and its reason are in the audit trail",
             len(refusals) == 1 and why in refusals[0]["reason"], refusals[0]["reason"] if refusals else "")
    inbox = d.notifications()
    d.expect("on call is told why the re-run was refused",
             len(inbox) == 1 and "REFUSED" in inbox[0]["subject"] and why in inbox[0]["message"])


@scenario("glue-out-of-memory", "Batch run out of memory: retried once on the next worker type (catalog)", SECTION)
def glue_out_of_memory(d: Drill) -> None:
    job = d.catalog.glue_job(BATCH)
    bigger = job.worker_type_upgrade(job.worker_type)
    failed = d.start_run(BATCH, {"--partition": _partition(d)})
    fail_run(d, BATCH, failed, "Command failed with exit code 1",
             ["ERROR Executor: Exception in task 3.0 in stage 2.0: java.lang.OutOfMemoryError: Java heap space"])
    new = [r for r in d.active_runs(BATCH) if r["Id"] != failed]
    d.expect(f"retried once on {bigger} (from {job.worker_type}), same workers",
             len(new) == 1 and new[0].get("WorkerType") == bigger and new[0].get("NumberOfWorkers") == job.min_workers,
             f"new runs: {[(r['Id'][:10], r.get('WorkerType'), r.get('NumberOfWorkers')) for r in new]}")


@scenario("glue-broker-port-closed", "Streaming job times out on the brokers, port closed: not retried, named",
          SECTION)
def glue_broker_port_closed(d: Drill) -> None:
    connection = d.msk_connection(STREAM, port_open=False)
    running = d.active_runs(STREAM)[0]["Id"]
    result, _ = fail_run(d, STREAM, running, "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a "
                                          "node assignment. Call: describeTopics")
    d.expect("not retried: a retry cannot reach the brokers", d.active_runs(STREAM) == [])
    blocked = [f for f in _findings(result) if f.startswith("broker port 9094 is not open from connection "
                                                             f"{connection}")]
    d.expect("the closed port and the security groups are named", len(blocked) == 1, blocked[0] if blocked else "")
