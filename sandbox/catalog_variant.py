"""A sandbox run with a modified catalog, for the functions invoked inside the block.

    with catalog_variant(sandbox, "msk_consumer_lag", mode="observe"):   # one playbook's guardrails bent
        ...
    with catalog_variant(sandbox, edit=lambda data: data["procedures"].update(poll_seconds=1)):
        ...

The variant is validated, written under the sandbox's workdir (one file per content: a function's
cold-start cache is keyed on CATALOG_PATH) and used as CATALOG_PATH by every function invoked inside the
block. What was synthesized from the catalog (alarms, rules, roles) stays as deployed.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def catalog_variant(sandbox: Any, playbook: str | None = None, *,
                    edit: Callable[[dict[str, Any]], None] | None = None, **guardrails: Any) -> Iterator[Path]:
    """The sandbox's catalog with `guardrails` of `playbook` changed (e.g. mode="auto") and/or `edit` applied
    to its data (a dict as in the YAML file)."""
    import yaml

    from functions.core.catalog import parse_catalog

    if guardrails and playbook is None:
        raise ValueError("guardrails are a playbook's: name the playbook")
    data = copy.deepcopy(yaml.safe_load(Path(sandbox.catalog_path).read_text(encoding="utf-8")))
    if playbook is not None:
        data["guardrails"]["playbooks"][playbook].update(guardrails)
    if edit is not None:
        edit(data)
    parse_catalog(data, "catalog variant")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:10]
    path = Path(sandbox.workdir) / f"catalog-{playbook or 'variant'}-{digest}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    original = sandbox.catalog_path
    sandbox.catalog_path = path
    try:
        yield path
    finally:
        sandbox.catalog_path = original
