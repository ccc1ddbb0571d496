"""Backup and recovery posture (runbook "Backup and Recovery"), checked daily.

The runbook's promises, each checked against the account and published as one metric datapoint
(Remedy/Posture BrokenPromise, 1 broken / 0 kept, dimensions Promise and Resource) that an alarm
<prefix>/posture/<promise>:<resource> watches:

- redshift-snapshots:<cluster>  automated snapshots kept >= redshift.snapshot_retention_days, and one newer
                                than a day
- s3-versioning:<lake bucket>   versioning enabled (where the catalog says the lake is versioned: prod)
- s3-lifecycle:<lake bucket>    at least one enabled lifecycle rule
- s3-versioning:<state bucket>  Terraform's state bucket versioned (every env)

A check that cannot be made (access denied, cluster gone) breaks its promise: a promise nobody can verify
is not kept. The promise's component is named after the promise, not the catalog resource, so a broken
backup never holds a remediation through the lineage hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from functions.core.catalog import Catalog
from functions.core.errors import error_line
from functions.core.naming import alarm_name
from functions.maintenance import terraform_state_bucket
from functions.maintenance.models import Check, PostureReport, Promise
from functions.maintenance.ports import BackupPort, StoragePort

NAMESPACE = "Remedy/Posture"
METRIC = "BrokenPromise"
SNAPSHOT_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True)
class PromiseSpec:
    promise: str
    resource: str
    description: str

    @property
    def component(self) -> str:
        return f"{self.promise}:{self.resource}"

    def alarm_name(self, catalog: Catalog) -> str:
        return alarm_name(catalog.prefix, "posture", self.component)


def promises(catalog: Catalog) -> list[PromiseSpec]:
    """What this env promises (infra builds one alarm per item; the daily check checks exactly these)."""
    rs, lake, state = catalog.redshift, catalog.s3.name, terraform_state_bucket(catalog)
    specs = [PromiseSpec("redshift-snapshots", rs.cluster_id,
                         f"Redshift {rs.cluster_id}: automated snapshots kept >= {rs.snapshot_retention_days} days "
                         f"and one newer than a day")]
    if catalog.s3.versioning:
        specs.append(PromiseSpec("s3-versioning", lake, f"S3 {lake}: versioning enabled"))
    specs.append(PromiseSpec("s3-lifecycle", lake, f"S3 {lake}: lifecycle policies present"))
    specs.append(PromiseSpec("s3-versioning", state, f"Terraform state bucket {state}: versioning enabled"))
    return specs


def _checked(name: str, probe: Any) -> Check:
    """Run one check; an error is a failed check that says why (unverifiable = broken)."""
    try:
        ok, detail = probe()
    except Exception as error:
        return Check(name=name, ok=False, detail=f"could not check: {error_line(error, None)}"[:300])
    return Check(name=name, ok=ok, detail=detail)


def _snapshot_checks(catalog: Catalog, backups: BackupPort, now: datetime) -> list[Check]:
    cluster, wanted = catalog.redshift.cluster_id, catalog.redshift.snapshot_retention_days

    def retention() -> tuple[bool, str]:
        days = backups.snapshot_retention_days(cluster)
        if days <= 0:
            return False, "automated snapshots are disabled (retention 0 days)"
        return days >= wanted, f"automated snapshots kept {days} days (promised >= {wanted})"

    def fresh() -> tuple[bool, str]:
        newest = backups.newest_automated_snapshot(cluster)
        if newest is None:
            return False, "no automated snapshot at all"
        age = now - newest
        hours = max(0.0, age.total_seconds() / 3600)
        return age <= SNAPSHOT_MAX_AGE, f"newest automated snapshot {hours:.1f} h old (promised < 24 h)"

    return [_checked("snapshot retention", retention), _checked("recent snapshot", fresh)]


def _versioning_check(storage: StoragePort, bucket: str) -> Check:
    def probe() -> tuple[bool, str]:
        status = storage.versioning(bucket)
        return status == "Enabled", f"versioning {status.lower()}"

    return _checked("versioning", probe)


def _lifecycle_check(storage: StoragePort, bucket: str) -> Check:
    def probe() -> tuple[bool, str]:
        rules = storage.lifecycle_rules(bucket)
        enabled = [r for r in rules if r.get("Status") == "Enabled"]
        if not rules:
            return False, "no lifecycle configuration"
        return bool(enabled), f"{len(enabled)} of {len(rules)} lifecycle rules enabled"

    return _checked("lifecycle rules", probe)


def check(catalog: Catalog, storage: StoragePort, backups: BackupPort, now: datetime) -> PostureReport:
    kept = []
    for spec in promises(catalog):
        if spec.promise == "redshift-snapshots":
            checks = _snapshot_checks(catalog, backups, now)
        elif spec.promise == "s3-versioning":
            checks = [_versioning_check(storage, spec.resource)]
        else:
            checks = [_lifecycle_check(storage, spec.resource)]
        kept.append(Promise(promise=spec.promise, resource=spec.resource, alarm_name=spec.alarm_name(catalog),
                            kept=all(c.ok for c in checks), checks=checks))
    return PostureReport(checked_at=now, promises=kept)


def emf_records(report: PostureReport) -> list[dict[str, Any]]:
    """One embedded-metric-format record per promise, with exactly the alarm's dimensions (no `service`)."""
    stamp = int(report.checked_at.timestamp() * 1000)
    return [{
        "_aws": {"Timestamp": stamp, "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [["Promise", "Resource"]],
            "Metrics": [{"Name": METRIC, "Unit": "Count"}]}]},
        "Promise": p.promise, "Resource": p.resource, METRIC: 0 if p.kept else 1,
    } for p in report.promises]


def render(catalog: Catalog, report: PostureReport, period: str) -> tuple[str, str]:
    broken = report.broken
    subject = (f"[{catalog.prefix}] backup posture {period}: "
               + (f"{len(broken)} promise(s) broken" if broken else "all promises kept"))
    lines = [f"Backup and recovery posture of {catalog.prefix}, checked {report.checked_at:%Y-%m-%d %H:%M} UTC", ""]
    for p in report.promises:
        lines.append(f"{'KEPT  ' if p.kept else 'BROKEN'} {p.promise} {p.resource}")
        lines += [f"         {'ok ' if c.ok else 'NO '} {c.name}: {c.detail}" for c in p.checks]
    if broken:
        lines += ["", "Each broken promise holds its alarm in ALARM (it pages) until a daily check finds it kept."]
    return subject, "\n".join(lines) + "\n"
