"""Weekly review (runbook "Weekly: Review CloudWatch metrics and alarms"), decided from facts only.

Per pipeline: which alarms fired and for how long (alarm history), what the playbooks did about them and
with what outcome (audit trail), how long from an alarm to its verified recovery. Across the service: the
alarms that never fired or fire constantly (threshold candidates), and the backup posture.

A pipeline is a topic and everything downstream of it in the catalog's lineage (its streaming job, landing
prefix, batch job, table). Components shared by several pipelines or by none (the MSK cluster, the Redshift
cluster) make up "platform".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.core.catalog import Catalog
from functions.core.naming import parse_alarm_name
from functions.maintenance.models import (
    AlarmWeek,
    PipelineWeek,
    PlaybookOutcomes,
    PostureLine,
    PromotionCandidate,
    Recovery,
    ThresholdCandidate,
    WeeklyReview,
)
from functions.maintenance.ports import AlarmInfo, AlarmTransition, AuditRecord

PLATFORM = "platform"
POSTURE_SIGNAL = "posture"

# Outcome status of a remediation (functions.core.models.OutcomeStatus) -> the review's column.
CATEGORY = {
    "REMEDIATED": "verified",
    "ESCALATED": "failed",
    "FAILED": "failed",
    "REFUSED": "refused",
    "AWAITING_APPROVAL": "awaiting_approval",
    "RECOMMENDED": "recommended",
    "ACTED": "unverified",
    "NO_ACTION": "no_action",
}
MAIN_COLUMNS = ("verified", "failed", "refused", "awaiting_approval")


def pipelines(catalog: Catalog) -> dict[str, set[str]]:
    """Pipeline name (its topic) -> its components; `platform` gets what belongs to none or to several."""
    feeds: dict[str, set[str]] = defaultdict(set)
    for edge in catalog.lineage:
        feeds[edge.upstream].add(edge.downstream)
    found: dict[str, set[str]] = {}
    for topic in catalog.msk.topics:
        members, frontier = {f"topic:{topic.name}"}, [f"topic:{topic.name}"]
        for job in catalog.glue_jobs:
            if job.streaming and job.topic == topic.name:
                frontier.append(f"glue:{job.name}")
                members.add(f"glue:{job.name}")
        while frontier:
            for downstream in feeds.get(frontier.pop(), set()):
                if downstream not in members:
                    members.add(downstream)
                    frontier.append(downstream)
        found[topic.name] = members
    shared = {c for name, members in found.items() for c in members
              if any(c in other for o, other in found.items() if o != name)}
    result = {name: members - shared for name, members in found.items()}
    result[PLATFORM] = set(catalog.components) - set().union(*result.values())
    return result


def _pipeline_of(component: str, groups: dict[str, set[str]]) -> str:
    return next((name for name, members in groups.items() if component in members), PLATFORM)


@dataclass
class _Episode:
    fired: int = 0
    minutes: float = 0.0
    longest: float = 0.0
    in_alarm_at_end: bool = False


def alarm_episodes(alarm: AlarmInfo, transitions: list[AlarmTransition], start: datetime,
                   end: datetime) -> _Episode:
    """Fires and time in ALARM within [start, end), from the alarm's state changes (oldest first)."""
    changes = sorted((t for t in transitions if start <= t.at < end), key=lambda t: t.at)
    if changes:
        state = changes[0].old
    elif alarm.state_since is not None and alarm.state_since >= end:
        state = "OK"  # changed after the window; nothing known about it within: assume it was quiet
    else:
        state = alarm.state
    episode, since = _Episode(), start
    for change in changes:
        if state == "ALARM" and change.new != "ALARM":
            _close(episode, since, change.at)
        if change.new == "ALARM" and state != "ALARM":
            episode.fired += 1
            since = change.at
        state = change.new
    if state == "ALARM":
        _close(episode, since, end)
        episode.in_alarm_at_end = True
    return episode


def _close(episode: _Episode, since: datetime, until: datetime) -> None:
    minutes = (until - since).total_seconds() / 60
    episode.minutes += minutes
    episode.longest = max(episode.longest, minutes)


@dataclass
class _Incident:
    incident_id: str
    component: str | None = None
    playbook: str | None = None
    state: str | None = None
    status: str | None = None
    recovery_minutes: float | None = None
    duplicates: int = 0


