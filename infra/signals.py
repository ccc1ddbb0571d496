"""The runbook's alarms as data: which metric, which threshold, why. The monitoring stack renders these.

Two sources: each playbook declares the alarms of the signals routed to it (`alarms` of its DECLARATION in
functions/playbooks/<name>.py), and this module the alarms that page a person without a playbook (lag unmeasured,
Glue success rate, Redshift disk and health, MSK broker health; their signals are PAGE_SIGNALS of
functions.core.naming). `metric_alarm_specs` lists them all, and `alarm_specs` / `composite_specs` add the lineage:
a downstream symptom whose upstream cause is in ALARM does not page (see `composite_specs`). alarm_name refuses a
signal neither declares, and `playbook_alarm_specs` a playbook alarm of a signal its declaration does not route.

Every number is chosen on purpose and says why in a one-line comment; docs/detection.md has the table.
Thresholds the catalog has (`thresholds.*`) come from it; the others are named constants below.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations
from typing import Any

from functions.core.alarms import AlarmSpec, MathSpec, MetricSpec, metric
from functions.core.catalog import Catalog
from functions.core.naming import OUTAGE_COMPONENT, OUTAGE_SIGNAL, PIPELINE_SIGNAL, alarm_name
from functions.maintenance.weekly import PLATFORM, pipelines
from functions.playbooks import declarations
from functions.probes.metrics import LAG_UNMEASURED, NAMESPACE, RUN_FAILED, RUN_SUCCEEDED
from infra.composites import MAX_RULE_ALARMS, MAX_RULE_CHARACTERS, CompositeSpec

__all__ = ["AlarmSpec", "CompositeSpec", "MathSpec", "MetricSpec", "alarm_specs", "composite_specs",
           "metric_alarm_specs", "service_composite_specs"]

# Thresholds the catalog does not carry (yet): fixed here, with the reason.
REDSHIFT_DISK_PERCENT = 85.0  # room left for a resize, VACUUM and the spill of one large query
MSK_DISK_PERCENT = 85.0  # a broker at 100 % stops accepting writes; 85 % leaves hours to raise retention/storage

# Composite alarms: an upstream cause detected up to this long after the symptom still suppresses its
# page (the freshness probe runs every 5 minutes; broker and lag alarms need 2-3 minutes)...
SUPPRESSOR_WAIT_SECONDS = 300
# ...and the symptom stays quiet this long after the cause cleared: a stream resumed by the lag playbook
# needs minutes to land data and the freshness probe and alarm another ~10 to see it.
SUPPRESSOR_EXTENSION_SECONDS = 1800

MAX_ALARM_METRICS = 10  # metrics an alarm's math expression may read (CloudWatch's limit)

MSK = "Monitoring / Alarms: MSK broker health (read by Common Issues / MSK Consumer Lag High, step 3)"
REDSHIFT_PERF = "Common Issues and Resolutions / Redshift Performance Issues"


def lag_unmeasured_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """A streaming job whose lag the probe cannot measure (checkpoint missing, AccessDenied, malformed; brokers
    unreachable; an msk-sourced group that commits nothing): its lag alarm is blind, a person must know."""
    specs = []
    for job in catalog.glue_jobs:
        if not job.streaming or job.lag_source not in ("checkpoint", "msk"):
            continue
        component = f"glue:{job.name}"
        what = (f"its Spark checkpoint {job.checkpoint_location}" if job.lag_source == "checkpoint" else
                f"whether consumer group {job.consumer_group} commits offsets")
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, "lag-unmeasured", component),
            signal="lag-unmeasured",
            component=component,
            description=(f"The lag probe cannot measure the consumer lag of {job.name} ({what}): its consumer-lag "
                         f"alarm cannot see a backlog. The probe's log line names the reason. Runbook: Monitoring "
                         f"/ Alarms: MSK consumer lag"),
            # 1 per probe run that could not measure the job, 0 when it could.
            metric=metric(NAMESPACE, LAG_UNMEASURED, {"JobName": job.name}, "Maximum", 60),
            threshold=0,
            comparison="GreaterThanThreshold",
            # 3 of 5 minutes blind: one failed read (an S3 hiccup, a broker restart) is not worth a page; a
            # checkpoint moved or a role without access is.
            evaluation_periods=5,
            datapoints_to_alarm=3,
            # The probe publishes 0 or 1 every minute: a missing datapoint is a run that did not happen (its
            # failure is parked in the unhandled-events queue); the state stays as it was.
            treat_missing_data="ignore",
            title=f"Lag unmeasured (1 = blind): {job.name}",
        ))
    return specs


# --- Glue job outcomes (the Glue outcomes probe's metrics) ----------------------------------------------

def _run_count(job: str, name: str, period: int) -> MetricSpec:
    return metric(NAMESPACE, name, {"JobName": job}, "Sum", period)


def glue_success_rate_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Runbook 'Key Metrics to Monitor' 2: Glue job success rate > 99 %, per job."""
    threshold = catalog.thresholds.glue_success_rate_percent
    specs = []
    for job in catalog.glue_jobs:
        component = f"glue:{job.name}"
        # An hour of runs per datapoint: at the catalog's hourly batch schedules one run, at faster ones
        # several. (Metric math has no rolling window: the window is the period.)
        period = 3600
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, "glue-success-rate", component),
            signal="glue-success-rate",
            component=component,
            description=(f"Success rate of Glue job {job.name}'s runs per hour, 100 * succeeded / (succeeded + "
                         f"failed), below {threshold:g} % in 3 of the last 6 hours. Runbook: Monitoring / Key "
                         f"Metrics to Monitor: Glue Job Success Rate > {threshold:g} % (a trend for people: "
                         f"runs are fixed one by one through glue-failures)"),
            metric=MathSpec(
                # The probe publishes both counts (1 and 0) for every run: both series exist in every hour
                # with a run, so the sum is never 0 where the expression has a value.
                expression="100 * succeeded / (succeeded + failed)",
                metrics={"succeeded": _run_count(job.name, RUN_SUCCEEDED, period),
                         "failed": _run_count(job.name, RUN_FAILED, period)},
                label=f"Success rate % ({job.name})",
                period_seconds=period,
            ),
            threshold=threshold,
            # "Should be > 99 %": exactly 99 % is still healthy.
            comparison="LessThanThreshold",
            # Six hours of history...
            evaluation_periods=6,
            # ...with failures in half of them: the job fails systematically and run-by-run retries
            # (glue-failures) are not fixing it. A single failure pages through glue-failures, not here.
            datapoints_to_alarm=3,
            # An hour without runs has no rate: it is neither good nor bad evidence, count it as good.
            treat_missing_data="notBreaching",
            title=f"Success rate % (hourly): {job.name}",
        ))
    return specs


