"""Runbook: "MSK Consumer Lag High".

1. Check Glue streaming job status   -> not running: restarting it is the fix (the most common cause)
2. Increase Glue worker count         -> by the catalog's step, within the job's maximum
3. Check MSK broker health            -> the cluster's state (ListClustersV2) here; offline and under-replicated
                                         partitions, controller count and disk are the MSK alarms, whose states
                                         the lineage hold reads. Either unhealthy holds all action.
4. Review partition count             -> when the job already has a task slot per partition, more workers
                                         cannot help: recommend partitions to a person, act on nothing
"""

from __future__ import annotations

from typing import Any

import functions.actions.glue  # noqa: F401 - registers the actions this playbook plans
from functions.core.alarms import AlarmSpec, MetricSpec
from functions.core.catalog import Catalog, GlueJob
from functions.core.models import (
    Action,
    ActionResult,
    Finding,
    Incident,
    Plan,
    Verification,
    VerificationStatus,
)
from functions.core.naming import alarm_name
from functions.core.ports import PlaybookPorts
from functions.playbooks import PlaybookDeclaration
from functions.playbooks.glue_job_failure import FAILED_STATES, classify
from functions.probes.metrics import LAG_MESSAGES, NAMESPACE

# vCPUs per Glue worker type: one Spark task slot each. One worker is the driver.
VCPUS = {"G.025X": 2, "G.1X": 4, "G.2X": 8, "G.4X": 16, "G.8X": 32}


def task_slots(workers: int, worker_type: str) -> int:
    return max(workers - 1, 1) * VCPUS.get(worker_type, 4)


