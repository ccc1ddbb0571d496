"""Synthesized CloudFormation templates as dicts, for tests and the sandbox.

    synth_templates("dev") -> {"remedy-dev-remediation": {...}, "remedy-dev-monitoring": {...}}

Built without asset bundling (the templates are identical apart from the code asset's hash) and cached
per process: jsii start-up and synthesis take seconds.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

from functions.core.catalog import catalog_path_for
from infra.app_builder import ROOT, build_app

_CACHE: dict[tuple[str, str, str, str | None], dict[str, dict[str, Any]]] = {}


def synth_templates(env: str = "dev", outdir: str | None = None,
                    catalog_path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    path = Path(catalog_path) if catalog_path else catalog_path_for(env, ROOT)
    key = (env, str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest(), outdir)
    if key not in _CACHE:
        assembly = build_app(env, outdir=outdir, bundling=False, catalog_path=path).synth()
        _CACHE[key] = {stack.stack_name: stack.template for stack in assembly.stacks}
    # Callers get their own copy: a test that edits a template must not change another's.
    return copy.deepcopy(_CACHE[key])
