"""MonitoringStack: the runbook's Monitoring section, generated from the catalog.

Expectations come from the catalog (jobs, prefixes, thresholds, lineage) and the naming convention, never
from copies of the synthesized values: a catalog change moves the test and the templates together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.core.catalog import Catalog, catalog_path_for, load_catalog, parse_catalog
from functions.core.models import OutcomeStatus
from functions.core.naming import OUTAGE_SIGNAL, PIPELINE_SIGNAL, SIGNALS, alarm_name, parse_alarm_name
from functions.playbooks import PLAYBOOKS
from functions.playbooks.data_quality import landing_freshness_alarms
from functions.probes import PROBES
from functions.probes.glue_outcomes import END_STATES
from functions.probes.settings import ProbeSettings
from infra import names
from infra.app_builder import ROOT, build_app
from infra.permissions import probe_statements
from infra.signals import alarm_specs, composite_specs
from tests.infra.helpers import (
    Synth,
    composite_alarms,
    dimensions,
    expression,
    metric_alarms,
    metric_stats,
    props,
    resources,
    rule_alarms,
    text,
)

pytestmark = pytest.mark.infra

# A second opinion on infra/signals.py: what may explain a symptom further down the lineage.
CAUSES = {"msk-offline-partitions", "msk-under-replicated", "msk-controller", "msk-disk", "consumer-lag",
          "glue-failures", "landing-freshness"}
SYMPTOMS = {"landing-freshness", "glue-failures"}
CONCERNS = ("msk", "glue", "redshift", "s3", "remediation")


def name(catalog: Catalog, signal: str, component: str) -> str:
    return alarm_name(catalog.prefix, signal, component)


def watched_pipelines(catalog: Catalog) -> list[Any]:
    return [job for job in catalog.glue_jobs if job.streaming and job.topic]


def probed(catalog: Catalog) -> list[Any]:
    """Streaming jobs the lag probe looks at: checkpoint-sourced (their lag) and msk-sourced (their group)."""
    return [job for job in watched_pipelines(catalog) if job.lag_source in ("checkpoint", "msk")]


def expected_alarm_names(catalog: Catalog) -> dict[str, set[str]]:
    """Signal -> alarm names, from the catalog alone."""
    redshift, msk = f"redshift:{catalog.redshift.cluster_id}", f"msk:{catalog.msk.cluster_name}"
    jobs = [f"glue:{job.name}" for job in catalog.glue_jobs]
    expected = {
        "consumer-lag": {name(catalog, "consumer-lag", f"glue:{j.name}") for j in watched_pipelines(catalog)},
        "lag-unmeasured": {name(catalog, "lag-unmeasured", f"glue:{j.name}") for j in probed(catalog)},
        "glue-failures": {name(catalog, "glue-failures", j) for j in jobs},
        "glue-success-rate": {name(catalog, "glue-success-rate", j) for j in jobs},
        "landing-freshness": {name(catalog, "landing-freshness", f"s3:{p}") for p in catalog.s3.landing_prefixes},
        # Only the landing prefixes a batch job reads have staging quality flags to count.
        "quality-check-failures": {name(catalog, "quality-check-failures", f"s3:{j.reads_prefix}")
                                   for j in catalog.glue_jobs if not j.streaming
                                   and j.reads_prefix in catalog.s3.landing_prefixes},
    }
    for signal in ("redshift-cpu", "redshift-disk", "redshift-health", "redshift-queue"):
        expected[signal] = {name(catalog, signal, redshift)}
    for signal in ("msk-offline-partitions", "msk-under-replicated", "msk-controller", "msk-disk"):
        expected[signal] = {name(catalog, signal, msk)}
    return expected


def signal_of(alarm: str) -> str:
    return alarm.split("/")[1]


# --- every signal, counted from the catalog -----------------------------------------------------------

def test_every_runbook_monitoring_signal_has_its_alarms(synth: Synth) -> None:
    alarms = metric_alarms(synth.monitoring)
    expected = expected_alarm_names(synth.catalog)
    assert set(expected) <= set(SIGNALS), "the naming convention knows every detection signal"
    by_signal: dict[str, set[str]] = {}
    for alarm in alarms:
        by_signal.setdefault(signal_of(alarm), set()).add(alarm)
    assert {s: by_signal.get(s, set()) for s in expected} == expected


def test_alarm_names_parse_back_to_catalog_components(synth: Synth) -> None:
    for alarm in [*metric_alarms(synth.monitoring), *composite_alarms(synth.monitoring)]:
        parsed = parse_alarm_name(alarm, synth.catalog.prefix)
        assert parsed is not None, alarm
        assert parsed.signal in SIGNALS or parsed.signal.startswith("composite-"), alarm
        if parsed.signal in (PIPELINE_SIGNAL, OUTAGE_SIGNAL):
            # A pipeline or the whole service, on purpose no component: the lineage hold reads components.
            assert parsed.component not in synth.catalog.components, alarm
            continue
        assert parsed.component in synth.catalog.components, alarm


def test_every_alarm_is_configured_on_purpose(synth: Synth) -> None:
    for alarm_id, alarm in metric_alarms(synth.monitoring).items():
        periods = [int(alarm["Period"])] if "Period" in alarm else [
            int(s["Period"]) for s in metric_stats(alarm).values()]
        for period in periods:
            assert period in (10, 20, 30) or period % 60 == 0, alarm_id
        assert len(set(periods)) == 1, f"{alarm_id}: one period for every metric the expression reads"
        assert 1 <= alarm["DatapointsToAlarm"] <= alarm["EvaluationPeriods"], alarm_id
        assert alarm["TreatMissingData"] in {"breaching", "notBreaching", "ignore", "missing"}, alarm_id
        assert "Runbook: " in alarm["AlarmDescription"], alarm_id
        assert len(alarm["AlarmDescription"]) <= 1024, alarm_id
    for alarm_id, alarm in composite_alarms(synth.monitoring).items():
        assert "Runbook: " in alarm["AlarmDescription"] and len(alarm["AlarmDescription"]) <= 1024, alarm_id


# --- MSK consumer lag -----------------------------------------------------------------------------------

def test_lag_alarm_is_the_runbook_threshold_on_the_metric_its_lag_source_names(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    sources = set()
    for job in watched_pipelines(catalog):
        alarm = alarms[name(catalog, "consumer-lag", f"glue:{job.name}")]
        sources.add(job.lag_source)
        if job.lag_source == "msk":  # the group commits: MSK's consumer-group lag exists
            assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Kafka", "SumOffsetLag")
            assert dimensions(alarm) == {
                "Cluster Name": catalog.msk.cluster_name, "Consumer Group": job.consumer_group, "Topic": job.topic}
            assert alarm["TreatMissingData"] == "notBreaching"
        else:  # checkpoint (the default): the lag probe's messages behind, exactly its dimension
            assert (alarm["Namespace"], alarm["MetricName"]) == ("Remedy/DataLake", "ConsumerLagMessages")
            assert dimensions(alarm) == {"JobName": job.name}
            # The probe publishes every minute: missing = it did not run or could not measure; state kept.
            assert alarm["TreatMissingData"] == "ignore"
        assert alarm["Threshold"] == catalog.thresholds.consumer_lag_messages  # messages, both ways
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 60)
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (5, 3)
        assert "Runbook: Monitoring / Alarms: MSK consumer lag > 10,000" in alarm["AlarmDescription"]
        assert "playbook msk_consumer_lag" in alarm["AlarmDescription"]
    assert "checkpoint" in sources, "the default lag source is rehearsed in every env"


def test_glue_lag_source_alarms_on_its_own_threshold_in_milliseconds() -> None:
    from functions.playbooks.msk_consumer_lag import consumer_lag_alarms

    raw_dev = yaml.safe_load(catalog_path_for("dev", ROOT).read_text(encoding="utf-8"))
    job = next(j for j in raw_dev["glue_jobs"] if j["name"] == "orders-stream")
    job.update(lag_source="glue", lag_threshold_ms=120_000)
    catalog = parse_catalog(raw_dev)
    [spec] = [a for a in consumer_lag_alarms(catalog) if a.component == "glue:orders-stream"]
    assert (spec.metric.namespace, spec.metric.name) == ("Glue", "glue.driver.streaming.maxConsumerLagInMs")
    assert dict(spec.metric.dimensions) == {"JobName": "orders-stream", "JobRunId": "ALL", "Type": "gauge"}
    assert spec.threshold == 120_000 and "120,000 ms" in spec.description
    assert spec.treat_missing_data == "notBreaching"


def test_lag_unmeasured_alarm_pages_when_the_probe_is_blind_for_3_of_5_minutes(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    topic = names.topic_arn(catalog)
    for job in probed(catalog):
        alarm = alarms[name(catalog, "lag-unmeasured", f"glue:{job.name}")]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("Remedy/DataLake", "ConsumerLagUnmeasured")
        assert dimensions(alarm) == {"JobName": job.name}
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
            "Maximum", 60, 5, 3)
        assert alarm["TreatMissingData"] == "ignore"
        assert alarm["AlarmActions"] == [topic]  # it pages


# --- Glue: failures and success rate (the outcomes probe's metrics) ---------------------------------------

def test_glue_failure_alarm_per_job_counts_the_probes_failed_runs(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    for job in catalog.glue_jobs:
        alarm = alarms[name(catalog, "glue-failures", f"glue:{job.name}")]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "Remedy/DataLake", "GlueJobRunFailed", "Sum")
        assert dimensions(alarm) == {"JobName": job.name}
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 1, 1)
        assert alarm["TreatMissingData"] == "notBreaching"  # no run ended: nothing failed
        assert "Glue job failures" in alarm["AlarmDescription"]


def test_glue_success_rate_is_metric_math_on_both_counts_below_the_catalog_rate(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    for job in catalog.glue_jobs:
        alarm = alarms[name(catalog, "glue-success-rate", f"glue:{job.name}")]
        assert expression(alarm) == "100 * succeeded / (succeeded + failed)"
        stats = metric_stats(alarm)
        assert {k: (s["Metric"]["Namespace"], s["Metric"]["MetricName"], s["Stat"]) for k, s in stats.items()} == {
            "succeeded": ("Remedy/DataLake", "GlueJobRunSucceeded", "Sum"),
            "failed": ("Remedy/DataLake", "GlueJobRunFailed", "Sum")}
        assert all(dimensions(s["Metric"]) == {"JobName": job.name} for s in stats.values())
        assert not any(m.get("ReturnData", True) for m in alarm["Metrics"] if "MetricStat" in m)
        assert alarm["Threshold"] == catalog.thresholds.glue_success_rate_percent
        assert alarm["ComparisonOperator"] == "LessThanThreshold"
        assert {int(s["Period"]) for s in stats.values()} == {3600}
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (6, 3)
        assert alarm["TreatMissingData"] == "notBreaching"


# --- Redshift --------------------------------------------------------------------------------------------

def test_redshift_alarms_watch_the_cluster_level_series(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    component = f"redshift:{catalog.redshift.cluster_id}"
    expected = {"redshift-cpu": ("CPUUtilization", "GreaterThanThreshold", catalog.thresholds.redshift_cpu_percent),
                "redshift-disk": ("PercentageDiskSpaceUsed", "GreaterThanThreshold", None),
                "redshift-health": ("HealthStatus", "LessThanThreshold", 1),
                "redshift-queue": ("WLMQueueLength", "GreaterThanThreshold", None)}
    for signal, (metric, comparison, threshold) in expected.items():
        alarm = alarms[name(catalog, signal, component)]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["ComparisonOperator"]) == (
            "AWS/Redshift", metric, comparison), signal
        assert dimensions(alarm) == {"ClusterIdentifier": catalog.redshift.cluster_id}, signal
        if threshold is not None:
            assert alarm["Threshold"] == threshold, signal
        assert 0 < alarm["Threshold"] <= 100, signal
    assert "Redshift CPU > 80 %" in alarms[name(catalog, "redshift-cpu", component)]["AlarmDescription"]


# --- data freshness (the freshness probe's metric) ---------------------------------------------------------

def test_freshness_alarm_per_landing_prefix_on_exactly_the_probes_dimensions(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    [schedule] = [r for r in props(synth.monitoring, "AWS::Events::Rule")
                  if r.get("Name") == f"{synth.catalog.prefix}-probe-freshness"]
    minutes = int(schedule["ScheduleExpression"].removeprefix("rate(").split()[0])
    for prefix in catalog.s3.landing_prefixes:
        alarm = alarms[name(catalog, "landing-freshness", f"s3:{prefix}")]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "Remedy/DataLake", "LandingAgeMinutes", "Maximum")
        # Exactly what the probe emits (functions.probes.freshness): no `service` dimension.
        assert dimensions(alarm) == {"Bucket": catalog.s3.name, "Prefix": prefix}
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
            catalog.thresholds.landing_freshness_minutes, "GreaterThanThreshold")
        assert alarm["Period"] == minutes * 60, "one probe run per period"
        assert alarm["TreatMissingData"] == "ignore"


def test_quality_check_alarm_per_landing_prefix_a_batch_job_reads_on_exactly_the_probes_dimensions(
        synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    [schedule] = [r for r in props(synth.monitoring, "AWS::Events::Rule")
                  if r.get("Name") == f"{synth.catalog.prefix}-probe-freshness"]
    minutes = int(schedule["ScheduleExpression"].removeprefix("rate(").split()[0])
    read = {j.reads_prefix for j in catalog.glue_jobs if not j.streaming}
    assert read & set(catalog.s3.landing_prefixes), "the dev and prod catalogs have batch jobs reading landing"
    for prefix in catalog.s3.landing_prefixes:
        found = alarms.get(name(catalog, "quality-check-failures", f"s3:{prefix}"))
        if prefix not in read:
            assert found is None, "no batch job reads it: no flags, no alarm"
            continue
        assert found is not None, prefix
        assert (found["Namespace"], found["MetricName"], found["Statistic"]) == (
            "Remedy/DataLake", "QualityCheckFailures", "Maximum")
        # Exactly what the probe emits (functions.probes.quality): no `service` dimension.
        assert dimensions(found) == {"Bucket": catalog.s3.name, "Prefix": prefix}
        # Any failed partition, at the first datapoint; a probe that did not run keeps the state.
        assert (found["Threshold"], found["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert (found["EvaluationPeriods"], found["DatapointsToAlarm"]) == (1, 1)
        assert found["Period"] == minutes * 60, "one probe run per period"
        assert found["TreatMissingData"] == "ignore"
        assert found["AlarmActions"], "it pages (with or without the playbook)"
    boards = {d["DashboardName"]: text(d["DashboardBody"]) for d in props(synth.monitoring, "AWS::CloudWatch::Dashboard")}
    assert {f"Partitions failing their quality check: {p}" in boards[f"{catalog.prefix}-s3"]
            for p in catalog.s3.landing_prefixes if p in read} == {True}, "beside the prefix's landing age"


# --- MSK broker health ------------------------------------------------------------------------------------

def test_broker_health_alarms_read_the_cluster_or_every_broker(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = metric_alarms(synth.monitoring)
    component = f"msk:{catalog.msk.cluster_name}"
    cluster = {"Cluster Name": catalog.msk.cluster_name}
    brokers = [str(b) for b in range(1, catalog.msk.broker_count + 1)]

    offline = alarms[name(catalog, "msk-offline-partitions", component)]
    assert (offline["MetricName"], dimensions(offline)) == ("OfflinePartitionsCount", cluster)
    assert (offline["Threshold"], offline["ComparisonOperator"]) == (0, "GreaterThanThreshold")

    for signal, metric, function in (("msk-under-replicated", "UnderReplicatedPartitions", "SUM"),
                                     ("msk-disk", "KafkaDataLogsDiskUsed", "MAX")):
        alarm = alarms[name(catalog, signal, component)]
        stats = metric_stats(alarm)
        assert {s["Metric"]["MetricName"] for s in stats.values()} == {metric}
        assert sorted(dimensions(s["Metric"])["Broker ID"] for s in stats.values()) == sorted(brokers)
        assert all(dimensions(s["Metric"])["Cluster Name"] == catalog.msk.cluster_name for s in stats.values())
        assert expression(alarm) == f"{function}([{', '.join(sorted(stats))}])"

    controller = alarms[name(catalog, "msk-controller", component)]
    [stat] = metric_stats(controller).values()
    assert (stat["Metric"]["MetricName"], dimensions(stat["Metric"]), stat["Stat"]) == (
        "ActiveControllerCount", cluster, "Sum")
    assert expression(controller) == "ABS(controllers - 1)"  # != 1 as one alarm
    assert (controller["Threshold"], controller["ComparisonOperator"]) == (0, "GreaterThanThreshold")


# --- who pages: the lineage ---------------------------------------------------------------------------------

def expected_causes(catalog: Catalog, component: str, alarms: dict[str, Any]) -> set[str]:
    upstream = set(catalog.upstream_of(component))
    return {a for a in alarms if signal_of(a) in CAUSES and a.split("/", 2)[2] in upstream}


def test_composites_page_a_symptom_only_without_an_upstream_cause(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    alarms, composites = metric_alarms(template), composite_alarms(template)
    symptoms = [a for a in alarms if signal_of(a) in SYMPTOMS]
    assert symptoms
    seen = set()
    for symptom in symptoms:
        component = symptom.split("/", 2)[2]
        causes = expected_causes(catalog, component, alarms)
        page = name(catalog, f"composite-{signal_of(symptom)}", component)
        upstream = name(catalog, "composite-upstream", component)
        if not causes:
            assert page not in composites
            continue
        seen |= {page, upstream}
        assert rule_alarms(template, composites[page]["AlarmRule"]) == [("ALARM", symptom)]
        # The causes: exactly the lineage's upstream alarms, any of them.
        rule = composites[upstream]["AlarmRule"]
        found = rule_alarms(template, rule)
        assert {f for f, _ in found} == {"ALARM"} and {a for _, a in found} == causes, component
        assert text(rule).replace('(ALARM("', "").replace('") OR ALARM("', "").replace('"))', "") == ""
        suppressor = composites[page]["ActionsSuppressor"]
        assert template["Resources"][suppressor["Fn::GetAtt"][0]]["Properties"]["AlarmName"] == upstream
        assert composites[page]["ActionsSuppressorWaitPeriod"] > 0
        assert composites[page]["ActionsSuppressorExtensionPeriod"] > 0
    # The whole service's composites (pipelines, outage) are tested in tests/infra/test_procedure_start.py.
    service = {c for c in composites if signal_of(c) in (PIPELINE_SIGNAL, OUTAGE_SIGNAL)}
    assert seen == set(composites) - service, "no composite the lineage does not explain"


def test_dev_lineage_landing_orders_is_held_by_its_stream_and_the_brokers(synths: dict[str, Synth]) -> None:
    catalog, template = synths["dev"].catalog, synths["dev"].monitoring
    upstream = composite_alarms(template)[name(catalog, "composite-upstream", "s3:landing/orders/")]
    msk = f"msk:{catalog.msk.cluster_name}"
    assert {a for _, a in rule_alarms(template, upstream["AlarmRule"])} == {
        name(catalog, "consumer-lag", "glue:orders-stream"), name(catalog, "glue-failures", "glue:orders-stream"),
        *(name(catalog, s, msk) for s in ("msk-offline-partitions", "msk-under-replicated", "msk-controller",
                                          "msk-disk"))}


def test_the_on_call_topic_hears_every_page_both_ways_and_nothing_else(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    topic = f"arn:aws:sns:{catalog.region}:{catalog.account_id}:{catalog.notifications.on_call_topic}"
    topics = {p["TopicName"] for p in props(synth.remediation, "AWS::SNS::Topic")}
    assert catalog.notifications.on_call_topic in topics  # the ARN names the topic the other stack creates
    composites = composite_alarms(template)
    paged_by_composite = {a for c in composites.values() if "ActionsSuppressor" in c
                          for _, a in rule_alarms(template, c["AlarmRule"])}
    for alarm_id, alarm in [*metric_alarms(template).items(), *composites.items()]:
        quiet = alarm_id in paged_by_composite or signal_of(alarm_id) in ("composite-upstream", PIPELINE_SIGNAL)
        actions = (alarm.get("AlarmActions"), alarm.get("OKActions"))
        assert actions == ((None, None) if quiet else ([topic], [topic])), alarm_id
        assert "InsufficientDataActions" not in alarm


def test_without_lineage_every_symptom_pages_itself(synth: Synth) -> None:
    data = json.loads(json.dumps(synth.catalog.model_dump(mode="json", by_alias=True)))
    data["lineage"] = []
    catalog = parse_catalog(data, "no lineage")
    assert composite_specs(catalog) == []
    assert all(spec.pages for spec in alarm_specs(catalog))


# --- probes ---------------------------------------------------------------------------------------------------

def probe_functions(synth: Synth) -> dict[str, dict[str, Any]]:
    by_name = {p["FunctionName"]: p for p in props(synth.monitoring, "AWS::Lambda::Function") if "FunctionName" in p}
    return {probe: by_name[f"{synth.catalog.prefix}-probe-{probe.replace('_', '-')}"] for probe in PROBES}


def logical(template: dict[str, Any], function_name: str) -> str:
    [found] = [k for k, v in resources(template, "AWS::Lambda::Function").items()
               if v["Properties"].get("FunctionName") == function_name]
    return found


def test_probe_functions_run_the_probe_handlers_with_exactly_their_settings(synth: Synth) -> None:
    settings = {str(f.alias) for f in ProbeSettings.model_fields.values()}
    groups = resources(synth.monitoring, "AWS::Logs::LogGroup")
    for probe, function in probe_functions(synth).items():
        assert function["Handler"] == PROBES[probe].handler
        module = PROBES[probe].handler.rpartition(".")[0]
        assert (ROOT / Path(*module.split("."))).with_suffix(".py").is_file()
        assert function["Runtime"] == "python3.14" and function["Architectures"] == ["x86_64"]
        assert function["TracingConfig"] == {"Mode": "Active"}
        variables = function["Environment"]["Variables"]
        assert set(variables) == settings | {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}
        assert variables["CATALOG_PATH"] == "/var/task/catalog.json"
        layers = function["Layers"]
        assert any("AWSLambdaPowertoolsPythonV3-python314-x86_64" in str(layer) for layer in layers)
        # Third-party packages only where needed: the Kafka client's layer for the lag probe alone.
        assert len(layers) == (2 if probe == "consumer_lag" else 1), probe
        assert ("VpcConfig" in function) == (probe == "consumer_lag"), probe
        group = groups[function["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert group["LogGroupName"] == f"/aws/lambda/{function['FunctionName']}"
        assert group["RetentionInDays"] > 0


def test_freshness_probe_runs_every_five_minutes(synth: Synth) -> None:
    template = synth.monitoring
    function = logical(template, f"{synth.catalog.prefix}-probe-freshness")
    [rule] = [r for r in props(template, "AWS::Events::Rule")
              if r.get("Name") == f"{synth.catalog.prefix}-probe-freshness"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [function, "Arn"]}]
    [config] = [c for c in props(template, "AWS::Lambda::EventInvokeConfig")
                if c["FunctionName"] == {"Ref": function}]
    assert config["MaximumRetryAttempts"] == 0  # the next run replaces a failed one
    # A run that could not measure is parked with its error (the freshness alarm ignores missing data).
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": names.queue_arn(synth.catalog)}}


def test_lag_probe_runs_every_minute_in_the_clusters_vpc(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    function = logical(template, f"{catalog.prefix}-probe-consumer-lag")
    [rule] = [r for r in props(template, "AWS::Events::Rule") if r.get("Name") == f"{catalog.prefix}-probe-consumer-lag"]
    assert rule["ScheduleExpression"] == "rate(1 minute)"  # the lag alarm's period
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [function, "Arn"]}]
    [config] = [c for c in props(template, "AWS::Lambda::EventInvokeConfig")
                if c["FunctionName"] == {"Ref": function}]
    assert config["MaximumRetryAttempts"] == 0  # a late measurement is worthless: the next run is a minute later
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": names.queue_arn(catalog)}}
    vpc = template["Resources"][function]["Properties"]["VpcConfig"]
    assert catalog.network is not None
    assert vpc["SubnetIds"] == catalog.network.private_subnet_ids
    assert template["Resources"][function]["Properties"]["Timeout"] <= 60


def test_glue_outcomes_probe_hears_every_run_end_of_the_catalogs_jobs(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    function = logical(template, f"{catalog.prefix}-probe-glue-outcomes")
    [rule] = [r for r in props(template, "AWS::Events::Rule") if "EventPattern" in r]
    assert rule["EventPattern"] == {
        "source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": [j.name for j in catalog.glue_jobs], "state": list(END_STATES)}}
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [function, "Arn"]}]
    [config] = [c for c in props(template, "AWS::Lambda::EventInvokeConfig")
                if c["FunctionName"] == {"Ref": function}]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == (
        f"arn:aws:sqs:{catalog.region}:{catalog.account_id}:{catalog.prefix}-unhandled-events")


def role_policy(template: dict[str, Any], role_ref: dict[str, Any]) -> list[dict[str, Any]]:
    role_id = role_ref["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    return [s for p in resources(template, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]


def as_set(value: Any) -> frozenset[str]:
    return frozenset(value if isinstance(value, list) else [value])


XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}  # active tracing (Powertools Tracer)


def VPC_ACTIONS(catalog: Catalog) -> set[str]:
    """What Lambda needs for a function in a VPC (infra.permissions.vpc_statements)."""
    from infra.permissions import vpc_statements

    return {a for s in vpc_statements(catalog, PROBES["consumer_lag"]) for a in s.actions}  # type: ignore[arg-type]


def test_probe_roles_hold_exactly_what_the_probes_call(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    bucket = f"arn:aws:s3:::{catalog.s3.name}"
    for probe, function in probe_functions(synth).items():
        granted = role_policy(template, function["Role"])
        assert {(s["Sid"], as_set(s["Action"]), as_set(s["Resource"]), json.dumps(s.get("Condition"))) for s in
                granted} == {(s.sid, frozenset(s.actions), frozenset(s.resources),
                              json.dumps({o: {k: list(v) for k, v in c.items()} for o, c in s.conditions.items()}
                                         or None)) for s in probe_statements(catalog, probe)}
        logs = f"arn:aws:logs:{catalog.region}:{catalog.account_id}:log-group:/aws/lambda/{function['FunctionName']}:*"
        by_action = {a: (as_set(s["Resource"]), s.get("Condition")) for s in granted for a in as_set(s["Action"])}
        assert by_action["logs:PutLogEvents"][0] == {logs}
        if probe == "freshness":
            assert set(by_action) == {"logs:CreateLogStream", "logs:PutLogEvents", "s3:ListBucket",
                                      "s3:GetObject", "sqs:SendMessage"} | XRAY
            listing = {s["Sid"]: (as_set(s["Resource"]), s.get("Condition")) for s in granted
                       if s["Action"] == "s3:ListBucket"}
            # The landing prefixes (their age), and each batch job's staging quality flags (their verdicts).
            batch = sorted(j.name for j in catalog.glue_jobs if not j.streaming
                           and j.reads_prefix in catalog.s3.landing_prefixes)
            flags = [f"{catalog.s3.quality_flags_prefix}{job}/" for job in batch]
            assert listing == {
                "ListLandingPrefixes": ({bucket}, {"StringEquals": {"s3:prefix": list(catalog.s3.landing_prefixes)}}),
                "ListQualityFlags": ({bucket}, {"StringEquals": {"s3:prefix": flags}})}
            assert by_action["s3:GetObject"] == ({f"{bucket}/{p}*" for p in flags}, None)
        elif probe == "consumer_lag":
            assert set(by_action) == {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage",
                                      "kafka:ListClustersV2", "kafka:GetBootstrapBrokers", "kafka-cluster:Connect",
                                      "kafka-cluster:DescribeTopic", "s3:ListBucket", "s3:GetObject",
                                      } | XRAY | VPC_ACTIONS(catalog) | (
                {"kafka-cluster:DescribeGroup"} if any(j.lag_source == "msk" for j in probed(catalog)) else set())
            cluster = f"arn:aws:kafka:{catalog.region}:{catalog.account_id}"
            assert by_action["kafka-cluster:Connect"][0] == {f"{cluster}:cluster/{catalog.msk.cluster_name}/*"}
            assert by_action["kafka-cluster:DescribeTopic"][0] == {
                f"{cluster}:topic/{catalog.msk.cluster_name}/*/{j.topic}" for j in probed(catalog)}
            if "kafka-cluster:DescribeGroup" in by_action:  # only groups said to commit (lag_source msk)
                assert by_action["kafka-cluster:DescribeGroup"][0] == {
                    f"{cluster}:group/{catalog.msk.cluster_name}/*/{j.consumer_group}"
                    for j in probed(catalog) if j.lag_source == "msk"}
            checkpoints = [j for j in probed(catalog) if j.lag_source == "checkpoint"]
            assert by_action["s3:GetObject"][0] == {
                f"arn:aws:s3:::{j.checkpoint_bucket}/{j.checkpoint_prefix}offsets/*" for j in checkpoints}
            listing = [s for s in granted if s["Action"] == "s3:ListBucket"]
            assert {p for s in listing for p in s["Condition"]["StringEquals"]["s3:prefix"]} == {
                f"{j.checkpoint_prefix}{log}/" for j in checkpoints for log in ("offsets", "commits")}
        else:
            assert set(by_action) == {"logs:CreateLogStream", "logs:PutLogEvents", "glue:GetJobRuns",
                                      "dynamodb:GetItem", "sqs:SendMessage"} | XRAY
            assert by_action["glue:GetJobRuns"][0] == {
                f"arn:aws:glue:{catalog.region}:{catalog.account_id}:job/{j.name}"
                for j in catalog.glue_jobs if j.streaming}
            # The breaker table only, where a scale-up's pending start waits (its own stop is not a failure).
            assert by_action["dynamodb:GetItem"][0] == {
                f"arn:aws:dynamodb:{catalog.region}:{catalog.account_id}:table/{catalog.prefix}-breaker"}


def test_bucket_request_metrics_are_configured_by_a_least_privilege_custom_resource(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.monitoring
    [resource] = props(template, "Custom::BucketRequestMetrics")
    create, delete = json.loads(resource["Create"]), json.loads(resource["Delete"])
    assert (create["service"], create["action"]) == ("S3", "putBucketMetricsConfiguration")
    assert create["parameters"] == {"Bucket": catalog.s3.name, "Id": "EntireBucket",
                                    "MetricsConfiguration": {"Id": "EntireBucket"}}
    assert json.loads(resource["Update"]) == create
    assert (delete["action"], delete["parameters"]) == ("deleteBucketMetricsConfiguration",
                                                        {"Bucket": catalog.s3.name, "Id": "EntireBucket"})
    [provider] = [p for p in props(template, "AWS::Lambda::Function") if "FunctionName" not in p]
    granted = role_policy(template, provider["Role"])
    by_action = {a: as_set(s["Resource"]) for s in granted for a in as_set(s["Action"])}
    assert set(by_action) == {"logs:CreateLogStream", "logs:PutLogEvents", "s3:PutMetricsConfiguration"}
    assert by_action["s3:PutMetricsConfiguration"] == {f"arn:aws:s3:::{catalog.s3.name}"}


# --- dashboards -------------------------------------------------------------------------------------------------

def dashboards(synth: Synth) -> dict[str, str]:
    return {d["DashboardName"]: text(d["DashboardBody"]) for d in props(synth.monitoring, "AWS::CloudWatch::Dashboard")}


def test_one_dashboard_per_concern(synth: Synth) -> None:
    assert set(dashboards(synth)) == {f"{synth.catalog.prefix}-{c}" for c in CONCERNS}


def boards(synth: Synth) -> dict[str, str]:
    return {name.removeprefix(f"{synth.catalog.prefix}-"): body for name, body in dashboards(synth).items()}


def test_msk_and_glue_dashboards_have_a_section_per_pipeline(synth: Synth) -> None:
    catalog, board = synth.catalog, boards(synth)
    for job in watched_pipelines(catalog):
        assert f"({job.name})" in board["msk"] and f"Pipeline {job.name}" in board["msk"]
    for metric in ("BytesInPerSec", "BytesOutPerSec", "NetworkRxErrors", "EstimatedMaxTimeLag"):
        assert metric in board["msk"]
    for job in catalog.glue_jobs:
        assert f"job {job.name}:" in board["glue"]
    for metric in ("GlueJobRunSucceeded", "GlueJobRunFailed", "glue.driver.aggregate.elapsedTime",
                   "numberAllExecutors"):
        assert metric in board["glue"]


def test_redshift_and_s3_dashboards_group_per_table_and_landing_prefix(synth: Synth) -> None:
    catalog, board = synth.catalog, boards(synth)
    for table in {j.loads_table for j in catalog.glue_jobs if j.loads_table}:
        assert f"Table {table}" in board["redshift"]
    for metric in ("QueryDuration", "WLMQueueWaitTime", "DatabaseConnections"):
        assert metric in board["redshift"]
    for prefix in catalog.s3.landing_prefixes:
        assert f"Landing {prefix}" in board["s3"]
    for metric in ("AllRequests", "GetRequests", "BytesDownloaded", "BytesUploaded", '"FilterId","EntireBucket"'):
        assert metric in board["s3"]


def test_remediation_dashboard_reads_the_playbooks_outcome_metrics(synth: Synth) -> None:
    board = boards(synth)["remediation"]
    for playbook in set(PLAYBOOKS) | {p for p in SIGNALS.values() if p}:
        assert f"Playbook {playbook}" in board
    for status in OutcomeStatus:
        assert f'"Status","{status.value}"' in board
    assert '"service","remedy"' in board and "TimeToRecoveryMinutes" in board


# --- the catalog grows: one more pipeline, one more landing prefix -------------------------------------------

def test_a_new_pipeline_in_the_catalog_gets_its_alarms_probe_scope_and_widgets(tmp_path: Path) -> None:
    data = yaml.safe_load(catalog_path_for("dev", ROOT).read_text(encoding="utf-8"))
    data["msk"]["topics"].append({"name": "returns", "partitions": 6})
    data["msk"]["consumer_groups"].append({"name": "glue-returns-stream", "topic": "returns"})
    data["glue_jobs"].append({"name": "returns-stream", "kind": "streaming", "topic": "returns",
                              "consumer_group": "glue-returns-stream", "min_workers": 2, "max_workers": 4,
                              "role_name": "retail-datalake-dev-glue-returns-stream",
                              "checkpoint_location": "s3://aws-glue-assets-111111111111-eu-west-1/returns/",
                              "writes_prefix": "landing/returns/"})
    data["s3"]["landing_prefixes"].append("landing/returns/")
    data["lineage"] += [{"upstream": f"msk:{data['msk']['cluster_name']}", "downstream": "topic:returns"},
                        {"upstream": "topic:returns", "downstream": "glue:returns-stream"},
                        {"upstream": "glue:returns-stream", "downstream": "s3:landing/returns/"}]
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    before, catalog = load_catalog(catalog_path_for("dev", ROOT)), load_catalog(path)

    stacks = {s.stack_name: s.template for s in build_app("dev", bundling=False, catalog_path=path).synth().stacks}
    template = stacks[f"{catalog.prefix}-monitoring"]

    alarms = metric_alarms(template)
    old = {s: len(n) for s, n in expected_alarm_names(before).items()}
    counts = {s: sum(1 for a in alarms if signal_of(a) == s) for s in old}
    assert counts == {s: n + (1 if s in {"consumer-lag", "lag-unmeasured", "glue-failures", "glue-success-rate",
                                         "landing-freshness"} else 0) for s, n in old.items()}
    assert len(landing_freshness_alarms(catalog)) == len(landing_freshness_alarms(before)) + 1
    new = alarms[name(catalog, "consumer-lag", "glue:returns-stream")]
    assert dimensions(new) == {"JobName": "returns-stream"}  # lag_source checkpoint: the lag probe's metric
    assert dimensions(alarms[name(catalog, "landing-freshness", "s3:landing/returns/")]) == {
        "Bucket": catalog.s3.name, "Prefix": "landing/returns/"}
    # The new prefix's page is held by its own stream and the brokers.
    composites = composite_alarms(template)
    upstream = composites[name(catalog, "composite-upstream", "s3:landing/returns/")]
    assert {a for _, a in rule_alarms(template, upstream["AlarmRule"])} == expected_causes(
        catalog, "s3:landing/returns/", alarms)
    assert name(catalog, "glue-failures", "glue:returns-stream") in {
        a for _, a in rule_alarms(template, upstream["AlarmRule"])}
    # The probes reach it: listing scope and event pattern.
    policies = [s for p in resources(template, "AWS::IAM::Policy").values()
                for s in p["Properties"]["PolicyDocument"]["Statement"]]
    [listing] = [s for s in policies if s["Action"] == "s3:ListBucket" and s["Sid"] == "ListLandingPrefixes"]
    [checkpoints] = [s for s in policies if s["Action"] == "s3:GetObject" and "offsets/*" in str(s["Resource"])]
    assert "arn:aws:s3:::aws-glue-assets-111111111111-eu-west-1/returns/offsets/*" in checkpoints["Resource"]
    assert "landing/returns/" in listing["Condition"]["StringEquals"]["s3:prefix"]
    [rule] = [r for r in props(template, "AWS::Events::Rule") if "EventPattern" in r]
    assert "returns-stream" in rule["EventPattern"]["detail"]["jobName"]
    boards = {d["DashboardName"]: text(d["DashboardBody"]) for d in props(template, "AWS::CloudWatch::Dashboard")}
    assert "Pipeline returns-stream" in boards[f"{catalog.prefix}-msk"]
    assert "Landing landing/returns/" in boards[f"{catalog.prefix}-s3"]
    # The new job is within every declared Glue grant of the playbooks too (scoped to all catalog jobs).
    granted = {r for p in resources(stacks[f"{catalog.prefix}-remediation"], "AWS::IAM::Policy").values()
               for s in p["Properties"]["PolicyDocument"]["Statement"]
               for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}
    assert f"arn:aws:glue:{catalog.region}:{catalog.account_id}:job/returns-stream" in granted
