"""The fault matrix (remedy.faults), its functions' part: every AWS call every playbook, probe, scheduled check
and maintenance job makes in the representative game day scenarios, answered with throttling, access denied, a
server error and a missing resource. Each case must end in a record — an outcome in the audit trail, or the event
in the on-failure queue after bounded retries — with nothing changed and left unrecorded. The procedures' part is
tests/integration/test_fault_matrix_procedures.py (the two run side by side); `remedy faults` runs both and
writes the table to bench-results/fault-matrix.md (`pytest -s` prints this part's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remedy.faults import Matrix, UnknownUnit, run_matrix
from tests.integration.fault_matrix_checks import (
    assert_every_case_was_reached,
    assert_every_fault_ends_in_a_record,
    rehearse,
)

pytestmark = [pytest.mark.integration, pytest.mark.drill]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    return rehearse(tmp_path_factory, part="invocations")


def test_every_call_of_every_playbook_is_rehearsed(matrix: Matrix) -> None:
    units = {row.unit for row in matrix.rows}
    assert {"msk-consumer-lag", "glue-job-failure", "data-quality", "redshift-performance", "procedure-start"} <= units
    assert not any(unit.startswith("procedure ") for unit in units)  # the other part's
    assert_every_case_was_reached(matrix)


def test_every_fault_ends_in_a_record(matrix: Matrix) -> None:
    assert_every_fault_ends_in_a_record(matrix)


def test_an_unknown_unit_is_refused_before_any_fault(tmp_path: Path) -> None:
    with pytest.raises(UnknownUnit) as refused:
        run_matrix("dev", workdir=tmp_path / "sandbox", units={"msk-consumer-lag", "nope"})
    assert str(refused.value).startswith("unknown unit 'nope' (known: answer, data-quality, ")
    assert "glue-job-failure, " in str(refused.value) and "procedure scale-msk" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_unknown_part_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^unknown part 'steps' \(known: procedures, invocations\)$"):
        run_matrix("dev", workdir=tmp_path / "sandbox", part="steps")
