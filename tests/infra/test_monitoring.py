"""MonitoringStack: one MSK consumer-lag alarm per streaming pipeline, as the runbook states it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.core.catalog import Catalog, catalog_path_for, load_catalog
from functions.core.naming import alarm_name, parse_alarm_name
from infra.app_builder import ROOT, build_app
from tests.infra.helpers import Synth, props, resources

pytestmark = pytest.mark.infra


def lag_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["AlarmName"]: p for p in props(template, "AWS::CloudWatch::Alarm")
            if p.get("MetricName") == "SumOffsetLag"}


def watched_pipelines(catalog: Catalog) -> list[Any]:
    return [job for job in catalog.glue_jobs if job.streaming and job.consumer_group]


def test_one_lag_alarm_per_streaming_job_with_a_consumer_group(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = lag_alarms(synth.monitoring)
    expected = {alarm_name(catalog.prefix, "consumer-lag", f"glue:{job.name}") for job in watched_pipelines(catalog)}
    assert expected, "the catalog has streaming pipelines to watch"
    assert set(alarms) == expected


def test_lag_alarm_is_the_runbook_threshold_on_the_pipelines_own_metric(synth: Synth) -> None:
    catalog = synth.catalog
    alarms = lag_alarms(synth.monitoring)
    for job in watched_pipelines(catalog):
        alarm = alarms[alarm_name(catalog.prefix, "consumer-lag", f"glue:{job.name}")]
        assert alarm["Namespace"] == "AWS/Kafka"
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
            "Cluster Name": catalog.msk.cluster_name, "Consumer Group": job.consumer_group, "Topic": job.topic}
        assert alarm["Threshold"] == catalog.thresholds.consumer_lag_messages
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 60)
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (5, 3)
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "Runbook: Monitoring / Alarms: MSK consumer lag > 10,000" in alarm["AlarmDescription"]
        assert "playbook msk_consumer_lag" in alarm["AlarmDescription"]


def test_every_alarm_tells_the_on_call_topic_both_ways(synth: Synth) -> None:
    catalog = synth.catalog
    topic = f"arn:aws:sns:{catalog.region}:{catalog.account_id}:{catalog.notifications.on_call_topic}"
    topics = {p["TopicName"] for p in props(synth.remediation, "AWS::SNS::Topic")}
    assert catalog.notifications.on_call_topic in topics  # the ARN names the topic the other stack creates
    for alarm in props(synth.monitoring, "AWS::CloudWatch::Alarm"):
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]


def test_alarm_names_parse_back_to_catalog_components(synth: Synth) -> None:
    for alarm in props(synth.monitoring, "AWS::CloudWatch::Alarm"):
        parsed = parse_alarm_name(alarm["AlarmName"], synth.catalog.prefix)
        assert parsed is not None and parsed.playbook is not None
        assert parsed.component in synth.catalog.components


def test_msk_dashboard_has_a_widget_per_pipeline(synth: Synth) -> None:
    dashboards = props(synth.monitoring, "AWS::CloudWatch::Dashboard")
    assert [d["DashboardName"] for d in dashboards] == [f"{synth.catalog.prefix}-msk"]
    body = "".join(part for part in dashboards[0]["DashboardBody"]["Fn::Join"][1] if isinstance(part, str))
    for job in watched_pipelines(synth.catalog):
        assert f"({job.name})" in body


def test_a_new_pipeline_in_the_catalog_gets_its_own_lag_alarm(tmp_path: Path) -> None:
    data = yaml.safe_load(catalog_path_for("dev", ROOT).read_text(encoding="utf-8"))
    data["msk"]["topics"].append({"name": "returns", "partitions": 6})
    data["msk"]["consumer_groups"].append({"name": "glue-returns-stream", "topic": "returns"})
    data["glue_jobs"].append({"name": "returns-stream", "kind": "streaming", "topic": "returns",
                              "consumer_group": "glue-returns-stream", "min_workers": 2, "max_workers": 4,
                              "writes_prefix": "landing/returns/"})
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    catalog = load_catalog(path)

    stacks = {s.stack_name: s.template for s in build_app("dev", bundling=False, catalog_path=path).synth().stacks}

    alarms = lag_alarms(stacks[f"{catalog.prefix}-monitoring"])
    assert len(alarms) == len(watched_pipelines(catalog)) == 3
    new = alarms["remedy-dev/consumer-lag/glue:returns-stream"]
    assert {d["Name"]: d["Value"] for d in new["Dimensions"]} == {
        "Cluster Name": catalog.msk.cluster_name, "Consumer Group": "glue-returns-stream", "Topic": "returns"}
    # The new job is within every declared Glue grant too (actions are scoped to all catalog jobs).
    policies = resources(stacks[f"{catalog.prefix}-remediation"], "AWS::IAM::Policy").values()
    granted = {r for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
               for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}
    assert f"arn:aws:glue:{catalog.region}:{catalog.account_id}:job/returns-stream" in granted
