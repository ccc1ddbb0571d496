"""The Lambda code asset, built without Docker: the `functions` package plus the env's catalog.json.

The asset directory becomes /var/task:

    /var/task/functions/...        handler path functions.handlers.<playbook>.handler
    /var/task/catalog.json         the catalog of this env (CATALOG_PATH), JSON: no YAML parser at run time

Third-party runtime dependencies are not bundled: aws-lambda-powertools and pydantic v2 come from the
public Powertools v3 layer (built with all extras, pydantic v2 among them), boto3 from the Lambda runtime.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from functions.core.catalog import Catalog, load_catalog

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
CATALOG_FILE = "catalog.json"
# The asset's view of CATALOG_PATH.
CATALOG_PATH_IN_LAMBDA = f"/var/task/{CATALOG_FILE}"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


def catalog_json(catalog: Catalog) -> str:
    """The catalog as the Lambda reads it; aliases kept (e.g. tables' `schema`) so load_catalog accepts it."""
    return json.dumps(catalog.model_dump(mode="json", by_alias=True), indent=1, sort_keys=True) + "\n"


def write_asset(output_dir: str | Path, catalog: Catalog, functions_dir: Path = FUNCTIONS_DIR) -> Path:
    """Lay out the asset in `output_dir` and prove the catalog in it loads the way the function will."""
    out = Path(output_dir)
    target = out / "functions"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(functions_dir, target, ignore=_IGNORE)
    catalog_file = out / CATALOG_FILE
    catalog_file.write_text(catalog_json(catalog), encoding="utf-8")
    if load_catalog(catalog_file).model_dump() != catalog.model_dump():
        raise RuntimeError(f"{catalog_file} does not load back to the catalog it was written from")
    return out


@jsii.implements(ILocalBundling)
class LocalAssetBundler:
    """Runs on the machine that synthesizes; Docker is never needed (and never tried: this returns True)."""

    def __init__(self, catalog: Catalog, functions_dir: Path = FUNCTIONS_DIR):
        self._catalog = catalog
        self._functions_dir = functions_dir

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        write_asset(output_dir, self._catalog, self._functions_dir)
        return True


def source_fingerprint(catalog: Catalog, functions_dir: Path = FUNCTIONS_DIR) -> str:
    """Hash of what goes into the asset: every file of the package (minus caches) and the catalog JSON."""
    digest = hashlib.sha256()
    for path in sorted(functions_dir.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        digest.update(path.relative_to(functions_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update(catalog_json(catalog).encode())
    return digest.hexdigest()


def function_code(catalog: Catalog) -> lambda_.Code:
    """One asset per stack, shared by every playbook function of the env."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        # Code and catalog decide the version. The hash is also CDK's in-process staging cache key, so two
        # envs synthesized in one process never share a bundle (same sources, different catalog.json).
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_fingerprint(catalog),
        bundling=BundlingOptions(
            # Required by the API, never pulled: local bundling always succeeds.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=LocalAssetBundler(catalog),
        ),
    )
