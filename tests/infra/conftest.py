"""Infra tier: synthesize the CDK app (cdk-nag included) once per session and read the templates.

Expectations come from the catalog and the declarations (PLAYBOOKS, REGISTRY, Settings), never from
copies of the values: a catalog change moves the test and the templates together.
"""

from __future__ import annotations

import pytest

import infra  # noqa: F401 - first: quiets jsii's Node banner before aws_cdk starts it
from tests.infra.helpers import ENVS, Synth


@pytest.fixture(scope="session")
def synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synth]:
    """Both envs, synthesized once per session (jsii start-up and synthesis take seconds)."""
    return {env: Synth(env, tmp_path_factory.mktemp(f"cdk-{env}")) for env in ENVS}


@pytest.fixture(scope="session", params=ENVS)
def synth(request: pytest.FixtureRequest, synths: dict[str, Synth]) -> Synth:
    return synths[request.param]
