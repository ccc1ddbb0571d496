"""Runbook "Emergency Procedures / Service Outage": check the dashboards' alarms, review recent deployments,
check AWS Health, roll back if a recent change is the cause, escalate.

Only changes this service made and recorded can be rolled back: a Glue job definition a scaling procedure
changed is put back from the copy it recorded before the change (the audit trail's rollback point). A change
made by anyone else is shown as evidence, never undone here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from functions.core.catalog import Catalog
from functions.procedures.inputs import ServiceOutageInput
from functions.procedures.ports import OutagePorts, SupportPort, Unavailable
from functions.procedures.summary import Summary

OUR_KINDS = {"action", "rollback_point", "procedure_outcome", "approval"}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


def _after(value: Any, since: datetime) -> bool:
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return at >= since


def _source(name: str, read: Any) -> tuple[Any, str]:
    """One evidence source; a source that cannot be read is evidence too, not a reason to stop."""
    try:
        return read(), ""
    except Unavailable as error:
        return None, f"unavailable: {error}"
    except Exception as error:  # evidence gathering goes on without it; the reason is reported
        return None, f"could not read {name}: {type(error).__name__}: {str(error)[:200]}"


def rollback_candidates(catalog: Catalog, audit: list[dict[str, Any]],
                        definitions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Glue jobs whose definition a scaling procedure changed within the window, with the copy it recorded
    before its first change in the window, when the job does not carry that definition any more."""
    first: dict[str, dict[str, Any]] = {}
    for record in sorted(audit, key=lambda r: str(r.get("at", ""))):
        payload = record.get("payload") or {}
        resource = str(payload.get("resource", ""))
        if (record.get("kind") != "rollback_point" or not str(payload.get("procedure", "")).startswith("scale-")
                or not resource.startswith("glue:") or not isinstance(payload.get("before"), dict)):
            continue
        first.setdefault(resource.removeprefix("glue:"), {**payload, "incident_id": record.get("incident_id"),
                                                          "at": record.get("at")})
    candidates = []
    for job, point in sorted(first.items()):
        if job not in {j.name for j in catalog.glue_jobs} or job not in definitions:
            continue
        current = definitions[job]
        before = point["before"]
        changed = {k: (current.get(k), v) for k, v in before.items() if current.get(k) != v}
        if not changed:
            continue  # already back to the recorded copy
        current_update = {k: current[k] for k in before if k in current}
        candidates.append({
            "job": job, "job_update": before, "current": current_update, "recorded_by": point["incident_id"],
            "recorded_at": point["at"],
            "change": ", ".join(f"{k} {now!r} -> {then!r}" for k, (now, then) in sorted(changed.items())),
            # what the rollback itself records first: the definition it replaces (so it can be undone)
            "rollback_point": {"procedure": "service-outage", "resource": f"glue:{job}", "before": current_update,
                               "after": before},
        })
    return candidates


def assess(inp: ServiceOutageInput, ports: OutagePorts, catalog: Catalog, now: datetime) -> dict[str, Any]:
    since = now - timedelta(hours=inp.window_hours)
    alarms, alarms_error = _source("alarms", lambda: ports.alarms_in_alarm(f"{catalog.prefix}/"))
    stacks, stacks_error = _source("CloudFormation", lambda: ports.stacks_changed_since(since))
    audit, audit_error = _source("the audit trail", lambda: ports.audit_since(since))
    health, health_error = _source("AWS Health", lambda: ports.health_events(since))
    definitions: dict[str, dict[str, Any]] = {}
    jobs_changed, job_errors = [], []
    for job in catalog.glue_jobs:
        definition, error = _source(f"Glue job {job.name}", lambda name=job.name: ports.job_definition(name))
        if error:
            job_errors.append(error)
            continue
        definitions[job.name] = definition
        if _after(definition.get("LastModifiedOn"), since):
            jobs_changed.append({"job": job.name, "at": _iso(definition.get("LastModifiedOn"))})
    ours = [{"incident_id": r["incident_id"], "kind": r["kind"], "at": r["at"],
             "what": str((r.get("payload") or {}).get("procedure") or (r.get("payload") or {}).get("action", ""))}
            for r in (audit or []) if r.get("kind") in OUR_KINDS]
    candidates = rollback_candidates(catalog, audit or [], definitions)
    recorded = {c["job"] for c in candidates}
    def named(items: list[dict[str, Any]] | None, key: str) -> str:
        return f" ({', '.join(str(i[key]) for i in items[:5])})" if items else ""

    def problem(error: str) -> str:
        return f" [{error}]" if error else ""

    findings = [
        f"alarms in ALARM: {len(alarms or [])}{named(alarms, 'name')}{problem(alarms_error)}",
        f"stacks changed since {since:%Y-%m-%d %H:%M}Z: {len(stacks or [])}{named(stacks, 'name')}"
        f"{problem(stacks_error)}",
        f"Glue job definitions changed: {', '.join(j['job'] for j in jobs_changed) or 'none'}",
        f"this service's own actions and changes in the window: {len(ours)}{problem(audit_error)}",
        "AWS Health: " + (health_error or (f"{len(health)} open event(s)" if health else "no open event")),
        *job_errors,
    ]
    about_to = [f"roll back Glue job {c['job']} to the definition {c['recorded_by']} recorded at {c['recorded_at']} "
                f"(UpdateJob with the whole recorded definition: {c['change']})" for c in candidates]
    not_ours = [j["job"] for j in jobs_changed if j["job"] not in recorded]
    return {
        "window_start": since.isoformat(), "alarms": alarms or [], "stacks": stacks or [], "jobs_changed": jobs_changed,
        "our_actions": ours[:50], "health": health or [], "health_status": health_error or "available",
        "rollback": {"applies": bool(candidates), "jobs": candidates},
        "changed_elsewhere": not_ours,
        "findings": findings,
        "about_to": about_to,
    }


