"""MonitoringStack (<prefix>-monitoring): the runbook's Monitoring section as code.

- the alarms of infra/signals.py, and the composite alarms that page a downstream symptom only when no
  upstream cause is in ALARM (one root cause pages once);
- the probes that publish what CloudWatch does not have (functions/probes): landing freshness every five
  minutes, Glue run outcomes on every Glue Job State Change;
- the S3 request-metrics configuration of the data lake bucket (so the S3 dashboard has requests);
- one dashboard per concern: MSK, Glue, Redshift, S3, remediation.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from functions.core.catalog import Catalog
from functions.core.observability import SERVICE
from functions.probes import PROBES
from functions.probes.consumer_lag import probed_jobs
from functions.probes.glue_outcomes import END_STATES
from infra import names
from infra.bundling import CATALOG_PATH_IN_LAMBDA, function_code
from infra.constructs.alarms import RunbookAlarms
from infra.constructs.bucket_metrics import BucketRequestMetrics
from infra.constructs.dashboards import (
    GroupedDashboard,
    glue_sections,
    msk_sections,
    redshift_sections,
    remediation_sections,
    s3_sections,
)
from infra.constructs.probe_function import KafkaClientLayer, ProbeFunction
from infra.monitoring_split import Part, split
from infra.patterns import split_by_names
from infra.permissions import probe_statements
from infra.powertools import powertools_layer_arn


def dashboards(scope: Construct, catalog: Catalog, alarms: RunbookAlarms, *, suffix: str = "",
               remediation: Catalog | None = None) -> dict[str, GroupedDashboard]:
    """One dashboard per concern over `catalog` (a group's narrowed catalog: infra/monitoring_split.py), named
    <prefix>-<concern>[-<suffix>]; the remediation dashboard only where `remediation` is given. An alarm of
    another stack is read by its ARN."""
    known = alarms.known
    concerns = [("msk", msk_sections(catalog, known)), ("glue", glue_sections(catalog, known)),
                ("redshift", redshift_sections(catalog, known)), ("s3", s3_sections(catalog, known))]
    if remediation is not None:
        concerns.append(("remediation", remediation_sections(remediation)))
    return {concern: GroupedDashboard(scope, f"{concern.title()}Dashboard",
                                      dashboard_name=names.dashboard_name(catalog, "-".join(filter(None, (concern,
                                                                                                          suffix)))),
                                      sections=sections)
            for concern, sections in concerns}


class MonitoringPartStack(Stack):
    """<prefix>-monitoring-<NN> (a group of pipelines: alarms, composites, dashboards) or -outage (the outage
    count over every group): infra/monitoring_split.py."""

    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, part: Part, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        topic = sns.Topic.from_topic_arn(self, "OnCallTopic", names.topic_arn(catalog))
        self.alarms = RunbookAlarms(self, "RunbookAlarms", specs=part.alarms, topic=topic, composites=part.composites)
        self.dashboards = dashboards(self, part.catalog, self.alarms, suffix=part.name) if part.catalog else {}


FRESHNESS_SCHEDULE_MINUTES = 5  # the freshness alarm's period is this schedule
LAG_SCHEDULE_MINUTES = 1  # the lag alarm's period (60 s) is this schedule: one datapoint per period


class MonitoringStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, powertools_layer_version: int,
                 log_retention: logs.RetentionDays, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        retain = catalog.env == "prod"
        # The topic lives in the remediation stack under a fixed name: referenced by ARN (the app adds the
        # stack dependency) instead of a cross-stack export that would pin it.
        topic = sns.Topic.from_topic_arn(self, "OnCallTopic", names.topic_arn(catalog))
        # Everything, or (many pipelines: infra/monitoring_split.py) the platform's part; the groups' parts are
        # MonitoringPartStacks.
        part = split(catalog)[0]
        self.alarms = RunbookAlarms(self, "RunbookAlarms", specs=part.alarms, topic=topic, composites=part.composites)
        self.probes = self._probes(catalog, powertools_layer_version, log_retention, retain)
        self.bucket_metrics = BucketRequestMetrics(self, "BucketRequestMetrics", catalog=catalog,
                                                   log_retention=log_retention, retain_logs=retain)
        self.dashboards = dashboards(self, part.catalog or catalog, self.alarms, remediation=catalog)

    def _probes(self, catalog: Catalog, layer_version: int, log_retention: logs.RetentionDays,
                retain: bool) -> dict[str, ProbeFunction]:
        code = function_code(catalog)  # the same asset as the playbooks' (same sources, same hash)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", powertools_layer_arn(catalog, layer_version))
        # Exactly the fields of functions.probes.settings.ProbeSettings, plus Powertools' own.
        environment = {"CATALOG_PATH": CATALOG_PATH_IN_LAMBDA, "POWERTOOLS_SERVICE_NAME": SERVICE,
                       "POWERTOOLS_LOG_LEVEL": "INFO",
                       # The lag probe's brokers: MSK (functions/probes/kafka.py); said, not left to a default.
                       "LAG_OFFSETS_ADAPTER": "functions.probes.kafka:msk_offsets",
                       # Where a scale-up's pending start waits: the Glue outcomes probe does not count the
                       # service's own stop as a failure.
                       "BREAKER_TABLE": names.breaker_table(catalog)}

        def probe(name: str, extra_layers: tuple[Any, ...] | list[Any] = (), **kwargs: Any) -> ProbeFunction:
            declaration = PROBES[name]
            return ProbeFunction(
                self, "".join(p.title() for p in f"probe_{name}".split("_")),
                function_name=names.probe_function_name(catalog, name),
                log_group_name=names.probe_log_group_name(catalog, name),
                handler=declaration.handler,
                description=f"Runbook: {declaration.runbook_section} ({declaration.description})",
                code=code, layers=[powertools, *extra_layers], environment=environment,
                statements=probe_statements(catalog, name), log_retention=log_retention, retain_logs=retain,
                **kwargs)

        freshness = probe(
            "freshness",
            timeout=Duration.seconds(120),  # pages through every landing prefix (1,000 keys per request)
            # A failed or late measurement is replaced by the next run five minutes later: no retry. But the
            # freshness alarm treats missing data as nothing to judge, so a probe that cannot list the bucket
            # would go unseen: each failed run is parked, with its error, in the unhandled-events queue.
            retry_attempts=0, max_event_age=Duration.minutes(FRESHNESS_SCHEDULE_MINUTES - 1),
            on_failure_arn=names.queue_arn(catalog))
        freshness.on_schedule(
            rule_name=names.probe_rule_name(catalog, "freshness"),
            description=f"Every {FRESHNESS_SCHEDULE_MINUTES} minutes: age of the newest object per landing prefix",
            schedule=events.Schedule.rate(Duration.minutes(FRESHNESS_SCHEDULE_MINUTES)),
            max_event_age=Duration.minutes(FRESHNESS_SCHEDULE_MINUTES - 1))

        outcomes = probe(
            "glue_outcomes",
            timeout=Duration.seconds(30),
            # A run end that is not counted is a hole in the success rate: retried, then parked in the
            # unhandled-events queue (same 6 h horizon as the playbooks').
            retry_attempts=2, max_event_age=Duration.hours(6), on_failure_arn=names.queue_arn(catalog))
        # One rule while the job names fit one pattern; more, each with its share, when they do not.
        for index, pattern in enumerate(split_by_names(
                [job.name for job in catalog.glue_jobs],
                lambda jobs: {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
                              "detail": {"jobName": jobs, "state": list(END_STATES)}})):
            outcomes.on_pattern(
                rule_name=names.probe_rule_name(catalog, "glue_outcomes") + (f"-{index + 1}" if index else ""),
                description="Glue Job State Change events that end a run of a catalog job -> run outcome metrics",
                pattern=events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"],
                                            detail=pattern["detail"]),
                max_event_age=Duration.hours(6), construct_id="Events" + (str(index + 1) if index else ""))
        probes = {"freshness": freshness, "glue_outcomes": outcomes}
        if probed_jobs(catalog):
            probes["consumer_lag"] = self._lag_probe(catalog, probe)
        return probes

    def _lag_probe(self, catalog: Catalog, probe: Any) -> ProbeFunction:
        if catalog.network is None:
            raise ValueError("the consumer-lag probe reads the MSK brokers from their VPC: the catalog needs a "
                             "`network` section (or no streaming job with lag_source checkpoint or msk)")
        kafka = KafkaClientLayer(self, "KafkaClient")
        lag = probe(
            "consumer_lag",
            # Bounded network waits (functions/probes/kafka.py): a run ends with its reasons well before this.
            timeout=Duration.seconds(50),
            # A late measurement is worthless (the next one is a minute later): no retry; a failed run is
            # parked with its error, as the freshness probe's.
            retry_attempts=0, max_event_age=Duration.minutes(LAG_SCHEDULE_MINUTES),
            on_failure_arn=names.queue_arn(catalog), network=catalog.network, extra_layers=[kafka.layer])
        lag.on_schedule(
            rule_name=names.probe_rule_name(catalog, "consumer_lag"),
            description="Every minute: messages behind per streaming job, from its Spark checkpoint and the brokers",
            schedule=events.Schedule.rate(Duration.minutes(LAG_SCHEDULE_MINUTES)),
            max_event_age=Duration.minutes(LAG_SCHEDULE_MINUTES))
        return lag
