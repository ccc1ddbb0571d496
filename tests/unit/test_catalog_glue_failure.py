"""Catalog fields of the glue_job_failure and data_quality playbooks."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.catalog import Catalog, CatalogError, parse_catalog


def job(raw: dict[str, Any], **changes: Any) -> Catalog:
    raw["glue_jobs"][2].update(changes)  # sales-batch
    return parse_catalog(raw, "bent")


@pytest.mark.parametrize(("changes", "current", "upgrade"), [
    ({}, "G.1X", "G.2X"),  # the dev catalog: allowed up to G.2X
    ({}, "G.2X", None),  # already at max_worker_type
    ({"allow_worker_type_upgrade": False}, "G.1X", None),
    ({"max_worker_type": None}, "G.1X", "G.2X"),  # default ceiling: one above worker_type
    ({"max_worker_type": None}, "G.2X", None),
    ({"max_worker_type": "G.8X"}, "G.4X", "G.8X"),
    ({"max_worker_type": "G.8X"}, "G.8X", None),
    ({}, None, "G.2X"),  # unknown current type: from the catalog's worker_type
])
def test_worker_type_upgrade(raw_catalog: dict[str, Any], changes: dict[str, Any], current: str | None,
                             upgrade: str | None) -> None:
    assert job(raw_catalog, **changes).glue_job("sales-batch").worker_type_upgrade(current) == upgrade


def test_defaults_of_the_new_fields(catalog: Catalog) -> None:
    scd = catalog.glue_job("customer-scd-batch")
    assert (scd.error_log_group, scd.allow_worker_type_upgrade, scd.max_worker_type) == (
        "/aws-glue/jobs/error", False, None)
    assert catalog.s3.landing_partition_format == "%Y/%m/%d/%H"
    assert catalog.s3.quality_flags_key("sales-batch", "2026/11/25/09") == \
        "staging/_quality/sales-batch/2026/11/25/09.json"


@pytest.mark.parametrize(("field", "value", "error"), [
    ("error_log_group", "aws-glue/jobs; rm", "glue_jobs[2].error_log_group: String should match pattern"),
    ("max_worker_type", "G.16X", "glue_jobs[2].max_worker_type: Input should be"),
])
def test_bad_values_are_reported_with_their_path(raw_catalog: dict[str, Any], field: str, value: str,
                                                 error: str) -> None:
    with pytest.raises(CatalogError) as caught:
        job(raw_catalog, **{field: value})
    assert any(line.startswith(error) for line in caught.value.errors)


def test_the_landing_layout_is_a_strict_format(raw_catalog: dict[str, Any]) -> None:
    raw_catalog["s3"]["landing_partition_format"] = "dt=%Y-%m-%d/hr=%H"
    assert parse_catalog(raw_catalog).s3.landing_partition_format == "dt=%Y-%m-%d/hr=%H"
    raw_catalog["s3"]["landing_partition_format"] = "%Y/$(id)"
    with pytest.raises(CatalogError, match=r"s3\.landing_partition_format"):
        parse_catalog(raw_catalog)
