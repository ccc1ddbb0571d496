"""The fault matrix (remedy.faults), the scaling procedures and the service outage: as
test_fault_matrix_procedures.py, for the procedures it leaves to this file (so the two run side by side)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remedy.faults import Matrix, run_matrix
from tests.integration.fault_matrix_checks import (
    SCALING_PROCEDURES,
    assert_every_case_was_reached,
    assert_every_fault_ends_in_a_record,
    rehearse,
)

pytestmark = [pytest.mark.integration, pytest.mark.drill]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    return rehearse(tmp_path_factory, part="procedures", procedures=SCALING_PROCEDURES)


def test_every_call_of_every_scaling_procedure_and_the_outage_is_rehearsed(matrix: Matrix) -> None:
    assert {row.unit for row in matrix.rows} == {f"procedure {p}" for p in SCALING_PROCEDURES}
    assert_every_case_was_reached(matrix)


def test_every_fault_ends_in_a_record(matrix: Matrix) -> None:
    assert_every_fault_ends_in_a_record(matrix)


def test_an_unknown_procedure_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^unknown procedure 'scale-lake' \(known: scale-glue, "):
        run_matrix("dev", workdir=tmp_path / "sandbox", part="procedures", procedures=("scale-lake",))
