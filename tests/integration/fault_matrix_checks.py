"""What the fault matrix's tests judge (tests/integration/test_fault_matrix*.py): one module, three files.

The matrix is split in parts (remedy.faults.PARTS, the procedures' part again by procedure) that share no row, one
test file each, so that pytest-xdist (`--dist loadfile`) runs them side by side on two workers.
"""

from __future__ import annotations

from typing import Any

import pytest

from remedy.faults import FAULTS, Matrix, run_matrix, table

# The procedures' part, split again by procedure into two files of about the same CPU time (measured 2026-12-02:
# data-corruption ~95 s and security-incident ~55 s; the four others ~150 s together).
INCIDENT_PROCEDURES = ("data-corruption", "security-incident")
SCALING_PROCEDURES = ("scale-glue", "scale-msk", "scale-redshift", "service-outage")

# Cases that cannot survive without a change outside the code the matrix may fix: each with that change. The
# test fails when one of them starts surviving, so that it leaves this list.
KNOWN: dict[tuple[str, str], str] = {}


def rehearse(tmp_path_factory: pytest.TempPathFactory, **part: Any) -> Matrix:
    """One part of the matrix on a sandbox of its own; its table printed (`pytest -s` shows it)."""
    result = run_matrix("dev", workdir=tmp_path_factory.mktemp("sandbox"), **part)
    print(f"\n{table(result)}")
    return result


def assert_every_case_was_reached(matrix: Matrix) -> None:
    assert len(matrix.cases) == len(matrix.rows) * len(FAULTS)
    # Every enumerated call is made again when its invocation or procedure is replayed: an invocation's calls are
    # told from those of a function it queued (the Slack function behind SNS) by the thread that made them
    # (remedy.faults._calls_since), which is what once listed nine calls here as never reached.
    not_reached = [f"{c.unit} {c.call} x {c.fault}" for c in matrix.cases if c.outcome == "not reached"]
    assert not not_reached, "faults the replayed run never reached:\n" + "\n".join(not_reached)


def assert_every_fault_ends_in_a_record(matrix: Matrix) -> None:
    failed = [c for c in matrix.failures if (c.unit, c.call) not in KNOWN]
    assert not failed, f"{len(failed)} of {len(matrix.cases)} cases did not survive:\n" + "\n".join(
        f"  {c.unit} {c.call} x {c.fault} ({c.code}): {c.outcome} — {c.detail}" for c in failed)
    units = {c.unit for c in matrix.cases}
    now_survive = [key for key in KNOWN if key[0] in units
                   and all(c.survived for c in matrix.cases if (c.unit, c.call) == key)]
    assert not now_survive, f"these survive now, remove them from KNOWN: {now_survive}"
