"""The sandbox whose deployed functions and Redshift stand-in answer the emulated account's calls.

sandbox.stepfunctions.enable() sets it; the gap fills (sandbox/gaps/) read it, so they need not import the
engine that installs them. FUNCTION_LOCK: one function at a time, since invoking one switches the process's
environment (Sandbox.invoke, a state machine's Lambda task, a Lambda Invoke).
"""

from __future__ import annotations

import threading
from typing import Any

FUNCTION_LOCK = threading.RLock()
_ACTIVE: Any = None


def active() -> Any:
    return _ACTIVE


def set_active(sandbox: Any) -> None:
    global _ACTIVE
    _ACTIVE = sandbox
