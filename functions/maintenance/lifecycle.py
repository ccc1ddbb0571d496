"""Quarterly S3 lifecycle review (runbook "Quarterly: Review and optimize S3 lifecycle policies").

Per zone prefix of the data lake bucket: the lifecycle rules that apply to it (transition and expiration
ages), what is stored there per storage class, the noncurrent versions retained. Flags what costs money
silently: a zone no rule covers (kept forever in its first storage class), noncurrent versions no rule
expires (kept forever), disabled rules, incomplete multipart uploads never aborted.
"""

from __future__ import annotations

from typing import Any

from functions.core.catalog import Catalog
from functions.maintenance.models import LifecycleReview, RuleSummary, StorageClassCount, ZoneReview
from functions.maintenance.ports import StoragePort, VersionTally


def rule_prefix(rule: dict[str, Any]) -> str:
    """The key prefix a rule filters on (Filter.Prefix, Filter.And.Prefix or the legacy Prefix); '' = all."""
    flt = rule.get("Filter") or {}
    if "Prefix" in flt:
        return str(flt["Prefix"] or "")
    if "And" in flt:
        return str(flt["And"].get("Prefix") or "")
    return str(rule.get("Prefix") or "")


def applies_to(rule: dict[str, Any], zone_prefix: str) -> bool:
    """A rule covers (part of) a zone when its prefix contains the zone or lies inside it."""
    prefix = rule_prefix(rule)
    return zone_prefix.startswith(prefix) or prefix.startswith(zone_prefix)


def summarise(rule: dict[str, Any]) -> RuleSummary:
    expiration = rule.get("Expiration") or {}
    noncurrent_exp = rule.get("NoncurrentVersionExpiration") or {}
    abort = rule.get("AbortIncompleteMultipartUpload") or {}
    return RuleSummary(
        id=str(rule.get("ID") or "(no id)"),
        status=str(rule.get("Status", "?")),
        prefix=rule_prefix(rule),
        transitions=[f"{t.get('Days', '?')} d -> {t.get('StorageClass')}" for t in rule.get("Transitions", [])],
        expiration_days=expiration.get("Days"),
        noncurrent_transitions=[f"{t.get('NoncurrentDays', '?')} d -> {t.get('StorageClass')}"
                                for t in rule.get("NoncurrentVersionTransitions", [])],
        noncurrent_expiration_days=noncurrent_exp.get("NoncurrentDays"),
        abort_multipart_days=abort.get("DaysAfterInitiation"),
    )


def _flags(versioning: str, rules: list[RuleSummary], tally: VersionTally) -> list[str]:
    enabled = [r for r in rules if r.status == "Enabled"]
    flags = [f"rule {r.id} is {r.status}: it does nothing" for r in rules if r.status != "Enabled"]
    if not enabled:
        flags.append("no lifecycle rule: every object is kept forever in its first storage class")
    elif not any(r.transitions or r.expiration_days for r in enabled):
        flags.append("no transition or expiration for current objects: kept forever")
    if versioning != "Disabled" and not any(r.noncurrent_expiration_days for r in enabled):
        retained = f" ({tally.noncurrent.objects} retained now, {_size(tally.noncurrent.bytes)})"
        flags.append("noncurrent versions kept forever: no NoncurrentVersionExpiration" + retained)
    if enabled and not any(r.abort_multipart_days for r in enabled):
        flags.append("incomplete multipart uploads are never aborted (no AbortIncompleteMultipartUpload)")
    if tally.partial:
        flags.append("counts are partial: the zone has more versions than the review lists (use S3 Inventory)")
    return flags


def review(catalog: Catalog, storage: StoragePort) -> LifecycleReview:
    bucket = catalog.s3.name
    versioning = storage.versioning(bucket)
    rules = storage.lifecycle_rules(bucket)
    zones, all_flags = [], []
    for zone, prefix in sorted(catalog.s3.zones.items(), key=lambda z: z[1]):
        applying = [summarise(r) for r in rules if applies_to(r, prefix)]
        tally = storage.versions(bucket, prefix, catalog.maintenance.lifecycle_max_versions_per_zone)
        flags = _flags(versioning, applying, tally)
        zones.append(ZoneReview(
            zone=zone, prefix=prefix, rules=applying,
            current=[StorageClassCount(storage_class=name, objects=t.objects, bytes=t.bytes)
                     for name, t in sorted(tally.current.items())],
            noncurrent_versions=tally.noncurrent.objects, noncurrent_bytes=tally.noncurrent.bytes,
            delete_markers=tally.delete_markers, partial=tally.partial, flags=flags))
        all_flags += [f"{zone} ({prefix}): {flag}" for flag in flags]
    return LifecycleReview(bucket=bucket, versioning=versioning, zones=zones, flags=all_flags)


def _size(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def render(catalog: Catalog, report: LifecycleReview, period: str) -> tuple[str, str]:
    subject = f"[{catalog.prefix}] lifecycle review {period}: {len(report.flags)} finding(s) on {report.bucket}"
    lines = [f"S3 lifecycle review of {report.bucket} ({period}), versioning {report.versioning.lower()}", ""]
    for zone in report.zones:
        stored = ", ".join(f"{c.storage_class} {c.objects} objects {_size(c.bytes)}" for c in zone.current) or "empty"
        lines.append(f"ZONE {zone.zone} ({zone.prefix}): {stored}; {zone.noncurrent_versions} noncurrent versions "
                     f"({_size(zone.noncurrent_bytes)}), {zone.delete_markers} delete markers")
        for rule in zone.rules:
            ages = ", ".join([*rule.transitions, *([f"expire {rule.expiration_days} d"] if rule.expiration_days
                                                   else []),
                              *[f"noncurrent {t}" for t in rule.noncurrent_transitions],
                              *([f"noncurrent expire {rule.noncurrent_expiration_days} d"]
                                if rule.noncurrent_expiration_days else [])]) or "no ages"
            lines.append(f"  rule {rule.id} [{rule.status}] on '{rule.prefix}': {ages}")
        lines += [f"  ! {flag}" for flag in zone.flags]
    if not report.flags:
        lines += ["", "Every zone has its rules; nothing is kept forever."]
    return subject, "\n".join(lines) + "\n"
