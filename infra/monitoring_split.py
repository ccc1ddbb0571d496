"""Where the monitoring goes when one stack cannot hold it (docs/scale.md).

One pipeline brings about 15 alarms and composites; CloudFormation takes 500 resources and a 1 MB template per
stack. Up to PIPELINES_PER_STACK pipelines everything stays in `<prefix>-monitoring` as before. Beyond:

- `<prefix>-monitoring` keeps the probes, the bucket metrics, the platform's alarms (MSK, Redshift, the bucket's
  zones) and the service-wide dashboards (platform widgets, remediation);
- `<prefix>-monitoring-<NN>` (one per group of PIPELINES_PER_STACK pipelines, in catalog order) holds the alarms
  and composites of its pipelines' components and its own msk/glue/redshift/s3 dashboards
  (`<prefix>-<concern>-<NN>`); it depends on the first (its composites read the broker alarms);
- `<prefix>-monitoring-outage` holds the outage count (infra/outage.py) over every group's pipeline composites;
  it depends on the group stacks.

A rule in another stack reads an alarm by its ARN (built from its fixed name), never by an export: exports pin
the alarm and block the moves a regrouping makes. The upstream composites of one group read the platform's causes
through one composite per group (`<prefix>/composite-platform-causes/group-<NN>`), so a broker alarm is read by a
composite per group, not by three per pipeline (an alarm may be in at most 150 composite rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from functions.core.catalog import Catalog
from functions.core.naming import OUTAGE_SIGNAL, alarm_name
from functions.maintenance.weekly import PLATFORM, pipelines
from infra.outage import TIER_SIGNAL
from infra.signals import AlarmSpec, CompositeSpec, alarm_specs, composite_specs, service_composite_specs

PIPELINES_PER_STACK = 16  # ~15 resources and ~35 KB of template each: ~250 resources, well under 1 MB
PLATFORM_CAUSES_SIGNAL = "composite-platform-causes"


@dataclass
class Part:
    """What one monitoring stack holds."""

    name: str  # the stack name's suffix ("" for <prefix>-monitoring)
    alarms: list[AlarmSpec] = field(default_factory=list)
    composites: list[CompositeSpec] = field(default_factory=list)
    catalog: Catalog | None = None  # the catalog its dashboards show (None: no per-pipeline dashboards)


def pipeline_groups(catalog: Catalog) -> list[list[str]]:
    """Pipelines in groups of PIPELINES_PER_STACK, in catalog order; [] when one stack holds them all."""
    names = [p for p in pipelines(catalog) if p != PLATFORM]
    if len(names) <= PIPELINES_PER_STACK:
        return []
    return [names[i:i + PIPELINES_PER_STACK] for i in range(0, len(names), PIPELINES_PER_STACK)]


def group_catalog(catalog: Catalog, members: set[str]) -> Catalog:
    """The catalog narrowed to these components' jobs and landing prefixes (for a group's dashboards)."""
    jobs = [j for j in catalog.glue_jobs if f"glue:{j.name}" in members]
    prefixes = [p for p in catalog.s3.landing_prefixes if f"s3:{p}" in members]
    return catalog.model_copy(update={"glue_jobs": jobs,
                                      "s3": catalog.s3.model_copy(update={"landing_prefixes": prefixes})})


def split(catalog: Catalog) -> list[Part]:
    """The parts, in deployment order (the first is <prefix>-monitoring)."""
    alarms = alarm_specs(catalog)
    composites = [*composite_specs(catalog), *service_composite_specs(catalog)]
    groups = pipeline_groups(catalog)
    if not groups:
        return [Part("", alarms, composites, catalog)]
    membership = pipelines(catalog)
    main = Part("", catalog=group_catalog(catalog, set()))
    parts = [main]
    group_of: dict[str, Part] = {}
    for index, group in enumerate(groups, start=1):
        members = set().union(*(membership[p] for p in group)) | set(group)
        part = Part(f"{index:02d}", catalog=group_catalog(catalog, members))
        parts.append(part)
        for component in members:
            group_of[component] = part
    outage = Part("outage")
    for spec in alarms:
        group_of.get(spec.component, main).alarms.append(spec)
    platform_alarms = {s.name for s in main.alarms}
    for composite in composites:
        part = group_of.get(composite.component)
        if part is None:  # the outage count reads every group; anything else of the platform stays in the first
            part = outage if composite.signal in (OUTAGE_SIGNAL, TIER_SIGNAL) else main
        part.composites.append(composite)
    for part in parts[1:]:
        _platform_causes_through_one_composite(catalog, part, platform_alarms)
    return [*parts, outage] if outage.composites else parts


def _platform_causes_through_one_composite(catalog: Catalog, part: Part, platform: set[str]) -> None:
    read = sorted({a for c in part.composites for a in c.alarms if a in platform})
    if not read:
        return
    causes = CompositeSpec(
        name=alarm_name(catalog.prefix, PLATFORM_CAUSES_SIGNAL, f"group-{part.name}"),
        signal=PLATFORM_CAUSES_SIGNAL, component=f"group-{part.name}",
        description=(f"In ALARM while any platform alarm upstream of the pipelines of monitoring group {part.name} "
                     f"is ({len(read)} alarms: the brokers' health). Read by the group's upstream composites "
                     f"instead of each broker alarm (an alarm may be in at most 150 composite rules). No actions: "
                     f"those alarms page. Runbook: Monitoring"),
        alarms=tuple(read), pages=False)
    def through_causes(composite: CompositeSpec) -> CompositeSpec:
        if composite.at_least == 1 and not composite.terms and any(a in platform for a in composite.alarms):
            return replace(composite, alarms=(causes.name, *(a for a in composite.alarms if a not in platform)))
        return composite

    part.composites = [causes, *(through_causes(c) for c in part.composites)]
