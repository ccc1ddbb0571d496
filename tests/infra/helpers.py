"""Reading synthesized templates in the infra tests."""

from __future__ import annotations

import itertools
from typing import Any

from functions.core.catalog import Catalog, catalog_path_for, load_catalog
from infra.app_builder import ROOT
from infra.template import synthesized
from tests.conftest import ENVS  # noqa: F401 - every config/*.yaml


class Synth:
    """One env's synthesis: templates by stack name, the cdk-nag validation report, the catalog."""

    def __init__(self, env: str):
        self.env = env
        self.catalog: Catalog = load_catalog(catalog_path_for(env, ROOT))
        synthesis = synthesized(env)  # on disk by its inputs' digest: every worker and CLI subprocess shares it
        self.templates = synthesis.templates
        self.report = synthesis.report

    @property
    def monitoring(self) -> dict[str, Any]:
        return self.templates[f"{self.catalog.prefix}-monitoring"]

    @property
    def remediation(self) -> dict[str, Any]:
        return self.templates[f"{self.catalog.prefix}-remediation"]


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def props(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [v["Properties"] for v in resources(template, kind).values()]


def physical_name(template: dict[str, Any], ref: Any) -> str:
    """The fixed physical name behind {"Ref": logical} (tables, topics, parameters carry theirs)."""
    assert isinstance(ref, dict) and set(ref) == {"Ref"}, ref
    resource = template["Resources"][ref["Ref"]]
    p = resource["Properties"]
    if resource["Type"] == "AWS::SNS::Topic":
        return str(p["TopicName"])
    for key in ("TableName", "Name", "QueueName", "FunctionName"):
        if key in p:
            return str(p[key])
    raise AssertionError(f"{ref['Ref']} has no fixed physical name")


def metric_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Metric alarms by name."""
    return {p["AlarmName"]: p for p in props(template, "AWS::CloudWatch::Alarm")}


def composite_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["AlarmName"]: p for p in props(template, "AWS::CloudWatch::CompositeAlarm")}


def alarm_name_of(template: dict[str, Any], value: Any) -> str:
    """The alarm name behind {"Fn::GetAtt": [logical, "Arn"]} (how CDK references alarms in rules)."""
    assert isinstance(value, dict) and "Fn::GetAtt" in value, value
    return str(template["Resources"][value["Fn::GetAtt"][0]]["Properties"]["AlarmName"])


def rule_alarms(template: dict[str, Any], rule: Any) -> list[tuple[str, str]]:
    """(state function, alarm name) for every ALARM("…")/OK("…") in a composite's AlarmRule."""
    parts = rule["Fn::Join"][1] if isinstance(rule, dict) else [rule]
    found = []
    for before, ref in itertools.pairwise(parts):
        if isinstance(before, str) and isinstance(ref, dict):
            function = before.rstrip('("').rsplit(" ", 1)[-1].lstrip("(")
            found.append((function, alarm_name_of(template, ref)))
    return found


def text(value: Any) -> str:
    """The literal text of a (possibly Fn::Join-ed) template value, references dropped."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(text(part) for part in value["Fn::Join"][1])
    return ""


def dimensions(metric: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}


def metric_stats(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Id -> MetricStat of a metric-math alarm (what its expression reads)."""
    return {m["Id"]: m["MetricStat"] for m in alarm.get("Metrics", []) if "MetricStat" in m}


def expression(alarm: dict[str, Any]) -> str:
    [returned] = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
    return str(returned["Expression"])
