"""The fault matrix (remedy.faults), the procedures' part: every AWS call of every procedure step (the state
machine's aws-sdk tasks and its Lambda steps), each procedure driven once to its end (approved), answered with
throttling, access denied, a server error and a missing resource. Each case must end through the procedure's
failure path with its report, or succeed and be reported, or hold at an approval with one line said. The
functions' part is tests/integration/test_fault_matrix.py; the two run side by side."""

from __future__ import annotations

import pytest

from remedy.faults import Matrix, run_matrix, table
from tests.integration.fault_matrix_checks import assert_every_case_was_reached, assert_every_fault_ends_in_a_record

pytestmark = [pytest.mark.integration, pytest.mark.drill]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    result = run_matrix("dev", workdir=tmp_path_factory.mktemp("sandbox"), part="procedures")
    print(f"\n{table(result)}")
    return result


def test_every_call_of_every_procedure_is_rehearsed(matrix: Matrix) -> None:
    units = {row.unit for row in matrix.rows}
    assert {f"procedure {p}" for p in ("scale-glue", "scale-msk", "scale-redshift", "security-incident",
                                       "data-corruption", "service-outage")} == units
    assert_every_case_was_reached(matrix)


def test_every_fault_ends_in_a_record(matrix: Matrix) -> None:
    assert_every_fault_ends_in_a_record(matrix)
