"""Where a sandbox keeps its files: light on purpose (the CLI imports it for its error, without moto)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "REMEDY_SANDBOX_HOME"
ROOT = Path(__file__).resolve().parents[1]


class SandboxHomeError(Exception):
    """The folder for the sandbox's files cannot be made or written."""


def sandbox_home() -> Path:
    """Where a sandbox keeps its files (the Redshift stand-in's database among them), one folder per env:
    $REMEDY_SANDBOX_HOME, else .sandbox/ in the checkout. Two sandboxes running at once must not share one: the
    second would reseed the first's database under it (two game days side by side, or test workers)."""
    return Path(os.environ.get(HOME_VARIABLE) or ROOT / ".sandbox")
