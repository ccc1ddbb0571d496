"""Reading synthesized templates in the infra tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from functions.core.catalog import Catalog, catalog_path_for, load_catalog
from infra.app_builder import ROOT
from infra.template import synth_templates

ENVS = ("dev", "prod")


class Synth:
    """One env's synthesis: templates by stack name, the cdk-nag validation report, the catalog."""

    def __init__(self, env: str, outdir: Path):
        self.env = env
        self.catalog: Catalog = load_catalog(catalog_path_for(env, ROOT))
        self.templates = synth_templates(env, outdir=str(outdir))
        self.report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))

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