def _incidents(records: list[AuditRecord], prefix: str) -> list[_Incident]:
    by_id: dict[str, _Incident] = {}
    for record in sorted(records, key=lambda r: (r.at, r.seq)):
        incident = by_id.setdefault(record.incident_id, _Incident(record.incident_id))
        payload: dict[str, Any] = record.payload
        if record.kind == "incident":
            incident.component = str(payload.get("resource") or "") or None
            incident.playbook = payload.get("playbook")
            incident.state = payload.get("state")
            changed, previous = payload.get("changed_at"), payload.get("previous_changed_at")
            if incident.state == "OK" and changed and previous:
                incident.recovery_minutes = max(0.0, (_parse(changed) - _parse(previous)).total_seconds() / 60)
        elif record.kind == "outcome":
            incident.status = payload.get("status")
        elif record.kind == "duplicate":
            incident.duplicates += 1
    for incident in by_id.values():
        if incident.component is None:  # only a duplicate was recorded this week: the id names the alarm
            parsed = parse_alarm_name(incident.incident_id.split("@", 1)[0], prefix)
            incident.component = parsed.component if parsed else None
    return list(by_id.values())


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def review(catalog: Catalog, start: datetime, end: datetime, records: list[AuditRecord], alarms: list[AlarmInfo],
           transitions: dict[str, list[AlarmTransition]], posture_last_checked: str | None) -> WeeklyReview:
    groups = pipelines(catalog)
    weeks = {name: PipelineWeek(name=name, components=sorted(members)) for name, members in groups.items()}
    week_minutes = (end - start).total_seconds() / 60
    rails = catalog.maintenance
    candidates: list[ThresholdCandidate] = []
    posture: list[PostureLine] = []
    for alarm in sorted(alarms, key=lambda a: a.name):
        parsed = parse_alarm_name(alarm.name, catalog.prefix)
        if parsed is None:
            continue
        episode = alarm_episodes(alarm, transitions.get(alarm.name, []), start, end)
        if parsed.signal == POSTURE_SIGNAL:
            promise, _, resource = parsed.component.partition(":")
            posture.append(PostureLine(alarm_name=alarm.name, promise=promise, resource=resource,
                                       state=alarm.state, fired=episode.fired,
                                       minutes_in_alarm=round(episode.minutes, 1)))
            continue
        percent = round(100 * episode.minutes / week_minutes, 1) if week_minutes else 0.0
        line = AlarmWeek(alarm_name=alarm.name, signal=parsed.signal, component=parsed.component,
                         fired=episode.fired, minutes_in_alarm=round(episode.minutes, 1),
                         longest_minutes=round(episode.longest, 1), percent_of_week=percent,
                         in_alarm_at_end=episode.in_alarm_at_end)
        if episode.fired or episode.minutes:
            weeks[_pipeline_of(parsed.component, groups)].alarms.append(line)
        # A composite alarm has no threshold of its own: its children are the candidates.
        candidate = None if alarm.composite else _threshold_candidate(line, rails.noisy_alarm_transitions,
                                                                      rails.noisy_alarm_percent)
        if candidate:
            candidates.append(candidate)
    _remediations(weeks, groups, _incidents(records, catalog.prefix))
    shown = [w for w in weeks.values() if w.alarms or w.remediations or w.duplicates or w.recovery.count]
    return WeeklyReview(window_start=start, window_end=end, pipelines=shown, threshold_candidates=candidates,
                        posture=posture, posture_last_checked=posture_last_checked,
                        posture_summary=posture_summary(posture, posture_last_checked),
                        promotions=promotions(catalog, records))


def promotions(catalog: Catalog, records: list[AuditRecord]) -> list[PromotionCandidate]:
    """Earned autonomy: actions with N verified approvals in a row and no failure this week (recommended only:
    a person promotes with `remedy mode set`, which records who)."""
    from functions.core.autonomy import promotion_candidates

    return [PromotionCandidate(key=p.key, verified=p.verified, incidents=p.incidents, command=p.command)
            for p in promotion_candidates(catalog, records)]


def _threshold_candidate(line: AlarmWeek, noisy_fires: int, noisy_percent: float) -> ThresholdCandidate | None:
    if line.fired == 0 and line.minutes_in_alarm == 0:
        return ThresholdCandidate(alarm_name=line.alarm_name, kind="never_fired",
                                  reason="never fired this week: check the threshold still catches a real problem")
    if line.fired >= noisy_fires:
        return ThresholdCandidate(alarm_name=line.alarm_name, kind="fires_constantly",
                                  reason=f"fired {line.fired} times this week: threshold too tight, or a standing "
                                         f"problem to fix at its cause")
    if line.percent_of_week >= noisy_percent:
        return ThresholdCandidate(alarm_name=line.alarm_name, kind="fires_constantly",
                                  reason=f"in ALARM {line.percent_of_week:.0f}% of the week: nobody can act on an "
                                         f"alarm that is always on")
    return None


