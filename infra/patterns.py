"""EventBridge patterns that list the catalog's jobs, split so that each fits EventBridge's pattern size.

An event pattern holds at most 2,048 characters (EventBridge quotas: "Event pattern size", adjustable). A pattern
naming every Glue job of a catalog of 50 pipelines (100 jobs) is about 2,400: the jobs are shared among as few
rules as fit, each the same pattern with its part of the list. One rule, as before, while they fit in one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

MAX_PATTERN_CHARACTERS = 2_048
MARGIN = 48  # CDK may order or space the pattern differently from the compact JSON measured here


def size(pattern: Any) -> int:
    return len(json.dumps(pattern, separators=(",", ":")))


def split_by_names(names: Sequence[str], pattern_of: Callable[[list[str]], Any],
                   limit: int = MAX_PATTERN_CHARACTERS - MARGIN) -> list[Any]:
    """pattern_of(part) for consecutive parts of `names`, each pattern within `limit` characters."""
    patterns: list[Any] = []
    part: list[str] = []
    for name in names:
        if part and size(pattern_of([*part, name])) > limit:
            patterns.append(pattern_of(part))
            part = []
        part.append(name)
    pattern = pattern_of(part)
    if size(pattern) > limit:
        raise ValueError(f"an event pattern for {name!r} alone takes {size(pattern):,} characters "
                         f"(EventBridge allows {MAX_PATTERN_CHARACTERS:,})")
    return [*patterns, pattern]
