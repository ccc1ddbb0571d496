"""Integration tier: the sandbox (moto on loopback, templates synthesized from infra/) and the real
handlers. One sandbox per test module, reset to the healthy seeded state before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.core import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sandbox_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox("dev", workdir=tmp_path_factory.mktemp("sandbox")).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(sandbox_env: Sandbox) -> Sandbox:
    sandbox_env.reset()
    return sandbox_env
