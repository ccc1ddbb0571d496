"""`python -m infra.template ENV` (what make test and make check run beside ruff and mypy): each env's synthesis
lands in the cache; an env without a catalog is one line and exit 2, nothing synthesized."""

from __future__ import annotations

import pytest

from functions.core.catalog import catalog_path_for
from infra.template import CACHE_DIR, ROOT, fingerprint, main


def test_an_env_is_synthesized_into_the_cache(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev"]) == 0
    assert (CACHE_DIR / f"dev-{fingerprint('dev', catalog_path_for('dev', ROOT))}.synth.json").is_file()
    assert capsys.readouterr().err == ""


def test_an_unknown_env_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("unknown env 'nope': no catalog ") and "(known: dev, prod)" in err