# --- Redshift --------------------------------------------------------------------------------------------

def redshift_health_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Disk and health of the Redshift cluster: on call's (CPU and WLM queue are the Redshift playbook's,
    functions/playbooks/redshift_performance.py)."""
    cluster = catalog.redshift.cluster_id
    component = f"redshift:{cluster}"
    dims = {"ClusterIdentifier": cluster}  # the cluster-level series (every node, leader included)

    def spec(signal: str, runbook: str, what: str, **kwargs: Any) -> AlarmSpec:
        return AlarmSpec(name=alarm_name(catalog.prefix, signal, component), signal=signal, component=component,
                         description=f"{what} of Redshift cluster {cluster}. Runbook: {runbook}", **kwargs)

    return [
        spec("redshift-disk", f"{REDSHIFT_PERF} / Consider resizing cluster (storage)",
             "Percentage of disk space used",
             # The fullest 5 minutes: disk use moves slowly; one large query's spill shows as a short peak.
             metric=metric("AWS/Redshift", "PercentageDiskSpaceUsed", dims, "Maximum", 300),
             threshold=REDSHIFT_DISK_PERCENT,
             comparison="GreaterThanThreshold",
             # Over for 10 minutes: a spill is freed when its query ends, a full disk is not.
             evaluation_periods=2, datapoints_to_alarm=2,
             # Silence is a paused or resizing cluster: its disk is as full as before, keep the state.
             treat_missing_data="ignore",
             title="Disk space used %"),
        spec("redshift-health", "Emergency Procedures / Service Outage (Redshift health check)",
             "Health check (1 healthy, 0 unhealthy)",
             # Redshift runs its health check query every minute; the worst result of each minute.
             metric=metric("AWS/Redshift", "HealthStatus", dims, "Minimum", 60),
             # 0 = the check failed.
             threshold=1, comparison="LessThanThreshold",
             # 3 of the last 5 checks failed: one failed check under a load spike is not an outage.
             evaluation_periods=5, datapoints_to_alarm=3,
             # A failing check is published as 0. Silence (a paused cluster, a reboot) keeps the state: a
             # paused healthy cluster stays OK without notifications, an unhealthy one that goes quiet
             # stays in ALARM.
             treat_missing_data="ignore",
             title="Health status"),
    ]


# --- Data freshness (the freshness probe's metric) --------------------------------------------------------

# --- MSK broker health ------------------------------------------------------------------------------------

def _per_broker(catalog: Catalog, name: str, statistic: str, period: int) -> dict[str, MetricSpec]:
    """The metric of every broker (MSK numbers brokers 1..N; N is the catalog's broker_count)."""
    return {f"b{broker}": metric("AWS/Kafka", name, {"Cluster Name": catalog.msk.cluster_name,
                                                      "Broker ID": str(broker)}, statistic, period)
            for broker in range(1, catalog.msk.broker_count + 1)}


def msk_broker_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Broker health the lag playbook reads before touching a consumer (runbook: 'Check MSK broker health')."""
    cluster = catalog.msk.cluster_name
    component = f"msk:{cluster}"
    cluster_dims = {"Cluster Name": cluster}

    def spec(signal: str, what: str, **kwargs: Any) -> AlarmSpec:
        return AlarmSpec(name=alarm_name(catalog.prefix, signal, component), signal=signal, component=component,
                         description=f"{what} of MSK cluster {cluster}. Runbook: {MSK}", **kwargs)

    if catalog.msk.broker_count > MAX_ALARM_METRICS:
        raise ValueError(f"msk.broker_count {catalog.msk.broker_count}: a per-broker alarm reads every broker and "
                         f"CloudWatch allows {MAX_ALARM_METRICS} metrics per alarm")
    brokers = ", ".join(f"b{b}" for b in range(1, catalog.msk.broker_count + 1))
    return [
        spec("msk-offline-partitions", "Offline partitions (no leader: producers and consumers stop)",
             # Cluster-level metric; the worst minute.
             metric=metric("AWS/Kafka", "OfflinePartitionsCount", cluster_dims, "Maximum", 60),
             # Any offline partition is an outage of that partition.
             threshold=0, comparison="GreaterThanThreshold",
             # 2 of 3 minutes: a leader election takes seconds and may show in one sample, an outage stays.
             evaluation_periods=3, datapoints_to_alarm=2,
             # MSK publishes broker metrics every minute: silence (a CloudWatch delay) says nothing new
             # about the brokers, so the state stays (a fault stays in ALARM, health stays OK).
             treat_missing_data="ignore",
             title="Offline partitions"),
        spec("msk-under-replicated", "Under-replicated partitions, summed over the brokers",
             # Published per broker (Cluster Name, Broker ID): summed to the cluster's count. An offline broker
             # publishes nothing, and metric math counts its missing value as 0 (CloudWatch User Guide, "Metric
             # math syntax and functions": "Missing values in a time series are treated as 0"), so the online
             # brokers' under-replicated partitions still make the sum: the alarm sees the outage it is for.
             metric=MathSpec(expression=f"SUM([{brokers}])",
                             metrics=_per_broker(catalog, "UnderReplicatedPartitions", "Maximum", 60),
                             label="Under-replicated partitions", period_seconds=60),
             # Any: a replica is behind, one more broker loss can lose data or availability.
             threshold=0, comparison="GreaterThanThreshold",
             # 5 of 5 minutes: a rolling restart (MSK patching) under-replicates for a few minutes on purpose.
             evaluation_periods=5, datapoints_to_alarm=5,
             # Silence keeps the state, as for offline partitions.
             treat_missing_data="ignore",
             title="Under-replicated partitions"),
        spec("msk-controller", "Active controller count (must be exactly 1)",
             # Each broker reports 1 if it is the active controller: the Sum is the number of controllers.
             # "!= 1" as one alarm: |controllers - 1| > 0 (two alarms, < 1 and > 1, would need two names for
             # one signal and component, which the naming convention and routing do not allow).
             metric=MathSpec(expression="ABS(controllers - 1)",
                             metrics={"controllers": metric("AWS/Kafka", "ActiveControllerCount", cluster_dims,
                                                             "Sum", 60)},
                             label="Distance from one active controller", period_seconds=60),
             threshold=0, comparison="GreaterThanThreshold",
             # 3 minutes in a row: a controller failover elects a new one within seconds (one odd sample).
             evaluation_periods=3, datapoints_to_alarm=3,
             # Silence keeps the state, as for offline partitions.
             treat_missing_data="ignore",
             title="|Active controllers - 1| (0 is healthy)"),
        spec("msk-disk", f"Data log disk used on the fullest broker (> {MSK_DISK_PERCENT:g} %)",
             # Published per broker: the fullest one decides (one full broker rejects writes for its
             # partitions).
             metric=MathSpec(expression=f"MAX([{brokers}])",
                             metrics=_per_broker(catalog, "KafkaDataLogsDiskUsed", "Maximum", 300),
                             label="Data log disk used % (fullest broker)", period_seconds=300),
             threshold=MSK_DISK_PERCENT, comparison="GreaterThanThreshold",
             # 10 minutes over: segment deletion makes disk use a sawtooth; a full disk stays full.
             evaluation_periods=2, datapoints_to_alarm=2,
             # Silence keeps the state, as for offline partitions.
             treat_missing_data="ignore",
             title="Data log disk used % (fullest broker)"),
    ]


# --- all of them, and the lineage -------------------------------------------------------------------------

def playbook_alarm_specs(catalog: Catalog) -> list[AlarmSpec]:
    """The alarms the playbooks declare (functions/playbooks), in playbook name order; each of a signal its
    playbook is routed, so an alarm cannot fire into a rule that does not listen."""
    specs = []
    for name, declared in declarations().items():
        for spec in declared.alarms(catalog):
            if spec.signal not in declared.signals:
                raise ValueError(f"playbook {name} declares alarm {spec.name} of signal {spec.signal!r}, which it "
                                 f"is not routed (its signals: {', '.join(declared.signals)})")
            specs.append(spec)
    return specs


def metric_alarm_specs(catalog: Catalog) -> list[AlarmSpec]:
    """Every metric alarm, each paging on its own (before the lineage decides which page via composites)."""
    return [*playbook_alarm_specs(catalog), *lag_unmeasured_alarms(catalog), *glue_success_rate_alarms(catalog),
            *redshift_health_alarms(catalog), *msk_broker_alarms(catalog)]


# What the lineage does with a signal. Composites read their alarms in these lists' order (then the catalog's),
# whatever order the playbooks are found in.
# Downstream symptoms: paged through a composite while one of their upstream causes is in ALARM.
SYMPTOM_SIGNALS = ("glue-failures", "landing-freshness")
# What can cause a symptom further down the lineage: a streaming job's lag or failures, a stale landing prefix
# (for the batch job that reads it), a failed upstream job, broker health. Not the success rate (a trend, hours
# behind) and not Redshift (it is downstream of everything).
CAUSE_SIGNALS = ("consumer-lag", "glue-failures", "landing-freshness", "msk-offline-partitions",
                 "msk-under-replicated", "msk-controller", "msk-disk")


def _in_order(specs: list[AlarmSpec], signals: tuple[str, ...]) -> list[AlarmSpec]:
    """The specs of these signals, in the signals' order (stable: the catalog's order within a signal)."""
    return sorted((s for s in specs if s.signal in signals), key=lambda s: signals.index(s.signal))


def upstream_causes(catalog: Catalog, component: str, specs: list[AlarmSpec]) -> list[AlarmSpec]:
    """The cause alarms of every component upstream of `component` in the catalog's lineage."""
    upstream = set(catalog.upstream_of(component))
    return [s for s in _in_order(specs, CAUSE_SIGNALS) if s.component in upstream]


