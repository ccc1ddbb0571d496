"""The catalog: the real configs validate; a broken one is explained with every problem and its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from functions.core.catalog import CatalogError, load_catalog, parse_catalog
from tests.unit.conftest import ROOT


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_shipped_catalogs_validate(env: str) -> None:
    catalog = load_catalog(ROOT / "config" / f"{env}.yaml")

    assert catalog.env == env
    assert catalog.prefix == f"remedy-{env}"
    assert catalog.glue_job("orders-stream").topic == "orders"
    assert catalog.streaming_job_for("orders", "glue-orders-stream").name == "orders-stream"
    assert f"msk:retail-msk-{env}" in catalog.components


def test_a_json_catalog_validates_like_the_yaml(tmp_path: Path, dev_data: dict[str, Any]) -> None:
    import json

    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(dev_data), encoding="utf-8")

    assert load_catalog(path) == load_catalog(ROOT / "config" / "dev.yaml")


def test_schema_errors_are_all_reported_with_their_paths(raw_catalog: dict[str, Any]) -> None:
    raw_catalog["account_id"] = "12345"
    raw_catalog["glue_jobs"][2]["min_workers"] = 6
    raw_catalog["glue_jobs"][2]["max_workers"] = 4
    raw_catalog["glue_jobs"][0]["colour"] = "blue"
    raw_catalog["redshift"]["tables"][0]["name"] = "fact_sales; drop table users"

    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog, "broken.yaml")

    errors = caught.value.errors
    assert "glue_jobs[2].max_workers: must be >= min_workers" in errors
    assert any(e.startswith("account_id: String should match pattern") for e in errors)
    assert "glue_jobs[0].colour: unknown field (check its spelling against the catalog reference)" in errors
    assert any(e.startswith("redshift.tables[0].name: String should match pattern") for e in errors)
    # The renamed table also breaks what refers to it: reported in the same run, not on the next attempt.
    assert "glue_jobs[2].loads_table: unknown table 'analytics.fact_sales'" in errors
    assert any(e.startswith("lineage[8].downstream: unknown component 'table:analytics.fact_sales'") for e in errors)
    assert len(errors) == 6
    assert str(caught.value).startswith("broken.yaml: 6 error(s)\n")


def test_reference_errors_are_all_reported_with_their_paths(raw_catalog: dict[str, Any]) -> None:
    raw_catalog["glue_jobs"][1]["topic"] = "ordres"
    raw_catalog["glue_jobs"][3]["max_workers"] = 30  # above guardrails.max_glue_workers (20)
    raw_catalog["lineage"].append({"upstream": "glue:ghost-stream", "downstream": "glue:orders-stream"})
    raw_catalog["msk"]["consumer_groups"][0]["topic"] = "nope"

    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog)

    errors = caught.value.errors
    assert "glue_jobs[1].topic: unknown topic 'ordres'" in errors
    assert "glue_jobs[3].max_workers: exceeds guardrails.max_glue_workers (20)" in errors
    assert "msk.consumer_groups[0].topic: unknown topic 'nope'" in errors
    assert any(e.startswith("lineage[10].upstream: unknown component 'glue:ghost-stream'") for e in errors)
    assert len(errors) == 4


def test_a_streaming_job_without_topic_and_a_duplicate_job_are_named(raw_catalog: dict[str, Any]) -> None:
    del raw_catalog["glue_jobs"][0]["topic"]
    raw_catalog["glue_jobs"].append(dict(raw_catalog["glue_jobs"][1]))

    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog)

    assert "glue_jobs[0].topic: a streaming job needs the topic it reads" in caught.value.errors
    assert "glue_jobs: duplicate name 'customers-stream'" in caught.value.errors


@pytest.mark.parametrize("data", [None, [], "env: dev"])
def test_a_catalog_that_is_not_a_mapping_is_refused(data: Any) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)

    assert caught.value.errors == ["(top level): must be a mapping of catalog sections"]


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path / "missing.yaml")

    assert caught.value.errors == ["(file): cannot read: No such file or directory"]
    assert caught.value.source == str(tmp_path / "missing.yaml")


def test_invalid_yaml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.yaml"
    path.write_text("env: dev\nglue_jobs:\n  - name: [unclosed\n    kind: streaming\n", encoding="utf-8")

    with pytest.raises(CatalogError) as caught:
        load_catalog(path)

    (error,) = caught.value.errors
    assert error.startswith("(file): not valid YAML: ")
    assert "\n" not in error


def test_invalid_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    path.write_text('{"env": "dev",', encoding="utf-8")

    with pytest.raises(CatalogError) as caught:
        load_catalog(path)

    (error,) = caught.value.errors
    assert error.startswith("(file): not valid JSON: ")
    assert "\n" not in error


def test_upstream_of_follows_the_lineage_transitively_nearest_first(catalog: Any) -> None:
    assert catalog.upstream_of("table:analytics.fact_sales") == [
        "glue:sales-batch", "s3:landing/orders/", "glue:orders-stream", "topic:orders", "msk:retail-msk-dev"]
    assert catalog.upstream_of("glue:customers-stream") == ["topic:customers", "msk:retail-msk-dev"]
    assert catalog.upstream_of("msk:retail-msk-dev") == []


def test_a_lineage_cycle_is_rejected(raw_catalog: dict[str, Any]) -> None:
    raw_catalog["lineage"].append({"upstream": "glue:orders-stream", "downstream": "topic:orders"})

    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog)

    assert caught.value.errors == ["lineage[2]: makes a cycle through 'topic:orders'"]


def test_a_job_without_its_role_name_is_refused_in_one_line_naming_it(raw_catalog: dict[str, Any]) -> None:
    # The procedures pass the job's role to UpdateJob (iam:PassRole): a guessed role name would be a grant on a
    # role that does not exist, and UpdateJob would be denied on the first real incident.
    raw_catalog["glue_jobs"][1].pop("role_name")
    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw_catalog, "catalog")
    (line,) = caught.value.errors
    assert line.startswith("glue_jobs[1]: job customers-stream has no role_name: name the IAM role it runs as")
