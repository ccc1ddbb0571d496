"""`remedy faults`: the fault matrix (remedy.faults) — every AWS call of every playbook branch and procedure
step answered with throttling, access denied, a server error and a missing resource, against the sandbox.

Prints the table (calls x faults, what each case ended in, survived/total), writes it to
bench-results/fault-matrix.md and the cases to bench-results/fault-matrix.json. Exit codes: 0 every case
survived, 1 some did not (listed), 2 bad argument.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)


def faults(
    env: Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")] = "dev",
    out: Annotated[Path, typer.Option("--out", help="Directory for fault-matrix.md and .json")] = Path("bench-results"),
    unit: Annotated[list[str] | None, typer.Option("--unit", help="Only these units (repeatable), e.g. "
                                                                 "msk-consumer-lag or 'procedure scale-glue'")] = None,
    every_scenario: Annotated[bool, typer.Option("--every-scenario",
                                                 help="Enumerate the calls from the whole game day")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The cases as JSON on stdout")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress on stderr")] = False,
) -> None:
    """Inject each fault into each AWS call of the playbooks and procedures; print what each ended in."""
    from functions.core.catalog import catalog_path_for
    from remedy.faults import MARK, Case, UnknownUnit, run_matrix, table, write

    if not catalog_path_for(env).exists():
        err.print(f"remedy: unknown environment {env!r}", markup=False)
        raise typer.Exit(2)

    def progress(case: Case) -> None:
        if not quiet:
            err.print(f"{MARK[case.survived]} {case.unit} {case.call} x {case.fault} ({case.code}): {case.outcome}",
                      markup=False, highlight=False)

    try:
        matrix = run_matrix(env, on_case=progress, units=set(unit or []), every_scenario=every_scenario)
    except UnknownUnit as error:  # found once the calls are enumerated, before any fault or file is written
        err.print(f"remedy: {error}", markup=False)
        raise typer.Exit(2) from None
    md, js = write(matrix, out)
    if as_json:
        sys.stdout.write(js.read_text(encoding="utf-8"))
    else:
        sys.stdout.write(table(matrix))
    err.print(f"{matrix.survived}/{len(matrix.cases)} survived in {matrix.seconds:.0f} s; written to {md} and {js}",
              markup=False, highlight=False)
    if matrix.failures:
        raise typer.Exit(1)
