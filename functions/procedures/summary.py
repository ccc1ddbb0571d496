"""What a procedure's run did, what it found and what is left by hand: each procedure module summarises its own
run into this, and the report (functions.procedures.report) tells it. Kept apart from the report so that a
procedure module never imports the report that imports every procedure module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Summary:
    done: list[str] = field(default_factory=list)  # what the run did, in order
    left: list[str] = field(default_factory=list)  # what a person still has to do (commands where possible)
    findings: list[str] = field(default_factory=list)  # what it found (evidence, review results)


Summariser = Callable[[dict[str, Any], str | None], Summary]
