"""Runbook: "Data Quality Issues" (triggered by the landing-zone freshness alarm of a landing prefix, or by its
quality-check alarm: failed staging quality flags of the batch partitions read from it, counted by the freshness
probe, functions/probes/quality.py).

1. Check source data                  -> did data arrive under the landing prefix within the freshness
                                         window (the newest object, listed from the window's start only)?
                                         Is the upstream streaming job (catalog lineage) running? When it is
                                         down, the MSK consumer lag playbook owns the fix: nothing here.
2. Check staging data quality flags   -> for the newest partitions the batch job reading this prefix ran:
   Review validation rules               <quality_flags_prefix><job>/<partition>.json, {"passed": bool,
                                         "failed_rules": [...]} (the rules that failed are named)
3. Re-run batch jobs if needed        -> data arrived but the batch run of a partition failed (transiently) or
                                         its quality flags failed: re-run that partition only, under the safe
                                         re-run rule. Overwriting a partition replaces data, so the action is
                                         destructive and waits for a person unless the catalog says otherwise.
"""

from __future__ import annotations

from datetime import timedelta

from functions.actions.glue import arguments_option  # importing it registers the actions planned here
from functions.core.alarms import AlarmSpec, metric
from functions.core.catalog import Catalog, GlueJob
from functions.core.models import Action, ActionResult, Finding, Incident, Plan, Verification, VerificationStatus
from functions.core.naming import alarm_name, signal_prefix
from functions.core.ports import JobRun, PlaybookPorts
from functions.playbooks import PlaybookDeclaration
from functions.playbooks._rerun import BOOKMARK_DISABLED, BOOKMARK_OPTION, RerunFacts, refusal, why_safe
from functions.playbooks.glue_job_failure import FAILED_STATES, classify, verify_new_run
from functions.probes.metrics import LANDING_AGE, NAMESPACE, QUALITY_FAILURES
from functions.probes.quality import PARTITIONS_CHECKED, batch_jobs_by_prefix

RECENT_RUNS = 5
QUALITY_SIGNAL = "quality-check-failures"
# PARTITIONS_CHECKED (functions.probes.quality): the newest partitions of the batch job whose runs and flags are
# examined, the same number the quality-check alarm counts failures in.


