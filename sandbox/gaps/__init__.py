"""moto gap fills, one module per AWS service: sandbox/gaps/<service>.py.

Each module answers what moto (5.2) lacks or answers unlike AWS for its service, and says so in a module-level
table, `OPERATIONS`: "<service>:<Operation>" (botocore's service name) -> Fill(why, what, doc). `why` is one
of WHY (missing: moto has no such operation; shape: moto's answer is not AWS's shape; async: AWS goes through
states moto skips; behaviour: moto ignores part of the request or acts unlike AWS), `what` says what the fill
does and `doc` is the AWS document it follows. tests/integration/test_gap_fill_shapes.py checks the tables
against what is installed and against every operation the product calls.

The account emulation (deploy, alarms, routing, Step Functions' engine, checkpoints, clock, IAM) lives one level
up, in sandbox/, and installs these fills (sandbox.aws.install_gap_fills -> install()). Nothing here imports
those engine modules: the sandbox whose functions and Redshift stand-in a fill needs is found through
sandbox.active.

State a fill keeps beside moto's backends (seeded CloudTrail events, table restores, Data API statements, MSK
topics ...) is each module's `STATE`, replaced whole by its `reset()`; `state()` and `restore_state()` copy
and put back all of it (sandbox.checkpoint).
"""

from __future__ import annotations

import copy
import importlib
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

Why = Literal["missing", "shape", "async", "behaviour"]
WHY: dict[str, str] = {
    "missing": "moto does not implement the operation (NotImplementedError, no route, or no such service)",
    "shape": "moto answers, but not in AWS's response shape (members missing, extra or misnamed)",
    "async": "AWS answers at once and finishes later (PENDING, UPDATING, STOPPING ...); moto finishes at once",
    "behaviour": "moto ignores part of the request or acts unlike AWS (filters, ordering, limits, errors)",
}


@dataclass(frozen=True)
class Fill:
    why: Why
    what: str  # what the fill does, in a sentence
    doc: str  # the AWS document it follows (API reference page)


# In the order they are installed. Health's fill answers in front of moto's routing (before the fault
# injection that sandbox.aws puts in front of it); the others replace methods of moto's classes.
SERVICES = ("glue", "events", "cloudwatch", "iam", "logs", "kafka", "redshift", "redshift_data", "cloudtrail",
            "health", "secretsmanager", "stepfunctions", "awslambda", "sns", "dynamodb")

_LOCK = threading.Lock()
_INSTALLED = False


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"sandbox.gaps.{name}") for name in SERVICES]


def install() -> None:
    """Every fill, once per process."""
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        for module in modules():
            module.install()
        _INSTALLED = True


def operations() -> dict[str, Fill]:
    """Every filled operation, "<botocore service>:<Operation>" -> Fill, over all the modules."""
    return {op: fill for module in modules() for op, fill in module.OPERATIONS.items()}


def reset() -> None:
    """Forget what every fill keeps beside moto (a new account)."""
    for module in modules():
        if hasattr(module, "reset"):
            module.reset()


def state() -> dict[str, Any]:
    """A copy of what the fills keep beside moto (sandbox.checkpoint.capture)."""
    return {module.__name__: copy.deepcopy(module.STATE) for module in modules() if hasattr(module, "STATE")}


def restore_state(saved: dict[str, Any]) -> None:
    for module in modules():
        if module.__name__ in saved:
            module.STATE = copy.deepcopy(saved[module.__name__])