class MskConsumerLag:
    name = "msk_consumer_lag"

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: PlaybookPorts) -> Plan:
        job = next((j for j in catalog.glue_jobs if j.streaming and f"glue:{j.name}" == incident.resource),
                   None)
        if job is None:
            # Lag is only ours to fix on a streaming job: restarting a batch job (no partition argument)
            # or guessing at another component would be acting on the wrong thing.
            return Plan(playbook=self.name, recommendations=[
                f"{incident.resource} is not a streaming Glue job of the catalog: check the alarm "
                f"{incident.alarm_name}; nothing was changed."])
        brokers = self._brokers(catalog, ports)
        runs = ports.glue.recent_runs(job.name, limit=5)
        active = next((r for r in runs if r.active), None)
        stopping = next((r for r in runs if r.state == "STOPPING"), None)
        if active is None and stopping is not None:
            # A stop in progress (ours: a restart whose start is pending, functions.core.pending; or a
            # person's): a start now would be refused by Glue (the run still counts), a second restart is noise.
            finding = Finding(check="streaming job running", ok=False,
                              detail=f"streaming job {job.name} is stopping ({stopping.id} STOPPING)")
            plan = Plan(playbook=self.name, findings=[finding], recommendations=[
                f"{job.name} is being stopped ({stopping.id}): a restart this playbook began is started by its "
                f"scheduled check once the run has STOPPED; if nobody is restarting it, start it then: "
                f"aws glue start-job-run --job-name {job.name}"])
        elif active is None:
            plan = self._restart(job, runs[0] if runs else None)
        else:
            plan = self._scale(catalog, job, active.workers or job.min_workers,
                               active.worker_type or job.worker_type, active.id)
        # An unhealthy cluster is a finding about msk:<cluster>, upstream of every streaming job: the guard's
        # lineage hold then refuses the plan's actions (restarting or scaling a consumer cannot fix brokers).
        return plan.model_copy(update={"findings": [brokers, *plan.findings]})

    @staticmethod
    def _brokers(catalog: Catalog, ports: PlaybookPorts) -> Finding:
        cluster = catalog.msk.cluster_name
        state = ports.kafka.cluster_state(cluster)
        if state == "ACTIVE":
            return Finding(check="MSK cluster state", ok=True, detail=f"MSK cluster {cluster} is ACTIVE")
        what = f"is {state}" if state else "was not found"
        return Finding(check="MSK cluster state", ok=False, component=f"msk:{cluster}",
                       detail=f"MSK cluster {cluster} {what}: its brokers come first")

    def _restart(self, job: GlueJob, last: Any) -> Plan:
        last_text = f"last run {last.id} {last.state}" + (f": {last.error}" if last.error else "") if last else \
            "no run on record"
        finding = Finding(check="streaming job running", ok=False, component=None,
                          detail=f"streaming job {job.name} is not running ({last_text})")
        cause = classify([last.error or ""], last.state) if last is not None and last.state in FAILED_STATES \
            else None
        if cause is not None and not cause.transient and cause.kind != "unknown":
            # Runbook, Glue Job Failures 5: restart only on a transient error. A run that failed of a known
            # permanent cause (AccessDenied, script, schema) would fail the same way: the Glue failure playbook
            # names the fix, and a restart here would be the blind re-run it refused.
            return Plan(playbook=self.name, findings=[finding], recommendations=[
                f"{job.name} failed ({cause.label}: {cause.evidence[:120]}): not restarted, a restart would fail "
                f"the same way. Fix the cause (the Glue failure playbook's diagnosis names it), then: "
                f"aws glue start-job-run --job-name {job.name}"])
        action = Action(name="glue.restart_streaming_job", target=f"glue:{job.name}",
                        params={"job_name": job.name},
                        reason=f"{job.name} is not running, so nothing consumes topic {job.topic}")
        return Plan(playbook=self.name, findings=[finding], actions=[action])

    def _scale(self, catalog: Catalog, job: GlueJob, workers: int, worker_type: str, run_id: str) -> Plan:
        topic = catalog.topic(job.topic or "")
        slots = task_slots(workers, worker_type)
        cap = min(job.max_workers, catalog.guardrails.max_glue_workers)
        findings = [
            Finding(check="streaming job running", ok=True,
                    detail=f"streaming job {job.name} is running ({run_id}) with {workers} x {worker_type} workers"),
            Finding(check="partitions vs task slots", ok=slots < topic.partitions,
                    detail=f"topic {topic.name} has {topic.partitions} partitions; the job has {slots} task slots"),
        ]
        if slots >= topic.partitions:
            return Plan(playbook=self.name, findings=findings, recommendations=[
                f"{job.name} already has a task slot per partition of {topic.name}: more workers cannot help. "
                f"Add partitions to {topic.name} (and review the producer rate); nothing was changed."])
        if workers >= cap:
            return Plan(playbook=self.name, findings=findings, escalate=True, recommendations=[
                f"{job.name} is at its cap of {cap} workers: raise max_workers in the catalog or use the "
                f"scaling procedure (bigger worker type); nothing was changed."])
        target = min(workers + catalog.guardrails.scale_step_workers, cap)
        action = Action(name="glue.scale_streaming_job", target=f"glue:{job.name}",
                        params={"job_name": job.name, "from_workers": workers, "to_workers": target,
                                "worker_type": worker_type},
                        reason=f"lag is high while the job runs: {workers} -> {target} workers "
                               f"({task_slots(target, worker_type)} task slots for {topic.partitions} partitions)")
        return Plan(playbook=self.name, findings=findings, actions=[action])

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: PlaybookPorts) -> Verification:
        """Against the service level: the new run must be alive (else FAILED) and the lag back under the
        threshold, i.e. the lag alarm OK (VERIFIED). Right after acting the alarm is still in ALARM: INCONCLUSIVE,
        and the playbook's scheduled check looks again within its verification window."""
        job = incident.resource.removeprefix("glue:")
        runs = {r.id: r for r in ports.glue.recent_runs(job, limit=5)}
        pending = [r.changed["pending_start"] for r in results if r.changed.get("pending_start")]
        if pending:
            # The stop had not finished when the action ended: the scheduled checks make the start
            # (functions.core.pending); until a run is alive there is nothing to verify yet.
            started = [r for r in runs.values() if r.active]
            if not started:
                return Verification(status=VerificationStatus.INCONCLUSIVE, detail=(
                    f"the start of {job} with {pending[0]['workers']} workers is pending: its stop is still in "
                    f"progress"))
            results = [r.model_copy(update={"changed": {**r.changed, "run_id": started[0].id}}) for r in results]
        expected = {r.changed.get("run_id") for r in results}
        alive = [runs[i] for i in expected if i in runs and runs[i].active]
        if len(alive) != len(expected):
            states = ", ".join(f"{i}: {runs[i].state if i in runs else 'missing'}" for i in expected)
            return Verification(status=VerificationStatus.FAILED, detail=f"new run is not alive ({states})")
        running = f"run {alive[0].id} is {alive[0].state} with {alive[0].workers} workers"
        alarm, since = ports.alarms.state_since(incident.alarm_name)
        # OK counts only once it came after this incident's ALARM: an alarm that reads OK but has not changed
        # since before the incident never saw the lag this event reports (a replayed or stale event).
        if alarm == "OK" and (since is None or since >= incident.changed_at):
            return Verification(status=VerificationStatus.VERIFIED,
                                detail=f"{running}; {incident.alarm_name} is OK: the lag is back under "
                                       f"{catalog.thresholds.consumer_lag_messages:,} messages")
        return Verification(status=VerificationStatus.INCONCLUSIVE,
                            detail=f"{running}; {incident.alarm_name} is {alarm}: recovery is confirmed when it "
                                   f"returns to OK")


# --- The declaration: what CDK, the catalog and the docs derive from (functions/playbooks/__init__.py) ------

