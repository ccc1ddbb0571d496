"""The playbooks' registry: every public module of this package is one playbook, and declares itself.

A playbook is one module, `functions/playbooks/<name>.py`, that ends with `DECLARATION = PlaybookDeclaration(...)`:
its name (the module's), runbook section, the alarm signals routed to it and the alarms of those signals, the reads
and actions CDK grants its role, and what else its function needs (VPC, packages, Glue events, a schedule). What
used to be kept in step by hand is derived from here: the signal table (functions.core.naming.SIGNALS), the
catalog's playbook keys (functions.core.catalog validates `guardrails.playbooks` against `playbook_names()`), the
functions, rules and schedules (infra/stacks/remediation.py), the alarms (infra/signals.py) and the docs' tables.
Adding a playbook adds its module, its handler, its docs page, its scenario and its catalog entries; no list here.

Discovery is a scan of this package's files, sorted by name, rather than a list of modules:
- nothing to keep in step, and the same files give the same registry in the same order wherever it runs (CDK's
  synthesis, the Lambda asset, which is a copy of `functions/`, the tests), so templates are deterministic;
- names come from file names without importing anything: the catalog checks its keys at every cold start, and
  a function imports only its own playbook (`declaration(name)`), never the others;
- modules whose name starts with `_` are not playbooks: shared helpers (`_rerun.py`) and the skeleton to copy
  (`_skeleton.py`).

This module imports nothing of the project at run time (the catalog and the kernel import it, the playbook
modules import them): the declarations are imported on demand with importlib.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.core.alarms import AlarmSpec


def _no_alarms(catalog: Any) -> list[AlarmSpec]:
    del catalog
    return []


@dataclass(frozen=True)
class PlaybookDeclaration:
    name: str  # the module's name, e.g. data_quality (functions/playbooks/data_quality.py)
    runbook_section: str
    signals: tuple[str, ...]  # alarm signals (see functions.core.naming) routed to it
    reads: tuple[str, ...]  # read-only IAM actions its diagnosis and verification make
    actions: tuple[str, ...]  # registered actions it may plan (their IAM actions: functions.core.actions)
    # The alarms of its signals for a catalog (catalog -> AlarmSpec list, functions.core.alarms): the monitoring
    # stack creates them, the detection page lists them. Every spec's signal is one of `signals`.
    alarms: Callable[[Any], list[AlarmSpec]] = _no_alarms
    # module.function inside the Lambda asset; default functions.handlers.<name>.handler.
    handler: str = ""
    # Third-party packages bundled for this function only (pinned), beyond the Powertools layer and boto3.
    requirements: tuple[str, ...] = ()
    # Runs in the VPC of the resources it reaches (e.g. the Redshift cluster's subnets).
    in_vpc: bool = False
    # `Glue Job State Change` events (source aws.glue) in these states, for the catalog's jobs, are routed to
    # it as well (one more EventBridge rule); () = alarms only.
    glue_job_states: tuple[str, ...] = ()
    # Its scheduled checks, as an EventBridge schedule (functions.core.runtime.scheduled_checks): the verification
    # windows it opened after acting (catalog: verification_minutes) and the scale-ups it lent (leases).
    # The period is the resolution of a verification window; None = no schedule.
    schedule: str | None = "rate(5 minutes)"
    # The game day scenario that rehearses it end to end (remedy/gameday/scenarios): the replay-parity test and
    # the fault matrix run it. None until it has one.
    scenario: str | None = None

    def __post_init__(self) -> None:
        if not self.handler:
            object.__setattr__(self, "handler", f"functions.handlers.{self.name}.handler")


@cache
def playbook_names() -> tuple[str, ...]:
    """Every playbook's name, from the package's files (no import): sorted, private modules left out."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


@cache
def declaration(name: str) -> PlaybookDeclaration:
    """The declaration of one playbook: imports its module only."""
    if name not in playbook_names():
        raise KeyError(f"no playbook {name!r} (known: {', '.join(playbook_names())})")
    found = getattr(importlib.import_module(f"{__name__}.{name}"), "DECLARATION", None)
    if not isinstance(found, PlaybookDeclaration) or found.name != name:
        raise TypeError(f"functions/playbooks/{name}.py must end with DECLARATION = PlaybookDeclaration("
                        f"name={name!r}, ...): every public module of functions/playbooks is a playbook "
                        f"(helpers start with '_')")
    return found


def declarations() -> dict[str, PlaybookDeclaration]:
    """Every playbook's declaration, by name, in name order (imports every playbook module)."""
    return {name: declaration(name) for name in playbook_names()}


def playbook_signals() -> dict[str, str]:
    """signal -> the playbook it is routed to; a signal answered by two playbooks is refused."""
    owners: dict[str, str] = {}
    for name, declared in declarations().items():
        for signal in declared.signals:
            if signal in owners:
                raise ValueError(f"signal {signal!r} is declared by playbooks {owners[signal]} and {name}: "
                                 f"one rule routes a signal to one function")
            owners[signal] = name
    return owners


def __getattr__(name: str) -> dict[str, PlaybookDeclaration]:
    """`PLAYBOOKS`: every declaration by name, loaded on first use (importing the playbooks here at import time
    would import the catalog while it imports this registry)."""
    if name == "PLAYBOOKS":
        return declarations()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Every handler reads alarm states (lineage hold), writes the audit trail, claims the circuit breaker,
# checks the kill switch, keeps idempotency records and notifies. CDK scopes each to its resource.
CORE_READS = ("cloudwatch:DescribeAlarms",)
