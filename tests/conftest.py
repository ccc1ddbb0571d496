"""Fixtures shared by more than one tier.

The CDK app is synthesized (cdk-nag included) once per env for the infra tests (tests/infra) and the gates on
the templates (tests/gates) alike: jsii start-up and synthesis take seconds. infra.template.synthesized keeps it
on disk by its inputs' digest, so the test workers, the sandbox and the CLI's subprocesses share one synthesis
(the first to need an env makes it, the others wait for its file), and the next run reuses it until an input
changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.infra.helpers import Synth

ENVS = tuple(sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "config").glob("*.yaml")))  # every env


@pytest.fixture(scope="session", autouse=True)
def sandbox_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each test worker's sandboxes keep their files in a folder of its own (sandbox.home.sandbox_home), the
    `remedy` subprocesses it starts included: two workers' game days or CLI runs would otherwise share one Redshift
    stand-in database, and one's reseed would pull the tables from under the other's scenario (seen: a lake
    scenario's stale statistics reset mid-run)."""
    import os

    from sandbox.home import HOME_VARIABLE

    home = tmp_path_factory.mktemp("sandbox-home")
    os.environ[HOME_VARIABLE] = str(home)
    return home


@pytest.fixture(scope="session")
def synths() -> dict[str, Synth]:
    """Every env, read once per worker."""
    import infra  # noqa: F401 - first: quiets jsii's Node banner before aws_cdk starts it
    from tests.infra.helpers import Synth

    return {env: Synth(env) for env in ENVS}


@pytest.fixture(scope="session", params=ENVS)
def synth(request: pytest.FixtureRequest, synths: dict[str, Synth]) -> Synth:
    return synths[request.param]


# The drill files, longest first (seconds of a worker in a fresh-clone make test, 2026-12-03 on 2 cores): handed out in
# this order, each worker starts on a long one and the short files fill in around them. A drill file not listed goes
# after these.
DRILLS_BY_COST = ("test_fault_matrix_procedures.py",  # ~76 s
                  "test_fault_matrix_scaling.py",  # ~70 s
                  "test_fault_matrix.py",  # ~70 s (the procedure-start function rehearsed too)
                  "test_gameday_lake.py",  # ~65 s
                  "test_gameday.py",  # ~63 s (the secrets check rides on its drive)
                  "test_storm.py",  # ~42 s
                  "test_fleet_storm.py")  # ~31 s


def _order(item: pytest.Item) -> tuple[int, int]:
    if item.get_closest_marker("drill") is None:
        return (1, 0)
    name = item.path.name
    return (0, DRILLS_BY_COST.index(name) if name in DRILLS_BY_COST else len(DRILLS_BY_COST))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long drills first: on two workers (`-n 2 --dist loadfile --no-loadscope-reorder`: files handed out in
    this order, one at a time per worker; xdist's default would reorder them by their number of tests, which puts
    the drills, few tests each, last) each starts with a drill and the short files fill in around them, instead of
    two drills ending the run alone. Tests measured slow (tests/slow.txt, tests.slow_list) get the `slow` marker:
    `make check` leaves them out."""
    from tests.slow_list import listed

    slow = listed()
    for item in items:
        if item.nodeid in slow:
            item.add_marker(pytest.mark.slow)
    items.sort(key=_order)
