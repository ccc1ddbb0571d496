"""The four maintenance jobs: period from the schedule's time, facts through the ports, report through the
domain modules, then kept (S3) and told (SNS). No boto3 here: ports are injected (adapters in AWS, fakes in
tests).

Idempotent and safe to re-run: a report's key is decided by its period alone (weekly/2026-11-23.json for the
week ending that day), and a review is written with a conditional put, so a retried or repeated schedule
finds it there and neither writes nor notifies again (`force` rewrites and re-sends). The daily posture is
overwritten by a re-run: today's posture is the newest check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.core.catalog import Catalog
from functions.core.ports import Clock, NotifierPort
from functions.maintenance import JOBS, MaintenanceJob
from functions.maintenance.ports import (
    AlarmHistoryPort,
    AuditReaderPort,
    BackupPort,
    RedshiftHistoryPort,
    ReportStorePort,
    StoragePort,
)

WEEK = timedelta(days=7)
MONTH_WINDOW = timedelta(days=31)


class BadMaintenanceEvent(ValueError):
    pass


class MaintenanceEvent(BaseModel):
    """What EventBridge Scheduler sends (the schedule's Input) or a person passes to re-run a job."""

    model_config = ConfigDict(extra="ignore")

    job: str | None = None
    scheduled_time: datetime | None = None  # <aws.scheduler.scheduled-time>; an EventBridge rule's "time"
    time: datetime | None = Field(default=None, exclude=True)
    force: bool = False  # rewrite and re-send a period already reported


PLAIN_INPUT = {"job", "scheduled_time", "force"}  # the schedule's Input, or a person's re-run


def parse_event(event: Any, job: MaintenanceJob, catalog: Catalog | None = None) -> MaintenanceEvent:
    if not isinstance(event, dict):
        from functions.core.events import json_type

        raise BadMaintenanceEvent(f"a maintenance event is a JSON object, not {json_type(event)}")
    # The schedule's Input has no detail-type; an EventBridge rule's has "Scheduled Event". Anything else (an
    # alarm, a Glue state change) reached the job by mistake or on purpose: it must not run a job.
    kind = event.get("detail-type")
    if kind is not None and kind != "Scheduled Event":
        raise BadMaintenanceEvent(f"a {str(kind)[:60]!r} event is not a schedule: {job.name} runs on its schedule "
                                  "only, nothing done")
    unexpected = sorted(map(str, set(event) - PLAIN_INPUT)) if kind is None else []
    if unexpected:
        raise BadMaintenanceEvent(f"unexpected field {unexpected[0][:60]!r}: a schedule's input carries "
                                  f"{', '.join(sorted(PLAIN_INPUT))} only, nothing done")
    if catalog is not None and ("account" in event or "region" in event) and \
            (event.get("account"), event.get("region")) != (catalog.account_id, catalog.region):
        raise BadMaintenanceEvent(f"scheduled event from account {str(event.get('account'))[:12]} in "
                                  f"{str(event.get('region'))[:20]}: this service runs in {catalog.account_id} in "
                                  f"{catalog.region} only, nothing done")
    try:
        parsed = MaintenanceEvent.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        raise BadMaintenanceEvent(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    if parsed.job is not None and parsed.job != job.name:
        raise BadMaintenanceEvent(f"event for job {parsed.job!r} delivered to {job.name!r}: nothing done")
    return parsed


@dataclass
class Ports:
    catalog: Catalog
    clock: Clock
    store: ReportStorePort
    notifier: NotifierPort | None = None
    audit: AuditReaderPort | None = None
    alarms: AlarmHistoryPort | None = None
    storage: StoragePort | None = None
    backups: BackupPort | None = None
    redshift: Callable[[], RedshiftHistoryPort] | None = None  # connects on first use
    doctor: Any = None  # functions.doctor.checks.Context (the doctor jobs)
    emit: Callable[[list[dict[str, Any]]], None] = field(default=lambda records: None)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def run(job_name: str, event: Any, ports: Ports) -> dict[str, Any]:
    job = JOBS[job_name]
    try:
        parsed = parse_event(event, job, ports.catalog)
    except BadMaintenanceEvent as error:
        return {"status": "REJECTED", "job": job.name, "reason": str(error)}
    at = _utc(parsed.scheduled_time or parsed.time or ports.clock.now()).replace(microsecond=0)
    return RUNNERS[job.name](ports, at, parsed.force)


# --- each job --------------------------------------------------------------------------------------------

def weekly_review(ports: Ports, at: datetime, force: bool) -> dict[str, Any]:
    from functions.maintenance import weekly

    assert ports.audit and ports.alarms and ports.notifier
    cat, start, end = ports.catalog, at - WEEK, at
    alarms = ports.alarms.alarms(f"{cat.prefix}/")
    transitions = {a.name: ports.alarms.transitions(a.name, start, end) for a in alarms}
    reported = [k for k in ports.store.keys("posture/", start_after=f"posture/{start:%Y-%m-%d}")
                if k.endswith(".json") and k < f"posture/{end:%Y-%m-%d}~"]
    last = reported[-1].removeprefix("posture/").removesuffix(".json") if reported else None
    report = weekly.review(cat, start, end, ports.audit.records(start, end), alarms, transitions, last)
    period = f"{end:%Y-%m-%d}"
    subject, text = weekly.render(cat, report, period)
    return _deliver(ports, JOBS["weekly_review"], period, start, end, report.model_dump(mode="json"), subject, text,
                    force, summary=_weekly_summary(report))


def _weekly_summary(report: Any) -> str:
    fired = sum(a.fired for p in report.pipelines for a in p.alarms)
    remediations = sum(t.verified + t.failed + t.refused + t.awaiting_approval + sum(t.other.values())
                       for p in report.pipelines for t in p.remediations)
    return (f"{fired} alarm firings, {remediations} remediations, {len(report.threshold_candidates)} threshold "
            f"candidates; {report.posture_summary}")


def redshift_analysis(ports: Ports, at: datetime, force: bool) -> dict[str, Any]:
    from functions.maintenance import redshift_analysis as analysis

    assert ports.redshift and ports.notifier
    cat, start, end = ports.catalog, at - MONTH_WINDOW, at
    period = f"{end - timedelta(days=1):%Y-%m}"  # the run on the 1st analyses the month that ended
    previous = _previous(ports.store, "redshift/", f"redshift/{period}.json")
    history = ports.redshift()
    try:
        report = analysis.analyse(cat, history, start, end, period, previous)
    finally:
        history.close()
    subject, text = analysis.render(cat, report, period)
    return _deliver(ports, JOBS["redshift_analysis"], period, start, end, report.model_dump(mode="json"), subject,
                    text, force, summary=f"{len(report.recommendations)} recommendations: "
                                         + ", ".join(f"{r.kind} {r.target}" for r in report.recommendations))


def _previous(store: ReportStorePort, prefix: str, current: str) -> dict[str, Any] | None:
    earlier = [k for k in store.keys(prefix) if k.endswith(".json") and k < current]
    return store.get_json(earlier[-1]) if earlier else None


def lifecycle_review(ports: Ports, at: datetime, force: bool) -> dict[str, Any]:
    from functions.maintenance import lifecycle

    assert ports.storage and ports.notifier
    period = f"{at:%Y}-Q{(at.month - 1) // 3 + 1}"
    report = lifecycle.review(ports.catalog, ports.storage)
    subject, text = lifecycle.render(ports.catalog, report, period)
    return _deliver(ports, JOBS["lifecycle_review"], period, None, at, report.model_dump(mode="json"), subject,
                    text, force, summary=f"{len(report.flags)} findings: " + "; ".join(report.flags))


def posture(ports: Ports, at: datetime, force: bool) -> dict[str, Any]:
    from functions.maintenance import posture as checks

    assert ports.storage and ports.backups
    report = checks.check(ports.catalog, ports.storage, ports.backups, at)
    ports.emit(checks.emf_records(report))
    period = f"{at:%Y-%m-%d}"
    subject, text = checks.render(ports.catalog, report, period)
    broken = report.broken
    summary = (f"{len(broken)} of {len(report.promises)} promises broken: "
               + ", ".join(f"{p.promise} {p.resource}" for p in broken)) if broken else \
        f"all {len(report.promises)} promises kept"
    return _deliver(ports, JOBS["posture"], period, None, at, report.model_dump(mode="json"), subject, text,
                    force=True, summary=summary)


def doctor(ports: Ports, at: datetime, force: bool, job: str = "doctor") -> dict[str, Any]:
    from functions.doctor import daily

    assert ports.doctor is not None
    findings, summary, text = daily.run(job, ports.doctor, at)
    ports.emit(daily.emf_records(job, findings, at))
    subject = f"[{ports.catalog.prefix}] remedy doctor ({job}) {at:%Y-%m-%d}: {summary}"
    return _deliver(ports, JOBS[job], f"{at:%Y-%m-%d}", None, at, {"findings": [f.as_dict() for f in findings]},
                    subject, text, force=True, summary=summary)


RUNNERS: dict[str, Callable[[Ports, datetime, bool], dict[str, Any]]] = {
    "weekly_review": weekly_review,
    "redshift_analysis": redshift_analysis,
    "lifecycle_review": lifecycle_review,
    "posture": posture,
    "doctor": doctor,
    "doctor_vpc": lambda ports, at, force: doctor(ports, at, force, job="doctor_vpc"),
}


def _deliver(ports: Ports, job: MaintenanceJob, period: str, start: datetime | None, end: datetime,
             report: dict[str, Any], subject: str, text: str, force: bool, summary: str) -> dict[str, Any]:
    """Keep the report (JSON + text) and, for the reviews, tell on call: once per period."""
    key = f"{job.report}/{period}"
    document = {"kind": job.report, "env": ports.catalog.env, "period": period,
                "window_start": start.isoformat() if start else None, "window_end": end.isoformat(),
                "generated_at": ports.clock.now().astimezone(UTC).isoformat(timespec="seconds"),
                "summary": summary, "report": report, "text": text}
    result = {"job": job.name, "kind": job.report, "period": period, "key": f"{key}.json", "summary": summary,
              "subject": subject, "report": report, "text": text}
    body = json.dumps(document, indent=1, sort_keys=True, default=str)
    created = ports.store.put(f"{key}.json", body, "application/json", only_if_absent=job.notifies and not force)
    if not created:
        return {**result, "status": "ALREADY_REPORTED",
                "reason": f"{key}.json exists: this period was reported (re-run with force to send it again)"}
    ports.store.put(f"{key}.txt", text, "text/plain; charset=utf-8")
    if job.notifies and ports.notifier is not None:
        try:
            ports.notifier.publish(subject[:100], text)
        except Exception:
            ports.store.delete(f"{key}.json")  # not told: the retry must find the period unreported
            raise
    return {**result, "status": "REPORTED"}
