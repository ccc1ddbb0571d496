"""A Lambda-rotated admin secret (finding 6 of the fidelity issue): RotateSecret makes Secrets Manager invoke the
rotation function with the caller's permissions, so the security-incident procedure's role must be allowed to
invoke exactly that function; a Redshift-managed secret needs no such grant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.core.catalog import CatalogError, load_catalog
from infra.template import synth_templates
from tests.infra.helpers import ENVS, Synth, resources

ROOT = Path(__file__).resolve().parents[2]


def _invoke_grants(template: dict[str, Any]) -> list[Any]:
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "lambda:InvokeFunction" in actions and "Rotat" in str(statement.get("Sid", "")):
                found.append(statement["Resource"])
    return found


@pytest.mark.parametrize("env", ENVS)
def test_a_redshift_managed_secret_grants_no_invoke(env: str, synths: dict[str, Synth]) -> None:
    template = synths[env].templates[f"{synths[env].catalog.prefix}-procedures"]
    assert _invoke_grants(template) == []


def test_a_lambda_rotated_secret_grants_invoke_on_its_function_only(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["redshift"]["admin_secret_rotation_function"] = "rotate-redshift-admin"
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    templates = synth_templates("dev", outdir=str(tmp_path / "out"), catalog_path=path)
    prefix = load_catalog(path).prefix
    assert _invoke_grants(templates[f"{prefix}-procedures"]) == [
        "arn:aws:lambda:eu-west-1:111111111111:function:rotate-redshift-admin"]


def test_a_rotation_function_without_a_secret_is_refused_in_one_line(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    data["redshift"].pop("admin_secret")
    data["redshift"]["admin_secret_rotation_function"] = "rotate-redshift-admin"
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogError, match="admin_secret_rotation_function is set but admin_secret is not"):
        load_catalog(path)