class DataQuality:
    name = "data_quality"

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: PlaybookPorts) -> Plan:
        prefix = incident.resource.removeprefix("s3:")
        if not incident.resource.startswith("s3:") or prefix not in catalog.s3.landing_prefixes:
            return Plan(playbook=self.name, recommendations=[
                f"{incident.resource} is not a landing prefix of the catalog: check {incident.alarm_name}; "
                f"nothing was changed."])
        # Called for failed quality flags (not for stale landing data): the partitions already landed and were
        # loaded, so whether data lands now and whether the stream runs are reported, but decide nothing (a
        # stream that is down is the lag playbook's, and the lineage hold keeps the re-run waiting meanwhile).
        flags_alarm = incident.alarm_name.startswith(signal_prefix(catalog.prefix, QUALITY_SIGNAL))
        bucket = catalog.s3.name
        window = catalog.thresholds.landing_freshness_minutes
        since = incident.changed_at - timedelta(minutes=window)
        start_after = prefix + since.strftime(catalog.s3.landing_partition_format)
        newest = ports.s3.newest_object(bucket, prefix, start_after)
        arrived = newest is not None and newest.last_modified >= since
        findings = [Finding(check="source data in landing", ok=arrived, detail=(
            f"newest object s3://{bucket}/{newest.key} at {newest.last_modified:%H:%M}Z "
            f"({_relative(newest.last_modified - incident.changed_at)} the alarm)" if newest and arrived
            else f"nothing new under s3://{bucket}/{prefix} within the last {window} min "
                 f"(listed from {start_after})"))]

        for job in self._upstream_streaming_jobs(catalog, incident.resource):
            runs = ports.glue.recent_runs(job.name, limit=1)
            if runs and runs[0].active:
                findings.append(Finding(check="upstream streaming job", ok=True,
                                        detail=f"{job.name} is {runs[0].state} ({runs[0].id})"))
                continue
            last = f"last run {runs[0].id} {runs[0].state}" + (f": {runs[0].error}" if runs[0].error else "") \
                if runs else "no run on record"
            findings.append(Finding(check="upstream streaming job", ok=False, component=f"glue:{job.name}",
                                    detail=f"{job.name} is not running ({last})"))
            if flags_alarm:
                continue
            return Plan(playbook=self.name, findings=findings, recommendations=[
                f"upstream streaming job {job.name} is down: the msk_consumer_lag playbook restarts it (alarm "
                f"{catalog.prefix}/consumer-lag/glue:{job.name}) and the lineage hold keeps everything downstream "
                f"waiting; nothing was done here."])
        if not arrived and not flags_alarm:
            topics = ", ".join(j.topic for j in self._upstream_streaming_jobs(catalog, incident.resource) if j.topic)
            return Plan(playbook=self.name, findings=findings, recommendations=[
                f"source data did not arrive: nothing landed under {prefix} for {window} min although the "
                f"streaming job runs. Check the source (the producers of topic {topics or '?'}): a re-run has "
                f"nothing to process; nothing was changed."])

        actions: list[Action] = []
        recommendations: list[str] = []
        for job in [j for j in catalog.glue_jobs if not j.streaming and j.reads_prefix == prefix]:
            affected = self._affected_partitions(job, catalog, ports, findings, recommendations)
            if affected:
                partition, why = affected[0]
                actions.append(self._rerun(job, partition, why, findings, arrived=not flags_alarm))
                recommendations += [f"partition {p} of {job.name} ({w}) needs a re-run too, after this one: "
                                    f"aws glue start-job-run --job-name {job.name}"
                                    f"{arguments_option(_rerun_arguments(job, p))}" for p, w in affected[1:]]
        if not actions and not recommendations and flags_alarm:
            recommendations.append(f"the recent batch partitions read from {prefix} have passing quality flags "
                                   f"now (rewritten since the probe counted them): nothing to re-run; "
                                   f"{incident.alarm_name} returns to OK at the probe's next run.")
        elif not actions and not recommendations:
            recommendations.append(f"data arrived under {prefix} and the recent batch partitions loaded with "
                                   f"passing quality flags: nothing to re-run; freshness is restored when "
                                   f"{incident.alarm_name} returns to OK.")
        return Plan(playbook=self.name, findings=findings, actions=actions, recommendations=recommendations)

    @staticmethod
    def _upstream_streaming_jobs(catalog: Catalog, component: str) -> list[GlueJob]:
        names = [c.removeprefix("glue:") for c in catalog.upstream_of(component) if c.startswith("glue:")]
        return [j for j in catalog.glue_jobs if j.name in names and j.streaming]

    def _affected_partitions(self, job: GlueJob, catalog: Catalog, ports: PlaybookPorts, findings: list[Finding],
                             recommendations: list[str]) -> list[tuple[str, str]]:
        """Newest first: (partition, why it needs a re-run) for the newest partitions the job ran."""
        latest: dict[str, JobRun] = {}
        for run in ports.glue.recent_runs(job.name, limit=RECENT_RUNS):
            partition = run.arguments.get(job.partition_argument)
            if partition and partition not in latest and len(latest) < PARTITIONS_CHECKED:
                latest[partition] = run
        if not latest:
            findings.append(Finding(check="batch partitions", ok=True,
                                    detail=f"{job.name} has no recent run with a {job.partition_argument} argument"))
        affected = []
        for partition, run in latest.items():
            if run.state in FAILED_STATES:
                cause = classify([run.error], run.state)
                findings.append(Finding(check="batch run", ok=False, detail=(
                    f"{job.name} partition {partition}: run {run.id} {run.state} ({cause.label}: {cause.evidence})")))
                if cause.transient:
                    affected.append((partition, f"its run {run.id} {run.state} ({cause.label})"))
                else:
                    recommendations.append(f"partition {partition} of {job.name} failed ({cause.label}): fix "
                                           f"it first (the glue_job_failure playbook reported it); not re-run.")
                continue
            if run.state != "SUCCEEDED":
                findings.append(Finding(check="batch run", ok=True,
                                        detail=f"{job.name} partition {partition}: run {run.id} {run.state}"))
                continue
            key = catalog.s3.quality_flags_key(job.name, partition)
            flags = ports.s3.read_json(catalog.s3.name, key)
            if flags is None:
                findings.append(Finding(check="quality flags", ok=True,
                                        detail=f"{job.name} partition {partition}: loaded; no flags at {key}"))
                continue
            rules = [str(r)[:120] for r in flags.get("failed_rules", []) if r][:10]
            passed = flags.get("passed") is True
            findings.append(Finding(check="quality flags", ok=passed, detail=(
                f"{job.name} partition {partition}: quality flags "
                + ("passed" if passed else f"FAILED ({', '.join(rules) or 'no rule named'})") + f" ({key})")))
            if not passed:
                affected.append((partition, f"its quality flags failed: {', '.join(rules) or 'no rule named'}"))
        return affected

    def _rerun(self, job: GlueJob, partition: str, why: str, findings: list[Finding],
               arrived: bool = True) -> Action:
        # The re-run's bookmark is off (see glue.rerun_partition), so only the write mode makes it safe.
        facts = RerunFacts(job=job.name, loads=job.loads_table or job.writes_prefix or job.name,
                           write_mode=job.write_mode, partition_argument=job.partition_argument,
                           partition=partition, bookmark=False, plain_retry=False)
        unsafe = refusal(facts)
        findings.append(Finding(check="safe re-run", ok=unsafe is None, detail=unsafe or why_safe(facts)))
        return Action(name="glue.rerun_partition", target=f"glue:{job.name}",
                      params={"job_name": job.name, "partition_argument": job.partition_argument,
                              "partition": partition, "rerun": facts.model_dump()},
                      reason=f"{'data arrived, but ' if arrived else ''}partition {partition} of {job.name}: "
                             f"{why}; re-run that partition only")

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: PlaybookPorts) -> Verification:
        """The re-run must have SUCCEEDED (functions.playbooks.glue_job_failure.verify_new_run) and the
        partition's quality flags, which the batch job writes again, must pass: that is the data quality the
        re-run was for. Flags still failing after a successful re-run: FAILED, a person looks at the data."""
        params = results[-1].action.params
        job, partition = str(params.get("job_name", "")), str(params.get("partition", ""))
        verification = verify_new_run(job, results, ports, catalog)
        if verification.status is not VerificationStatus.VERIFIED or not partition:
            return verification
        key = catalog.s3.quality_flags_key(job, partition)
        flags = ports.s3.read_json(catalog.s3.name, key)
        if flags is None:
            return Verification(status=VerificationStatus.VERIFIED,
                                detail=f"{verification.detail}; no quality flags at {key}")
        if flags.get("passed") is True:
            return Verification(status=VerificationStatus.VERIFIED,
                                detail=f"{verification.detail}; quality flags of partition {partition} passed")
        rules = ", ".join(str(r)[:120] for r in flags.get("failed_rules", []) if r) or "no rule named"
        return Verification(status=VerificationStatus.FAILED,
                            detail=f"{verification.detail}, but the quality flags of partition {partition} still "
                                   f"fail ({rules}; {key})")


