"""Runbook: "Example Issue" (the skeleton of a playbook: docs/extending.md says how to copy it).

A playbook is this one module: the domain decisions (`diagnose_and_plan`, `verify`; boto3-free, AWS only through
`ports`), the alarms of its signal, and its DECLARATION, from which CDK, the catalog, the signal table and the
docs derive the rest. The module's name starts with '_', so the registry does not load the skeleton itself.

1. Look at the job's newest run      -> what a person would check first, as a finding
2. Say what to do                   -> a recommendation; no action is planned until the playbook has earned one
"""

from __future__ import annotations

from functions.core.alarms import AlarmSpec, metric
from functions.core.catalog import Catalog
from functions.core.models import ActionResult, Finding, Incident, Plan, Verification, VerificationStatus
from functions.core.naming import alarm_name
from functions.core.ports import PlaybookPorts
from functions.playbooks import PlaybookDeclaration

NAME = "example_issue"
SIGNAL = "example-signal"
RUNBOOK = "Common Issues and Resolutions / Example Issue"


class ExampleIssue:
    name = NAME

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: PlaybookPorts) -> Plan:
        job = incident.resource.removeprefix("glue:")
        runs = ports.glue.recent_runs(job, limit=1)
        newest = f"newest run {runs[0].id} is {runs[0].state}" if runs else "no run on record"
        return Plan(playbook=self.name, findings=[Finding(check="newest run", ok=bool(runs), detail=newest)],
                    recommendations=[f"{incident.alarm_name}: {job}'s {newest}; nothing was changed."])

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: PlaybookPorts) -> Verification:
        return Verification(status=VerificationStatus.NOT_APPLICABLE, detail="it plans no action")


def example_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """One alarm per Glue job of the catalog. Every number says why (docs/detection.md shows this code)."""
    specs = []
    for job in catalog.glue_jobs:
        component = f"glue:{job.name}"
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, SIGNAL, component), signal=SIGNAL, component=component,
            description=f"Failed Spark tasks of Glue job {job.name}. Runbook: {RUNBOOK}; playbook {NAME}",
            # Glue's job metrics (published with --enable-metrics), as deltas every 30 s: the sum of 5 minutes.
            metric=metric("Glue", "glue.driver.aggregate.numFailedTasks",
                          {"JobName": job.name, "JobRunId": "ALL", "Type": "count"}, "Sum", 300),
            # Any failed task: Spark retries tasks itself, so one that is counted here failed its retries too.
            threshold=0, comparison="GreaterThanThreshold",
            # One period over is the event: no smoothing.
            evaluation_periods=1, datapoints_to_alarm=1,
            # No datapoint: the job did not run, nothing failed.
            treat_missing_data="notBreaching",
            title=f"Failed tasks: {job.name}",
        ))
    return specs


DECLARATION = PlaybookDeclaration(
    name=NAME,
    runbook_section=RUNBOOK,
    signals=(SIGNAL,),
    alarms=example_alarms,
    # GetJobRuns: the job's newest run (ports.glue.recent_runs). Exactly the reads its code makes: CDK grants these.
    reads=("glue:GetJobRuns",),
    actions=(),  # registered actions it may plan (functions/actions); none yet
)
