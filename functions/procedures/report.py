"""How a procedure ended, said once to on call and to the audit trail: the success summary, or the one
failure path every state catches into (a step failed, the approval was rejected, or nobody answered in
time) with what was done, what failed and what is left to do by hand.

The report's `error` and `cause` become the run's own (the Fail state reads them), so `remedy incident
status` and the console show Remedy.Rejected / Remedy.ApprovalTimedOut / Remedy.StepFailed with one line.
"""

from __future__ import annotations

import json
from typing import Any

from functions.procedures import corruption, outage, scaling, security
from functions.procedures.ports import ApprovalStore, AuditLog, Clock, Notifier
from functions.procedures.summary import Summariser

SUBJECT_LIMIT = 100
TIMEOUTS = {"States.Timeout", "States.HeartbeatTimeout"}


def _summarisers() -> dict[str, Summariser]:
    return {"service-outage": outage.summary, "data-corruption": corruption.summary,
            "security-incident": security.summary, "scale-glue": scaling.summary_glue,
            "scale-msk": scaling.summary_msk, "scale-redshift": scaling.summary_redshift}


def _one_line(text: Any, limit: int = 300) -> str:
    return " ".join(str(text or "").split())[:limit]


def classify(state: dict[str, Any]) -> tuple[str, str, str, str | None]:
    """(status, error, cause, failed step) of a run that ended in the failure path."""
    step = (state.get("failed") or {}).get("step")  # which state: set by the state's "<name> failed" Pass
    error = state.get("failure") or {}  # what: the Catch's {Error, Cause}
    name, cause = str(error.get("Error") or "States.TaskFailed"), error.get("Cause")
    if name == "Remedy.Rejected":
        try:
            decision = json.loads(cause or "{}")
        except (TypeError, ValueError):
            decision = {}
        who = decision.get("by") or "someone"
        why = decision.get("reason") or "no reason given"
        return "REJECTED", "Remedy.Rejected", _one_line(f"rejected by {who}: {why}"), step
    if name in TIMEOUTS and step == "Approval":
        window = state.get("approval_timeout_seconds")
        return ("APPROVAL_TIMED_OUT", "Remedy.ApprovalTimedOut",
                _one_line(f"nobody approved or rejected within {window} s"), step)
    return "FAILED", "Remedy.StepFailed", _one_line(f"{step or 'a step'} failed: {name}: {cause or ''}"), step


def report(event: dict[str, Any], prefix: str, audit: AuditLog, notifier: Notifier, approvals: ApprovalStore,
           clock: Clock, escalation: Notifier | None = None) -> dict[str, Any]:
    state = event["state"]
    procedure, incident = state["procedure"], state["incident_id"]
    summarise = _summarisers()[procedure]
    if event.get("mode") == "succeeded":
        status, error, cause, step = "SUCCEEDED", "", "", None
    else:
        status, error, cause, step = classify(state)
        if status == "APPROVAL_TIMED_OUT":
            from functions.procedures.approval import approval_key

            approvals.close(incident, approval_key(procedure, "Approval"), "TIMED_OUT", "", cause, clock.now())
    summary = summarise(state, step)
    subject = f"[{prefix}] {status}: {procedure} {incident}" + (f" at {step}" if step else "")
    lines = [f"PROCEDURE   {procedure} {incident}: {status}"]
    if status != "SUCCEEDED":
        lines.append(f"WHAT FAILED {cause}")
    if summary.findings:
        lines += ["WHAT WE FOUND", *[f"  {line}" for line in summary.findings]]
    lines += ["WHAT WE DID", *([f"  {line}" for line in summary.done] or ["  nothing was changed"])]
    if summary.left:
        lines += ["LEFT TO DO BY HAND", *[f"  {line}" for line in summary.left]]
    lines.append(f"HISTORY     remedy incident status {incident}")
    # Told and recorded independently: when one of the two fails (SNS or DynamoDB refusing, throttling), the
    # other still happens, then the step fails (the run ends Remedy.ReportFailed, its history says why).
    # An approval nobody answered lapsed: the escalation target is paged too (functions.core.escalation).
    told = [notifier, escalation] if status == "APPROVAL_TIMED_OUT" and escalation is not None else [notifier]
    failures = _tell(told, subject[:SUBJECT_LIMIT], "\n".join(lines))
    record = {"procedure": procedure, "status": status, "error": error, "cause": cause, "failed_step": step,
              "done": summary.done, "left": summary.left, "findings": summary.findings,
              "execution": event.get("execution", "")}
    if failures:
        record["not_notified"] = _one_line(failures[0], 200)
    try:
        audit.record(incident, "procedure_outcome", record)
    except Exception as failure:
        failures.append(failure)
    if failures:
        raise failures[0]
    return {"status": status, "error": error or "none", "cause": cause or "none", "done": summary.done,
            "left": summary.left}


def _tell(topics: list[Notifier], subject: str, message: str) -> list[Exception]:
    """Published to each topic; what failed, so the audit record still happens (see report)."""
    failures: list[Exception] = []
    for topic in topics:
        try:
            topic.publish(subject, message)
        except Exception as failure:
            failures.append(failure)
    return failures