def _rerun_arguments(job: GlueJob, partition: str) -> dict[str, str]:
    return {job.partition_argument: partition, BOOKMARK_OPTION: BOOKMARK_DISABLED}


def _relative(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    return f"{minutes} min {'after' if delta.total_seconds() > 0 else 'before'}"


# --- The declaration: what CDK, the catalog and the docs derive from (functions/playbooks/__init__.py) ------

def landing_freshness_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Runbook 'Key Metrics to Monitor' 4: the landing zone should have data within the last hour."""
    minutes = catalog.thresholds.landing_freshness_minutes
    specs = []
    for prefix in catalog.s3.landing_prefixes:
        component = f"s3:{prefix}"
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, "landing-freshness", component),
            signal="landing-freshness",
            component=component,
            description=(f"Age of the newest object under s3://{catalog.s3.name}/{prefix}, measured every 5 "
                         f"minutes by the freshness probe. Runbook: Monitoring / Key Metrics to Monitor: Data "
                         f"Freshness (landing zone should have data within the last {minutes} minutes); "
                         f"remediated by playbook data_quality"),
            # One probe run per 5 minutes (its schedule) = one datapoint per period.
            metric=metric(NAMESPACE, LANDING_AGE, {"Bucket": catalog.s3.name, "Prefix": prefix}, "Maximum", 300),
            threshold=minutes,
            # "Within the last hour": exactly 60 minutes old is still fresh.
            comparison="GreaterThanThreshold",
            # One datapoint over is already an hour without data (the age only grows until data lands):
            # waiting for more periods would only add delay.
            evaluation_periods=1, datapoints_to_alarm=1,
            # A missing datapoint means the probe did not run (an empty prefix is published as very old):
            # a skipped run says nothing about the data, so the alarm keeps its state.
            treat_missing_data="ignore",
            title=f"Landing age (minutes): {prefix}",
        ))
    return specs


def quality_check_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Runbook 'Data Quality Issues' 1: the staging zone's data quality flags, per landing prefix a batch job reads
    (a prefix no batch job reads has no flags: no alarm)."""
    specs = []
    for prefix, jobs in batch_jobs_by_prefix(catalog).items():
        component = f"s3:{prefix}"
        names = ", ".join(j.name for j in jobs)
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, QUALITY_SIGNAL, component),
            signal=QUALITY_SIGNAL,
            component=component,
            description=(f"Partitions read from s3://{catalog.s3.name}/{prefix} whose staging quality flags failed "
                         f"(the newest {PARTITIONS_CHECKED} of {names}), read every 5 minutes by the freshness "
                         f"probe. Runbook: Common Issues / Data Quality Issues (check staging zone data quality "
                         f"flags; re-run batch jobs if needed); remediated by playbook data_quality"),
            # One probe run per 5 minutes (its schedule) = one datapoint per period; the worst count of the period.
            metric=metric(NAMESPACE, QUALITY_FAILURES, {"Bucket": catalog.s3.name, "Prefix": prefix}, "Maximum",
                          300),
            # Any failed partition is bad data loaded into the table.
            threshold=0,
            comparison="GreaterThanThreshold",
            # One datapoint: the flags are the batch job's verdict, written once per load and not noisy; a second
            # period would only add 5 minutes of bad data in the table.
            evaluation_periods=1, datapoints_to_alarm=1,
            # A missing datapoint means the probe did not run (its failure is parked in the unhandled-events
            # queue, which pages): it says nothing about the flags, so the alarm keeps its state.
            treat_missing_data="ignore",
            title=f"Partitions failing their quality check: {prefix}",
        ))
    return specs


def data_quality_alarms(catalog: Catalog) -> list[AlarmSpec]:
    return landing_freshness_alarms(catalog) + quality_check_alarms(catalog)


DECLARATION = PlaybookDeclaration(
    name="data_quality",
    runbook_section="Common Issues and Resolutions / Data Quality Issues",
    signals=("landing-freshness", QUALITY_SIGNAL),
    alarms=data_quality_alarms,
    # ListBucket: the newest object under the landing prefix; GetObject: the staging quality flags;
    # GetJobRuns: the upstream streaming job and the batch job's runs; GetJobRun: verification.
    reads=("s3:ListBucket", "s3:GetObject", "glue:GetJobRuns", "glue:GetJobRun"),
    actions=("glue.rerun_partition",),
    scenario="data-quality-rerun-approval",
)