def escalate(state: dict[str, Any], catalog: Catalog, support: SupportPort) -> dict[str, Any]:
    plan = state.get("plan") or {}
    incident = state["incident_id"]
    rolled_back = [c["job"] for c in plan.get("rollback", {}).get("jobs", [])] if state.get("results", {}).get(
        "Rollback") is not None else []
    body = "\n".join([
        f"Service outage {incident} ({catalog.env}, {catalog.region}): {state.get('reason') or 'no reason given'}",
        *[f"- {line}" for line in plan.get("findings", [])],
        f"- rolled back: {', '.join(rolled_back) or 'nothing'}",
    ])
    try:
        case = support.create_case(f"[{catalog.prefix}] service outage {incident}", body)
        support_status = f"AWS Support case {case} opened"
    except Unavailable as error:
        support_status = f"AWS Support case not opened: unavailable ({error})"
    except Exception as error:  # throttled, denied, down: the page matters more than the case; it says why
        support_status = (f"AWS Support case not opened: {type(error).__name__}: {' '.join(str(error).split())[:200]}"
                          f"; open one by hand")
    subject = f"[{catalog.prefix}] PAGE: service outage {incident}"
    message = "\n".join([
        f"SERVICE OUTAGE  {incident}",
        f"STARTED BY      {state.get('requested_by') or 'a person (remedy incident start)'}",
        "EVIDENCE", *[f"  {line}" for line in plan.get("findings", [])],
        f"ROLLED BACK     {', '.join(rolled_back) or 'nothing (no change of ours to undo)'}",
        f"CHANGED ELSEWHERE (look at these by hand) {', '.join(plan.get('changed_elsewhere', [])) or 'none'}",
        f"ESCALATION      {support_status}",
        f"HISTORY         remedy incident status {incident}",
    ])
    return {"support": support_status, "subject": subject[:100], "message": message}


def summary(state: dict[str, Any], failed_step: str | None) -> Summary:
    plan = state.get("plan") or {}
    results = state.get("results") or {}
    out = Summary(findings=list(plan.get("findings", [])))
    jobs = plan.get("rollback", {}).get("jobs", [])
    if "Rollback" in results:
        out.done += [f"rolled back Glue job {c['job']} ({c['change']}); undo: the rollback point in the audit "
                     f"trail holds the definition it replaced" for c in jobs]
    elif jobs:
        out.left += [f"roll back Glue job {c['job']} by hand if it is the cause: aws glue update-job --job-name "
                     f"{c['job']} --job-update '{json.dumps(c['job_update'], sort_keys=True)[:400]}'" for c in jobs]
    if "Escalate" in results:
        out.done.append(results["Escalate"].get("support", ""))
    if "Page" in results:
        out.done.append("paged on call through the on-call topic")
    elif failed_step:
        out.left.append("page on call and open an AWS Support case by hand if the outage goes on")
    out.left += [f"Glue job {job} changed outside this service in the window: look at it by hand"
                 for job in plan.get("changed_elsewhere", [])]
    return out