def _remediations(weeks: dict[str, PipelineWeek], groups: dict[str, set[str]], incidents: list[_Incident]) -> None:
    tallies: dict[tuple[str, str], PlaybookOutcomes] = {}
    recoveries: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for incident in incidents:
        pipeline = _pipeline_of(incident.component or "", groups)
        weeks[pipeline].duplicates += incident.duplicates
        if incident.recovery_minutes is not None and incident.status == "RECOVERED":
            recoveries[pipeline].append((incident.recovery_minutes, incident.incident_id))
        column = CATEGORY.get(incident.status or "")
        if column is None or incident.playbook is None:
            continue
        key = (pipeline, incident.playbook)
        if key not in tallies:
            tallies[key] = PlaybookOutcomes(playbook=incident.playbook)
            weeks[pipeline].remediations.append(tallies[key])
        tally = tallies[key]
        if column in MAIN_COLUMNS:
            setattr(tally, column, getattr(tally, column) + 1)
        else:
            tally.other[column] = tally.other.get(column, 0) + 1
    for pipeline, times in recoveries.items():
        worst = max(times)
        weeks[pipeline].recovery = Recovery(count=len(times),
                                            median_minutes=round(statistics.median(t for t, _ in times), 1),
                                            worst_minutes=round(worst[0], 1), worst_incident=worst[1])
    for week in weeks.values():
        week.remediations.sort(key=lambda t: t.playbook)


def posture_summary(lines: list[PostureLine], last_checked: str | None) -> str:
    if last_checked is None:
        return "no posture check reported this week: the daily posture job is not running (check its schedule)"
    broken = [line for line in lines if line.state == "ALARM"]
    if broken:
        names = ", ".join(f"{line.promise} {line.resource}" for line in broken)
        return f"{len(broken)} of {len(lines)} backup promises broken now: {names} (last checked {last_checked})"
    flapped = [line for line in lines if line.fired]
    if flapped:
        names = ", ".join(f"{line.promise} {line.resource}" for line in flapped)
        return (f"all {len(lines)} backup promises kept now; broken during the week: {names} "
                f"(last checked {last_checked})")
    return f"all {len(lines)} backup promises kept (last checked {last_checked})"


# --- the text a person reads -------------------------------------------------------------------------

def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 120:
        return f"{value / 60:.1f} h"
    return f"{value:.0f} min"


def render(catalog: Catalog, report: WeeklyReview, period: str) -> tuple[str, str]:
    subject = f"[{catalog.prefix}] weekly review: week ending {period}"
    lines = [f"Weekly review of {catalog.prefix}, {report.window_start:%Y-%m-%d %H:%M} to "
             f"{report.window_end:%Y-%m-%d %H:%M} UTC", ""]
    if not report.pipelines:
        lines.append("No alarm fired and no playbook ran this week.")
    for week in report.pipelines:
        lines.append(f"PIPELINE {week.name}")
        for alarm in week.alarms:
            now = ", still in ALARM" if alarm.in_alarm_at_end else ""
            lines.append(f"  alarm {alarm.alarm_name}: fired {alarm.fired}x, {_minutes(alarm.minutes_in_alarm)} in "
                         f"ALARM (longest {_minutes(alarm.longest_minutes)}){now}")
        for tally in week.remediations:
            lines.append(f"  {tally.playbook}: {outcome_counts(tally)}")
        if week.duplicates:
            lines.append(f"  {_count(week.duplicates, 'duplicate delivery', 'duplicate deliveries')} answered "
                         f"without acting again")
        if week.recovery.count:
            lines.append(f"  alarm to verified recovery: median {_minutes(week.recovery.median_minutes)}, worst "
                         f"{_minutes(week.recovery.worst_minutes)} "
                         f"({_count(week.recovery.count, 'recovery', 'recoveries')})")
    lines += ["", "THRESHOLD CANDIDATES", *_candidate_lines(catalog, report.threshold_candidates)]
    lines += ["", "BACKUP AND RECOVERY POSTURE", f"  {report.posture_summary}"]
    lines += ["", "READY FOR AUTO (earned autonomy: a person decides)"]
    lines += [f"  {p.key}: {p.verified} verified approvals in a row, no failure: {p.command}"
              for p in report.promotions] or ["  none"]
    return subject, "\n".join(lines) + "\n"


def _candidate_lines(catalog: Catalog, candidates: list[ThresholdCandidate]) -> list[str]:
    lines = [f"  {c.alarm_name}: {c.reason}" for c in candidates if c.kind == "fires_constantly"]
    quiet: dict[str, list[str]] = defaultdict(list)
    for c in candidates:
        if c.kind == "never_fired":
            parsed = parse_alarm_name(c.alarm_name, catalog.prefix)
            quiet[parsed.signal if parsed else "?"].append(parsed.component if parsed else c.alarm_name)
    if quiet:
        lines.append("  never fired this week (is the threshold still catching a real problem?):")
        lines += [f"    {signal}: {', '.join(components)}" for signal, components in sorted(quiet.items())]
    return lines or ["  none"]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def outcome_counts(tally: PlaybookOutcomes) -> str:
    parts = [f"{tally.verified} verified", f"{tally.failed} failed", f"{tally.refused} refused",
             f"{tally.awaiting_approval} awaiting approval"]
    parts += [f"{count} {name.replace('_', ' ')}" for name, count in sorted(tally.other.items())]
    return ", ".join(parts)
