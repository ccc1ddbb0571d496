"""`remedy doctor`'s checks on a schedule after deployment (maintenance jobs `doctor` and `doctor_vpc`).

The same checks as the CLI (functions.doctor.checks.CHECKS): the `api` ones in `<prefix>-doctor`, the `vpc`
ones in `<prefix>-doctor-vpc` (the catalog's private subnets). Each run keeps its findings in the reports
bucket (doctor/<day>.json, doctor-vpc/<day>.json: `remedy doctor` shows the latest with its age) and publishes
one datapoint per check, Remedy/Doctor CheckFailed (1 failed / 0 not, dimension Check), that the alarm
<prefix>/doctor/<check> watches: a failed check pages, like a broken posture promise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.core.catalog import Catalog
from functions.core.naming import alarm_name
from functions.doctor import Finding, worst
from functions.doctor.checks import CHECKS, Context, run_checks

NAMESPACE = "Remedy/Doctor"
METRIC = "CheckFailed"
WHERE = {"doctor": {"api"}, "doctor_vpc": {"vpc"}}


def scheduled_checks(job: str) -> list[str]:
    """The check ids a scheduled job runs (infra builds one alarm per id)."""
    return [c.id for c in CHECKS if c.where in WHERE[job]]


def check_alarm_name(catalog: Catalog, check: str) -> str:
    return alarm_name(catalog.prefix, "doctor", check)


def emf_records(job: str, findings: list[Finding], at: datetime) -> list[dict[str, Any]]:
    stamp = int(at.timestamp() * 1000)
    failed = {f.check for f in findings if f.status == "FAIL"}
    return [{"_aws": {"Timestamp": stamp, "CloudWatchMetrics": [{
        "Namespace": NAMESPACE, "Dimensions": [["Check"]], "Metrics": [{"Name": METRIC, "Unit": "Count"}]}]},
        "Check": check, METRIC: 1 if check in failed else 0} for check in scheduled_checks(job)]


def run(job: str, ctx: Context, at: datetime) -> tuple[list[Finding], str, str]:
    """The job's findings, the summary line and the text a person reads."""
    findings = run_checks(ctx, WHERE[job])
    failed = [f for f in findings if f.status == "FAIL"]
    summary = (f"{len(failed)} check(s) failed: " + "; ".join(f"{f.check} {f.subject}" for f in failed)
               if failed else f"{worst(findings)}: {len(findings)} findings, none failed")
    lines = [f"remedy doctor ({job}) of {ctx.catalog.prefix}, {at:%Y-%m-%d %H:%M} UTC", ""]
    for f in findings:
        lines.append(f"{f.status:<4} {f.check:<20} {f.subject}: {f.detail}")
        if f.fix and f.status != "PASS":
            lines.append(f"     fix: {f.fix}")
    return findings, summary, "\n".join(lines) + "\n"
