"""Integration tier: the sandbox (moto on loopback, templates synthesized from infra/) and the real
handlers. One sandbox per test worker, started once: each test module gets it back as freshly deployed (a
checkpoint of the healthy seeded account put back, sandbox.checkpoint), and the `sandbox` fixture does the same
before each test. What a module attached (the Redshift stand-in) or left running (executions) ends with it, as
when each module started and stopped its own."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.core import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def worker_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox("dev", workdir=tmp_path_factory.mktemp("sandbox")).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def sandbox_env(worker_sandbox: Sandbox) -> Iterator[Sandbox]:
    from sandbox import stepfunctions
    from sandbox.redshift_wiring import detach_redshift

    sandbox = worker_sandbox
    templates = copy.deepcopy(sandbox.templates)  # as synthesized: a module editing them gets them back after
    sandbox.reset()  # a module started after another sandbox ran in this process (their moto state is shared) redeploys
    yield sandbox
    stepfunctions.stop_executions(sandbox)  # what stopping a module's own sandbox did
    detach_redshift(sandbox)
    sandbox.templates = templates


@pytest.fixture
def sandbox(sandbox_env: Sandbox) -> Sandbox:
    sandbox_env.reset()
    return sandbox_env
