"""A catalog of 50 pipelines synthesizes within AWS's limits (issue 16; N = 200 is `make bench`'s): the monitoring
split by pipeline group (infra/monitoring_split.py), the outage count in tiers (infra/outage.py), the Glue event
rules split to fit a pattern (infra/patterns.py). Synthesis of 50 pipelines takes ~40 s on 2 cores: a drill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from functions.core.catalog import load_catalog
from functions.core.naming import OUTAGE_COMPONENT, OUTAGE_SIGNAL, alarm_name
from infra.monitoring_split import PIPELINES_PER_STACK
from infra.template import synth_templates
from remedy.scale import assert_within_limits, write_synthetic_catalog
from tests.infra.helpers import rule_alarms

pytestmark = pytest.mark.drill


@pytest.fixture(scope="module")
def fifty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, dict[str, Any]]]:
    path = write_synthetic_catalog(50, Path(tmp_path_factory.mktemp("scale")) / "fifty.yaml")
    return load_catalog(path), synth_templates("dev", catalog_path=path)


def test_fifty_pipelines_synthesize_within_every_limit(fifty: tuple[Any, dict[str, dict[str, Any]]]) -> None:
    catalog, templates = fifty
    measures = {m.limit.name: m for m in assert_within_limits(templates, region=catalog.region,
                                                               account=catalog.account_id)}
    assert measures["CloudFormation resources per stack"].value > 150  # the groups are real stacks, not empty
    prefix = f"{catalog.prefix}-monitoring"
    groups = sorted(s for s in templates if s.startswith(f"{prefix}-") and s[len(prefix) + 1:].isdigit())
    assert len(groups) == -(-50 // PIPELINES_PER_STACK) and f"{prefix}-outage" in templates


def test_the_outage_composite_keeps_its_name_actions_and_reads_the_tiers(
        fifty: tuple[Any, dict[str, dict[str, Any]]]) -> None:
    catalog, templates = fifty
    outage_stack = templates[f"{catalog.prefix}-monitoring-outage"]
    name = alarm_name(catalog.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT)
    [outage] = [r["Properties"] for r in outage_stack["Resources"].values()
                if r["Type"] == "AWS::CloudWatch::CompositeAlarm" and r["Properties"]["AlarmName"] == name]
    topic = f"arn:aws:sns:{catalog.region}:{catalog.account_id}:{catalog.notifications.on_call_topic}"
    assert outage["AlarmActions"] == [topic] and outage["OKActions"] == [topic]
    read = {a for _, a in rule_alarms(outage_stack, outage["AlarmRule"])}
    assert read and all("/composite-pipelines-down/" in a for a in read)
    # a group's pipeline composites are read across stacks by ARN, never through an export
    assert not any("Fn::ImportValue" in str(t) for t in templates.values())


def test_the_glue_rules_share_the_jobs(fifty: tuple[Any, dict[str, dict[str, Any]]]) -> None:
    catalog, templates = fifty
    jobs: list[str] = []
    for template in templates.values():
        for resource in template["Resources"].values():
            pattern = resource.get("Properties", {}).get("EventPattern", {})
            if resource["Type"] == "AWS::Events::Rule" and "Glue Job State Change" in pattern.get("detail-type", []):
                jobs += pattern["detail"]["jobName"]
    every = sorted(j.name for j in catalog.glue_jobs)
    assert sorted(jobs) == sorted(every * 2)  # each job in exactly one rule of the probe and one of the playbook