def composite_specs(catalog: Catalog, specs: list[AlarmSpec] | None = None) -> list[CompositeSpec]:
    """Per downstream symptom with upstream causes: `composite-upstream/<component>` (ALARM when any cause
    is) and `composite-<signal>/<component>` (ALARM with the symptom; pages unless the former is in ALARM)."""
    specs = metric_alarm_specs(catalog) if specs is None else specs
    composites: list[CompositeSpec] = []
    for symptom in _in_order(specs, SYMPTOM_SIGNALS):
        causes = upstream_causes(catalog, symptom.component, specs)
        if not causes:
            continue  # nothing upstream can explain it: the metric alarm pages itself
        upstream = CompositeSpec(
            name=alarm_name(catalog.prefix, "composite-upstream", symptom.component),
            signal="composite-upstream",
            component=symptom.component,
            description=(f"In ALARM while anything upstream of {symptom.component} in the lineage is: "
                         f"{', '.join(sorted({c.component for c in causes}))}. Suppresses the pages of "
                         f"{symptom.component}'s symptoms (one root cause pages once). Runbook: Monitoring"),
            alarms=tuple(c.name for c in causes),
            pages=False,  # the causes page themselves
        )
        if all(c.name != upstream.name for c in composites):
            composites.append(upstream)
        composites.append(CompositeSpec(
            name=alarm_name(catalog.prefix, f"composite-{symptom.signal}", symptom.component),
            signal=f"composite-{symptom.signal}",
            component=symptom.component,
            description=(f"Pages for {symptom.name} unless its upstream cause is already in ALARM "
                         f"({upstream.name}). {symptom.description}"),
            alarms=(symptom.name,),
            pages=True,
            suppressor=upstream.name,
            wait_seconds=SUPPRESSOR_WAIT_SECONDS,
            extension_seconds=SUPPRESSOR_EXTENSION_SECONDS,
        ))
    return composites


