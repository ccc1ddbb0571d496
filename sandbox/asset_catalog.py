"""The catalog as a function reads it in Lambda: the asset's catalog.json (infra/bundling.py), not the YAML source.

    asset_catalog(Path("config/dev.yaml"), workdir)   # workdir/catalog-asset-<digest>.json, written once

In AWS every function loads /var/task/catalog.json at cold start, so no YAML parser runs there. Handing the
functions the YAML source instead made each sandbox cold start parse it: 2 ms as JSON against 150 ms as YAML for a
catalog of 50 pipelines, paid at every switch between functions (the sandbox runs them all in one process),
a cost AWS does not have. Same content (infra.bundling.catalog_json's serialization: aliases kept, loaded back
and compared), one file per source content: a function's cold-start cache stays keyed on CATALOG_PATH.

A source that does not load is handed over as it is: the function then reports the catalog's errors, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from functions.core.catalog import CatalogError, load_catalog

_WRITTEN: dict[tuple[str, int, int], Path] = {}  # (source, mtime_ns, size) -> its JSON


def asset_catalog(source: Path, folder: Path) -> Path:
    """The JSON rendition of `source` in `folder` (the path to hand a function as CATALOG_PATH)."""
    if source.suffix == ".json":
        return source
    try:
        stat = source.stat()
    except OSError:
        return source
    key = (str(source), stat.st_mtime_ns, stat.st_size)
    if key in _WRITTEN and _WRITTEN[key].exists():
        return _WRITTEN[key]
    try:
        catalog = load_catalog(source)
    except CatalogError:
        return source
    # infra.bundling.catalog_json's serialization (that module imports the CDK: not loaded here).
    text = json.dumps(catalog.model_dump(mode="json", by_alias=True), indent=1, sort_keys=True) + "\n"
    path = folder / f"catalog-asset-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")  # workers may share the folder
        partial.write_text(text, encoding="utf-8")
        if load_catalog(partial).model_dump() != catalog.model_dump():
            raise RuntimeError(f"{partial} does not load back to {source}")
        partial.replace(path)
    _WRITTEN[key] = path
    return path
