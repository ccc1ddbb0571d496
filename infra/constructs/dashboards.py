"""The runbook's "CloudWatch Dashboards", one per concern, widgets grouped per pipeline (or per playbook).

    <prefix>-msk          broker health, throughput and errors; per streaming pipeline: lag and topic traffic
    <prefix>-glue         per job: failed runs, success rate, runs, duration, workers
    <prefix>-redshift     health, storage, CPU; query performance and WLM queues; per loaded table: its job
    <prefix>-s3           requests, errors, data transfer, storage; per landing prefix: freshness
    <prefix>-remediation  per playbook: outcomes (acted, verified, failed, refused, awaiting approval) and
                          time from alarm to recovery

Everything is derived from the catalog, the alarm specs and the playbook declarations: a new topic, job,
table, prefix or playbook gets its section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from functions.core.catalog import Catalog, GlueJob
from functions.core.models import OutcomeStatus
from functions.core.naming import SIGNALS, alarm_name
from functions.core.observability import METRICS_NAMESPACE as REMEDIATION_NAMESPACE
from functions.core.observability import SERVICE
from functions.playbooks import PLAYBOOKS
from functions.probes.metrics import NAMESPACE, RUN_FAILED, RUN_SUCCEEDED
from infra import names

FIVE_MINUTES = Duration.minutes(5)
HOUR = Duration.hours(1)


@dataclass
class Section:
    """A titled group of widgets (one pipeline, one cluster, one playbook), laid out in rows."""

    title: str
    widgets: list[cw.IWidget] = field(default_factory=list)


class GroupedDashboard(Construct):
    """A dashboard of sections: a markdown header per section, then its widgets, `columns` per row."""

    def __init__(self, scope: Construct, construct_id: str, *, dashboard_name: str, sections: Sequence[Section],
                 columns: int = 3):
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=dashboard_name,
                                      default_interval=Duration.hours(6))
        self.sections = list(sections)
        for section in self.sections:
            self.dashboard.add_widgets(cw.TextWidget(markdown=f"### {section.title}", width=24, height=1))
            for start in range(0, len(section.widgets), columns):
                self.dashboard.add_widgets(*section.widgets[start:start + columns])


def _metric(namespace: str, name: str, dims: Mapping[str, str], statistic: str = "Average",
            period: Duration = FIVE_MINUTES, label: str | None = None) -> cw.Metric:
    return cw.Metric(namespace=namespace, metric_name=name, dimensions_map=dict(dims), statistic=statistic,
                     period=period, label=label)


def _graph(title: str, metrics: Sequence[cw.IMetric], *, width: int = 8, stacked: bool = False,
           right: Sequence[cw.IMetric] = ()) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=list(metrics), right=list(right), width=width, height=6,
                          stacked=stacked)


def _alarm(title: str, alarm: cw.IAlarm, width: int = 8) -> cw.AlarmWidget:
    return cw.AlarmWidget(title=title, alarm=alarm, width=width, height=6)


def _search(expression: str, label: str, period: Duration = FIVE_MINUTES) -> cw.MathExpression:
    return cw.MathExpression(expression=expression, using_metrics={}, label=label, period=period)


# --- MSK ----------------------------------------------------------------------------------------------------

def msk_sections(catalog: Catalog, alarms: Mapping[str, cw.Alarm]) -> list[Section]:
    cluster = catalog.msk.cluster_name
    component = f"msk:{cluster}"
    brokers = range(1, catalog.msk.broker_count + 1)

    def per_broker(name: str, statistic: str = "Average") -> list[cw.Metric]:
        return [_metric("AWS/Kafka", name, {"Cluster Name": cluster, "Broker ID": str(b)}, statistic,
                        label=f"broker {b}") for b in brokers]

    health = Section(f"Cluster {cluster}: broker health", [
        _alarm(title, alarms[alarm]) for title, alarm in (
            ("Offline partitions", _name(catalog, "msk-offline-partitions", component)),
            ("Under-replicated partitions", _name(catalog, "msk-under-replicated", component)),
            ("|Active controllers - 1|", _name(catalog, "msk-controller", component)),
            ("Data log disk used % (fullest broker)", _name(catalog, "msk-disk", component)),
        )])
    traffic = Section(f"Cluster {cluster}: throughput and errors", [
        _graph("Bytes in per second, per broker", per_broker("BytesInPerSec"), stacked=True),
        _graph("Bytes out per second, per broker", per_broker("BytesOutPerSec"), stacked=True),
        _graph("Network errors per broker (rx + tx)",
               [*[m.with_(label=f"{m.label} rx") for m in per_broker("NetworkRxErrors", "Sum")],
                *[m.with_(label=f"{m.label} tx") for m in per_broker("NetworkTxErrors", "Sum")]]),
    ])
    sections = [health, traffic]
    for job in catalog.glue_jobs:
        if not job.streaming or job.topic is None:
            continue
        widgets: list[cw.IWidget] = []
        lag = _name(catalog, "consumer-lag", f"glue:{job.name}")
        if lag in alarms:
            widgets.append(_alarm(f"Consumer lag ({job.lag_source}): {job.topic} ({job.name})", alarms[lag]))
        unmeasured = _name(catalog, "lag-unmeasured", f"glue:{job.name}")
        if unmeasured in alarms:
            widgets.append(_alarm(f"Lag unmeasured (1 = the probe is blind): {job.name}", alarms[unmeasured]))
        if lag in alarms and job.consumer_group:  # MSK's time lag exists only for a group that commits
            widgets.append(_graph(f"Time lag (seconds): {job.consumer_group}", [_metric(
                "AWS/Kafka", "EstimatedMaxTimeLag",
                {"Cluster Name": cluster, "Consumer Group": job.consumer_group or "", "Topic": job.topic},
                "Maximum", Duration.minutes(1))]))
        # Per-topic traffic is published per broker at the PER_TOPIC_PER_BROKER monitoring level: summed.
        topic = {"Cluster Name": cluster, "Topic": job.topic}
        traffic_lines = []
        for metric_name, label, ids in (("BytesInPerSec", "bytes in/s", "in"), ("BytesOutPerSec", "bytes out/s",
                                                                                  "out")):
            per = {f"{ids}{b}": _metric("AWS/Kafka", metric_name, {**topic, "Broker ID": str(b)}) for b in brokers}
            traffic_lines.append(cw.MathExpression(expression=f"SUM([{', '.join(per)}])", using_metrics=per,
                                                   label=label, period=FIVE_MINUTES))
        widgets.append(_graph(f"Topic {job.topic}: bytes in / out per second (all brokers)", traffic_lines))
        sections.append(Section(f"Pipeline {job.name}: topic {job.topic} -> {job.writes_prefix or 'landing'}",
                                widgets))
    return sections


# --- Glue -----------------------------------------------------------------------------------------------------

def _glue_job_metric(job: GlueJob, name: str, kind: str, statistic: str, label: str) -> cw.Metric:
    """AWS Glue job metrics (namespace Glue, job metrics enabled): aggregated over runs with JobRunId=ALL."""
    return _metric("Glue", name, {"JobName": job.name, "JobRunId": "ALL", "Type": kind}, statistic, label=label)


def glue_sections(catalog: Catalog, alarms: Mapping[str, cw.Alarm]) -> list[Section]:
    sections = []
    for job in catalog.glue_jobs:
        component = f"glue:{job.name}"
        runs = [_metric(NAMESPACE, RUN_SUCCEEDED, {"JobName": job.name}, "Sum", HOUR, "succeeded"),
                _metric(NAMESPACE, RUN_FAILED, {"JobName": job.name}, "Sum", HOUR, "failed")]
        widgets: list[cw.IWidget] = [
            _alarm(f"Failed runs: {job.name}", alarms[_name(catalog, "glue-failures", component)]),
            _alarm(f"Success rate % (hourly): {job.name}", alarms[_name(catalog, "glue-success-rate", component)]),
            _graph(f"Runs per hour: {job.name}", runs, stacked=True),
            _graph(f"Run duration (ms): {job.name}", [_glue_job_metric(
                job, "glue.driver.aggregate.elapsedTime", "count", "Maximum", "elapsed time")]),
            _graph(f"Workers (executors): {job.name}", [
                _glue_job_metric(job, "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors",
                                 "gauge", "Average", "allocated"),
                _glue_job_metric(job, "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors",
                                 "gauge", "Maximum", "needed")]),
        ]
        if job.streaming:
            widgets.append(_graph(f"Records per micro-batch: {job.name}", [_glue_job_metric(
                job, "glue.driver.streaming.numRecords", "count", "Sum", "records")]))
        where = (f"{job.topic} -> {job.writes_prefix}" if job.streaming
                 else f"{job.reads_prefix} -> {job.loads_table or job.writes_prefix}")
        sections.append(Section(f"{job.kind.title()} job {job.name}: {where}", widgets))
    return sections


# --- Redshift ----------------------------------------------------------------------------------------------

def redshift_sections(catalog: Catalog, alarms: Mapping[str, cw.Alarm]) -> list[Section]:
    cluster = catalog.redshift.cluster_id
    component = f"redshift:{cluster}"
    dims = {"ClusterIdentifier": cluster}

    def by_latency(name: str, statistic: str) -> list[cw.Metric]:
        return [_metric("AWS/Redshift", name, {**dims, "latency": latency}, statistic, label=latency)
                for latency in ("short", "medium", "long")]

    def per_queue(name: str, statistic: str) -> cw.MathExpression:
        # Per-queue WLM series are named by the WLM configuration (queue names or service classes), which the
        # catalog does not describe: found by search.
        return _search(f"SEARCH('{{AWS/Redshift,ClusterIdentifier,QueueName}} MetricName=\"{name}\" "
                       f"ClusterIdentifier=\"{cluster}\"', '{statistic}', 300)", label=name)

    sections = [
        Section(f"Cluster {cluster}: health, CPU, storage", [
            _alarm("Health status", alarms[_name(catalog, "redshift-health", component)]),
            _alarm("CPU utilisation %", alarms[_name(catalog, "redshift-cpu", component)]),
            _alarm("Disk space used %", alarms[_name(catalog, "redshift-disk", component)]),
        ]),
        Section(f"Cluster {cluster}: query performance", [
            _graph("Query duration (microseconds) by latency class", by_latency("QueryDuration", "Average")),
            _graph("Queries completed per second by latency class", by_latency("QueriesCompletedPerSecond",
                                                                                "Average"), stacked=True),
            _graph("Database connections", [_metric("AWS/Redshift", "DatabaseConnections", dims, "Maximum")]),
        ]),
        Section(f"Cluster {cluster}: WLM queues", [
            _alarm("Queries waiting in WLM queues", alarms[_name(catalog, "redshift-queue", component)]),
            _graph("Queue wait time (microseconds) per queue", [per_queue("WLMQueueWaitTime", "Average")]),
            _graph("Running queries per queue", [per_queue("WLMRunningQueries", "Average")], stacked=True),
        ]),
    ]
    for job in catalog.glue_jobs:
        if job.loads_table is None:
            continue
        sections.append(Section(f"Table {job.loads_table}: loaded by {job.name}", [
            _alarm(f"Failed loads: {job.name}", alarms[_name(catalog, "glue-failures", f"glue:{job.name}")]),
            _graph(f"Load duration (ms): {job.name}", [_glue_job_metric(
                job, "glue.driver.aggregate.elapsedTime", "count", "Maximum", "elapsed time")]),
        ]))
    return sections


# --- S3 --------------------------------------------------------------------------------------------------------

def s3_sections(catalog: Catalog, alarms: Mapping[str, cw.Alarm]) -> list[Section]:
    bucket = catalog.s3.name
    requests = {"BucketName": bucket, "FilterId": names.BUCKET_METRICS_ID}

    def request_metrics(*metric_names: str, statistic: str = "Sum") -> list[cw.Metric]:
        return [_metric("AWS/S3", n, requests, statistic, label=n) for n in metric_names]

    sections = [
        Section(f"Bucket {bucket}: requests (request metrics configuration {names.BUCKET_METRICS_ID})", [
            _graph("Requests (all)", request_metrics("AllRequests")),
            _graph("Requests by type", request_metrics("GetRequests", "PutRequests", "ListRequests",
                                                       "DeleteRequests", "HeadRequests"), stacked=True),
            _graph("Errors", request_metrics("4xxErrors", "5xxErrors")),
            _graph("First byte latency (ms, p90)", [_metric("AWS/S3", "FirstByteLatency", requests, "p90")]),
        ]),
        Section(f"Bucket {bucket}: data transfer and storage", [
            _graph("Bytes downloaded / uploaded", request_metrics("BytesDownloaded", "BytesUploaded")),
            _graph("Bucket size (bytes, daily)", [_metric("AWS/S3", "BucketSizeBytes",
                                                          {"BucketName": bucket, "StorageType": "StandardStorage"},
                                                          "Average", Duration.days(1))]),
            _graph("Objects (daily)", [_metric("AWS/S3", "NumberOfObjects",
                                               {"BucketName": bucket, "StorageType": "AllStorageTypes"},
                                               "Average", Duration.days(1))]),
        ]),
    ]
    writers = {job.writes_prefix: job.name for job in catalog.glue_jobs if job.streaming and job.writes_prefix}
    for prefix in catalog.s3.landing_prefixes:
        widgets: list[cw.IWidget] = [_alarm(f"Landing age (minutes): {prefix}",
                                            alarms[_name(catalog, "landing-freshness", f"s3:{prefix}")])]
        quality = alarms.get(_name(catalog, "quality-check-failures", f"s3:{prefix}"))
        if quality is not None:  # a batch job reads the prefix: its partitions' failed quality flags
            widgets.append(_alarm(f"Partitions failing their quality check: {prefix}", quality))
        writer = writers.get(prefix)
        sections.append(Section(f"Landing {prefix}" + (f": written by {writer}" if writer else ""), widgets))
    return sections


# --- Remediation ---------------------------------------------------------------------------------------------

def playbook_names() -> list[str]:
    """Every playbook: the declared ones and those the signals name (declared later, same metric names)."""
    return sorted(set(PLAYBOOKS) | {p for p in SIGNALS.values() if p})


def remediation_sections(catalog: Catalog) -> list[Section]:
    del catalog  # the metrics carry no catalog name: Playbook, Status, service

    def outcome(playbook: str, status: OutcomeStatus, period: Duration = HOUR) -> cw.Metric:
        return _metric(REMEDIATION_NAMESPACE, "Outcome",
                       {"Playbook": playbook, "Status": status.value, "service": SERVICE}, "Sum", period,
                       label=status.value)

    statuses = list(OutcomeStatus)
    headline = (OutcomeStatus.REMEDIATED, OutcomeStatus.ACTED, OutcomeStatus.RECOVERED, OutcomeStatus.FAILED,
                OutcomeStatus.ESCALATED, OutcomeStatus.REFUSED, OutcomeStatus.AWAITING_APPROVAL)
    overall = [_search(f"SUM(SEARCH('{{{REMEDIATION_NAMESPACE},Playbook,Status,service}} MetricName=\"Outcome\" "
                       f"Status=\"{status.value}\" service=\"{SERVICE}\"', 'Sum', 3600))", status.value, HOUR)
               for status in headline]
    sections = [Section("All playbooks", [
        _graph("Outcomes per hour, every playbook", overall, width=24, stacked=True),
    ])]
    for playbook in playbook_names():
        recovery = {"Playbook": playbook, "service": SERVICE}
        sections.append(Section(f"Playbook {playbook}", [
            cw.SingleValueWidget(title=f"{playbook}: acted, verified, failed, refused, waiting",
                                 metrics=[outcome(playbook, s) for s in headline], width=8, height=6,
                                 set_period_to_time_range=True),
            _graph(f"{playbook}: outcomes per hour", [outcome(playbook, s) for s in statuses], stacked=True),
            _graph(f"{playbook}: time from alarm to recovery (minutes)", [
                _metric(REMEDIATION_NAMESPACE, "TimeToRecoveryMinutes", recovery, "Average", HOUR, "average"),
                _metric(REMEDIATION_NAMESPACE, "TimeToRecoveryMinutes", recovery, "Maximum", HOUR, "maximum")]),
            # Earned autonomy (functions.core.autonomy): published by the runtime at every outcome and check, so
            # the dashboard (fixed at deploy time) shows the mode the record gives the playbook now.
            _graph(f"{playbook}: effective mode (0 observe, 1 recommend, 2 approve, 3 auto)", [
                _metric(REMEDIATION_NAMESPACE, "EffectiveMode", recovery, "Minimum", FIVE_MINUTES,
                        "effective mode (most cautious action)")], width=24),
        ]))
    return sections


def _name(catalog: Catalog, signal: str, component: str) -> str:
    return alarm_name(catalog.prefix, signal, component)
