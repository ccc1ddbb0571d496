"""The synthesized templates the sandbox deploys, cached on disk by the hash of everything that shapes
them (catalog, infra code, playbook and action declarations, cdk.json): synthesis starts a Node process
and takes seconds, and `remedy replay` / the test tiers need the same templates again and again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def templates_for(env: str, catalog_path: Path, cache_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The cache and its key live with the synthesis (infra.template.synthesized): the infra tests, the gates
    and the CLI read the same files."""
    from infra.template import synthesized

    return synthesized(env, catalog_path, cache_dir).templates
