"""The Lambda asset: the functions package as /var/task/functions plus the env's catalog.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from functions.core.catalog import catalog_path_for, load_catalog
from functions.playbooks import PLAYBOOKS
from infra.app_builder import ROOT
from infra.bundling import CATALOG_PATH_IN_LAMBDA, source_fingerprint, write_asset

pytestmark = pytest.mark.infra


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_asset_holds_the_package_and_a_catalog_that_reloads(tmp_path: Path, env: str) -> None:
    catalog = load_catalog(catalog_path_for(env, ROOT))
    write_asset(tmp_path, catalog)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.json", "functions"]
    assert not list(tmp_path.rglob("__pycache__")) and not list(tmp_path.rglob("*.pyc"))
    reloaded = load_catalog(tmp_path / "catalog.json")
    assert reloaded.model_dump() == catalog.model_dump()
    assert json.loads((tmp_path / "catalog.json").read_text())["redshift"]["tables"][0]["schema"]
    assert CATALOG_PATH_IN_LAMBDA == "/var/task/catalog.json"
    for declaration in PLAYBOOKS.values():
        module, _, function = declaration.handler.rpartition(".")
        source = tmp_path.joinpath(*module.split(".")).with_suffix(".py")
        assert source.is_file(), declaration.handler
        assert f"def {function}(" in source.read_text(encoding="utf-8")


def test_asset_version_follows_code_and_catalog(tmp_path: Path) -> None:
    dev, prod = (load_catalog(catalog_path_for(env, ROOT)) for env in ("dev", "prod"))
    assert source_fingerprint(dev) == source_fingerprint(dev)
    assert source_fingerprint(dev) != source_fingerprint(prod)
    code = tmp_path / "functions"
    write_asset(tmp_path, dev)
    before = source_fingerprint(dev, code)
    (code / "core" / "naming.py").write_text("# changed\n", encoding="utf-8")
    assert source_fingerprint(dev, code) != before
    assert importlib.util.find_spec("functions") is not None
