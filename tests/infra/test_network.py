"""The in-VPC functions' way out (finding 7 of the fidelity issue): every AWS API they call needs a VPC endpoint
or a NAT path, and the list is derived from the templates, so a new call cannot go unlisted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from functions.core.catalog import CatalogError, parse_catalog
from infra.network import required_endpoints
from tests.infra.helpers import Synth

ROOT = Path(__file__).resolve().parents[2]


def test_the_in_vpc_functions_need_the_endpoints_of_every_service_they_call(synths: dict[str, Synth]) -> None:
    synth = synths["prod"]
    endpoints = {e.name: e for e in required_endpoints(synth.templates, synth.catalog.region)}
    region = synth.catalog.region
    # The Redshift playbook calls Redshift (IAM auth), DynamoDB (audit, breaker), SSM (kill switch), SNS (on-call),
    # CloudWatch (alarm state) and X-Ray; the analysis job writes its report to S3.
    assert {f"com.amazonaws.{region}.{s}" for s in ("redshift", "dynamodb", "ssm", "sns", "monitoring", "xray",
                                                     "s3")} <= set(endpoints)
    assert endpoints[f"com.amazonaws.{region}.dynamodb"].kind == "Gateway"
    assert endpoints[f"com.amazonaws.{region}.redshift"].kind == "Interface"
    # What Lambda does with the role outside the function's network is not the function's traffic.
    assert not any(name.endswith((".ec2", ".logs", ".sqs")) for name in endpoints)
    assert f"{synth.catalog.prefix}-redshift-performance" in endpoints[f"com.amazonaws.{region}.ssm"].functions


def test_the_docs_and_the_readme_list_every_endpoint_the_prod_functions_need(synths: dict[str, Synth]) -> None:
    synth = synths["prod"]
    deploying = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for endpoint in required_endpoints(synth.templates, synth.catalog.region):
        service = endpoint.name.rsplit(".", 1)[1]
        assert f"com.amazonaws.<region>.{service}" in deploying, endpoint.name
        assert f"`{service}`" in readme or f"com.amazonaws.<region>.{service}" in readme, endpoint.name


def test_a_network_without_its_egress_is_refused() -> None:
    import yaml

    raw_catalog_prod = yaml.safe_load((ROOT / "config" / "prod.yaml").read_text(encoding="utf-8"))
    raw_catalog_prod["network"].pop("egress")
    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog_prod, "catalog")
    assert "network.egress: required field is missing" in caught.value.errors


def test_remedy_catalog_endpoints_prints_them() -> None:
    result = subprocess.run([sys.executable, "-m", "remedy.cli", "catalog", "endpoints", "--env", "prod"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "egress of the private subnets (network.egress): vpc-endpoints" in result.stdout
    assert "com.amazonaws.eu-west-1.redshift" in result.stdout