def _lag_metric(catalog: Catalog, job: GlueJob) -> tuple[MetricSpec, float, str, str]:
    """Where the job's lag comes from (catalog lag_source): the metric, its threshold, what it counts, and
    how missing data is treated (README "Consumer lag: which metric")."""
    if job.lag_source == "msk":
        return (MetricSpec(
            namespace="AWS/Kafka",
            # Total lag over the topic's partitions: what the runbook's "< 10,000 messages" counts.
            name="SumOffsetLag",
            dimensions={"Cluster Name": catalog.msk.cluster_name, "Consumer Group": job.consumer_group or "",
                        "Topic": job.topic or ""},
            # The worst point of each minute: a backlog that drains within the minute still counts.
            statistic="Maximum",
            # MSK publishes consumer lag once a minute; a shorter period only adds empty datapoints.
            period_seconds=60),
            catalog.thresholds.consumer_lag_messages, "messages (MSK's SumOffsetLag of the consumer group)",
            # MSK reports lag only while the group has committed offsets: no datapoint is no evidence of a
            # backlog and must neither page nor restart a job. The lag probe checks that the group commits
            # (lag-unmeasured pages when it does not), so a silent metric does not go unnoticed.
            "notBreaching")
    if job.lag_source == "glue":
        return (MetricSpec(
            namespace="Glue",
            # Emitted per micro-batch by the job's Kafka source with emitConsumerLagMetrics (Glue 4.0+): the
            # age of the oldest record of the batch when it reached Glue.
            name="glue.driver.streaming.maxConsumerLagInMs",
            dimensions={"JobName": job.name, "JobRunId": "ALL", "Type": "gauge"},
            statistic="Maximum",
            period_seconds=60),
            float(job.lag_threshold_ms or 0), "milliseconds (Glue's maxConsumerLagInMs)",
            # Emitted only while batches run: a stopped job (glue-failures) or an idle stream has no
            # datapoint, which is no evidence of a backlog.
            "notBreaching")
    return (MetricSpec(
        namespace=NAMESPACE,
        # Messages behind, from the job's newest committed batch in its Spark checkpoint (the lag probe).
        name=LAG_MESSAGES,
        dimensions={"JobName": job.name},
        statistic="Maximum",
        # The probe measures once a minute (its schedule), stamped with the minute it was scheduled for.
        period_seconds=60),
        catalog.thresholds.consumer_lag_messages, "messages (from the job's Spark checkpoint)",
        # The probe publishes every minute, a lag of 0 included: a missing datapoint means it did not run or
        # could not measure (then lag-unmeasured pages). Neither is evidence either way, so the alarm keeps its
        # state: no restart on a blind probe, and no false OK that would "verify" a recovery nobody saw.
        "ignore")


def consumer_lag_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Runbook 'Key Metrics to Monitor' 1: consumer lag < 10,000 messages, per streaming job, from the source
    its catalog entry names (lag_source: checkpoint by default, msk, glue)."""
    specs = []
    for job in catalog.glue_jobs:
        if not job.streaming or job.topic is None:
            continue
        metric, threshold, unit, missing = _lag_metric(catalog, job)
        reader = f"consumer group {job.consumer_group}" if job.lag_source == "msk" else f"Glue streaming job {job.name}"
        limit = f"{threshold:,.0f} ms" if job.lag_source == "glue" else f"{threshold:,.0f}"
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, "consumer-lag", f"glue:{job.name}"),
            signal="consumer-lag",
            component=f"glue:{job.name}",
            description=(f"Consumer lag of {reader} on topic {job.topic} in {unit}, lag_source {job.lag_source}. "
                         f"Runbook: Monitoring / Alarms: MSK consumer lag > {limit}; remediated by playbook "
                         f"msk_consumer_lag"),
            metric=metric,
            threshold=threshold,
            # "Should be < 10,000": the threshold itself is still healthy.
            comparison="GreaterThanThreshold",
            # Look at the last 5 minutes...
            evaluation_periods=5,
            # ...and alarm when 3 of them are over: a sustained backlog (~3 min to detect), not one burst.
            datapoints_to_alarm=3,
            treat_missing_data=missing,
            title=f"Consumer lag ({job.lag_source}): {job.topic} ({job.name})",
        ))
    return specs


DECLARATION = PlaybookDeclaration(
    name="msk_consumer_lag",
    runbook_section="Common Issues and Resolutions / MSK Consumer Lag High",
    signals=("consumer-lag",),
    alarms=consumer_lag_alarms,
    # GetJobRuns: the streaming job's state and workers; ListClustersV2: the MSK cluster's state.
    reads=("glue:GetJobRuns", "kafka:ListClustersV2"),
    actions=("glue.restart_streaming_job", "glue.scale_streaming_job"),
    scenario="lag-under-capacity",
)
