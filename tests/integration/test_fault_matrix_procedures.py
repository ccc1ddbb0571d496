"""The fault matrix (remedy.faults), the procedures' part: every AWS call of every procedure step (the state
machine's aws-sdk tasks and its Lambda steps), each procedure driven once to its end (approved), answered with
throttling, access denied, a server error and a missing resource. Each case must end through the procedure's
failure path with its report, or succeed and be reported, or hold at an approval with one line said.

Three files run side by side (`--dist loadfile`): the functions' part (test_fault_matrix.py), the incident
procedures here, the scaling procedures and the outage in test_fault_matrix_scaling.py."""

from __future__ import annotations

import pytest

from remedy.faults import PROCEDURE_RUNS, Matrix
from tests.integration.fault_matrix_checks import (
    INCIDENT_PROCEDURES,
    SCALING_PROCEDURES,
    assert_every_case_was_reached,
    assert_every_fault_ends_in_a_record,
    rehearse,
)

pytestmark = [pytest.mark.integration, pytest.mark.drill]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    return rehearse(tmp_path_factory, part="procedures", procedures=INCIDENT_PROCEDURES)


def test_the_two_procedure_files_rehearse_every_procedure() -> None:
    assert sorted(INCIDENT_PROCEDURES + SCALING_PROCEDURES) == sorted(run.name for run in PROCEDURE_RUNS)


def test_every_call_of_every_incident_procedure_is_rehearsed(matrix: Matrix) -> None:
    assert {row.unit for row in matrix.rows} == {f"procedure {p}" for p in INCIDENT_PROCEDURES}
    assert_every_case_was_reached(matrix)


def test_every_fault_ends_in_a_record(matrix: Matrix) -> None:
    assert_every_fault_ends_in_a_record(matrix)
