"""sandbox.asset_catalog: the functions in the sandbox read the catalog as the Lambda asset carries it (JSON)."""

from __future__ import annotations

import os
from pathlib import Path

from functions.core.catalog import catalog_path_for, load_catalog
from sandbox.asset_catalog import asset_catalog

ROOT = Path(__file__).resolve().parents[2]


def test_the_yaml_source_becomes_json_that_loads_to_the_same_catalog_and_follows_edits(tmp_path: Path) -> None:
    source = tmp_path / "dev.yaml"
    source.write_text(catalog_path_for("dev", ROOT).read_text(encoding="utf-8"), encoding="utf-8")
    path = asset_catalog(source, tmp_path / "work")
    assert path.suffix == ".json" and load_catalog(path) == load_catalog(source)
    assert asset_catalog(source, tmp_path / "work") == path  # one file per content

    source.write_text(source.read_text(encoding="utf-8").replace("fleet_budget_per_hour: 10",
                                                                 "fleet_budget_per_hour: 7"), encoding="utf-8")
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 1_000_000))
    edited = asset_catalog(source, tmp_path / "work")
    assert edited != path and load_catalog(edited).guardrails.fleet_budget_per_hour == 7


def test_a_catalog_that_does_not_load_is_handed_over_as_it_is(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("env: [", encoding="utf-8")
    assert asset_catalog(broken, tmp_path) == broken  # the function reports its errors, as before
    assert asset_catalog(tmp_path / "catalog.json", tmp_path) == tmp_path / "catalog.json"