def alarm_specs(catalog: Catalog) -> list[AlarmSpec]:
    """Every metric alarm the monitoring stack creates; a symptom with a composite does not page itself."""
    specs = metric_alarm_specs(catalog)
    paged_by_composite = {a for c in composite_specs(catalog, specs) if c.pages for a in c.alarms}
    return [replace(s, pages=False) if s.name in paged_by_composite else s for s in specs]


# --- the whole service: faulty pipelines, and the outage ---------------------------------------------------

# What says "this pipeline is not delivering now": a sustained backlog, a failed run (a stopped stream
# included), nothing landed for an hour. Not the success rate (a trend hours behind: it stays in ALARM long
# after the fault is fixed), and not broker health or Redshift: they are shared by every pipeline (a broker
# fault reaches the pipelines' own alarms within minutes, and pages on its own meanwhile).
PIPELINE_SIGNALS = ("consumer-lag", "glue-failures", "landing-freshness")


def pipeline_composites(catalog: Catalog, specs: list[AlarmSpec] | None = None) -> list[CompositeSpec]:
    """`composite-pipeline/<topic>` per pipeline (a topic and everything downstream of it in the lineage, as
    the weekly review groups them): ALARM while any of its key alarms is. No actions: those alarms page."""
    specs = metric_alarm_specs(catalog) if specs is None else specs
    composites = []
    for pipeline, members in pipelines(catalog).items():
        if pipeline == PLATFORM:
            continue
        keys = [s for s in _in_order(specs, PIPELINE_SIGNALS) if s.component in members]
        if not keys:
            continue
        composites.append(CompositeSpec(
            # The component is the pipeline's name, not "topic:<name>": a catalog component in ALARM holds the
            # actions downstream of it (lineage hold), and this composite is in ALARM *because* of them.
            name=alarm_name(catalog.prefix, PIPELINE_SIGNAL, pipeline),
            signal=PIPELINE_SIGNAL,
            component=pipeline,
            description=(f"Pipeline {pipeline} is faulty: in ALARM while any of its key alarms is "
                         f"({', '.join(sorted({k.component for k in keys}))}: {', '.join(PIPELINE_SIGNALS)}). "
                         f"No actions (those alarms page); read by {OUTAGE_SIGNAL}. Runbook: Emergency "
                         f"Procedures / Service Outage"),
            alarms=tuple(k.name for k in keys),
            pages=False,
        ))
    return composites


