"""The synthesized templates the sandbox deploys, cached on disk by the hash of everything that shapes
them (catalog, infra code, playbook and action declarations, cdk.json): synthesis starts a Node process
and takes seconds, and `remedy replay` / the test tiers need the same templates again and again."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("infra", "functions", "app.py", "cdk.json", "requirements.txt", "package.json")


def _fingerprint(env: str, catalog_path: Path) -> str:
    digest = hashlib.sha256(f"{env}\0{catalog_path.read_bytes().hex()}".encode())
    for source in SOURCES:
        path = ROOT / source
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.exists() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def templates_for(env: str, catalog_path: Path, cache_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    cache_dir = cache_dir or ROOT / ".sandbox" / "templates"
    cache = cache_dir / f"{env}-{_fingerprint(env, catalog_path)}.json"
    if cache.exists():
        return dict(json.loads(cache.read_text(encoding="utf-8")))
    from infra.template import synth_templates

    templates = synth_templates(env, catalog_path=catalog_path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(templates), encoding="utf-8")
    partial.replace(cache)  # atomic: parallel test workers never read half a file
    return templates