def _rule_characters(catalog: Catalog, alarms: tuple[str, ...], k: int) -> int:
    def arn(name: str) -> str:
        return f"arn:aws:cloudwatch:{catalog.region}:{catalog.account_id}:alarm:{name}"

    return len(" OR ".join("(" + " AND ".join(f'ALARM("{arn(a)}")' for a in combo) + ")"
                           for combo in combinations(alarms, k)))


def outage_composites(catalog: Catalog, faulty: list[CompositeSpec]) -> list[CompositeSpec]:
    """`composite-service-outage/pipelines`: ALARM while `thresholds.outage_pipelines` (2 by default) of the
    pipeline composites are. It pages, and its change to ALARM starts the service-outage procedure
    (ProceduresStack's rule -> functions/procedures/start.py). None with fewer pipelines than that: an
    outage is then the pipelines' own pages."""
    k = catalog.thresholds.outage_pipelines
    names = tuple(c.name for c in faulty)
    if len(names) < k:
        return []
    if _rule_characters(catalog, names, k) > MAX_RULE_CHARACTERS or len(names) > MAX_RULE_ALARMS:
        # Too many pipelines for one rule: the same count, in tiers of composites (infra/outage.py).
        from infra.outage import tiered_outage

        return tiered_outage(catalog, faulty, k)
    return [CompositeSpec(
        name=alarm_name(catalog.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT),
        signal=OUTAGE_SIGNAL,
        component=OUTAGE_COMPONENT,
        description=(f"The service is out: {k} or more of its {len(names)} pipelines are faulty at once "
                     f"({', '.join(c.component for c in faulty)}). Starts the service-outage procedure "
                     f"(evidence, rollback of our own recorded changes after approval, escalation). Runbook: "
                     f"Emergency Procedures / Service Outage"),
        alarms=names,
        pages=True,  # a person hears it at once, whether the procedure starts or not
        at_least=k,
    )]


def service_composite_specs(catalog: Catalog, specs: list[AlarmSpec] | None = None) -> list[CompositeSpec]:
    """The pipeline composites, then the outage composite that reads them (creation order)."""
    faulty = pipeline_composites(catalog, specs)
    return [*faulty, *outage_composites(catalog, faulty)]
