"""Bad catalogs and bad `remedy` invocations (tests/corpus/catalogs.yaml, tests/corpus/cli.yaml): exit code 2, one
line on stderr, nothing on stdout, no traceback. Run in-process through the console entry point (remedy.cli:main),
with the network off: nothing was called because nothing could be."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import urllib3  # noqa: F401 - imported while sockets are still on: it probes for IPv6 at import, harmlessly
import yaml

from remedy import cli

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
CATALOGS: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "catalogs.yaml").read_text(encoding="utf-8"))
INVOCATIONS: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "cli.yaml").read_text(encoding="utf-8"))
NOWHERE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "eu-west-1"}


def remedy(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str,
                                                                                                          str]:
    """`remedy ARGS` as the console script runs it: (exit code, stdout, stderr)."""
    monkeypatch.chdir(ROOT)
    for name, value in NOWHERE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["remedy", *args])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    out, err = capsys.readouterr()
    code = ended.value.code
    return (code if isinstance(code, int) else 1), out, err


def one_line(code: int, out: str, err: str) -> str:
    assert "Traceback" not in out + err
    assert code == 2, err
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


# -- catalogs -------------------------------------------------------------------------------------------------

def _path(path: str) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"[^.\[\]]+|\[\d+\]", path)]


def bad_catalog(case: dict[str, Any], tmp_path: Path) -> Path:
    if "file" in case:
        return CORPUS / "catalogs" / case["file"]
    source = (ROOT / "config" / "dev.yaml").read_text(encoding="utf-8")
    if "replace" in case:
        for old, new in case["replace"].items():
            assert old in source, f"config/dev.yaml no longer has {old!r}: update the corpus"
            source = source.replace(old, new)
        text = source
    else:
        data = yaml.safe_load(source)
        for dotted, value in (case.get("set") or {}).items():
            *parents, last = _path(dotted)
            node = data
            for key in parents:
                node = node[key]
            node[last] = copy.deepcopy(value)
        for dotted in case.get("delete") or []:
            *parents, last = _path(dotted)
            node = data
            for key in parents:
                node = node[key]
            del node[last]
        text = yaml.safe_dump(data, sort_keys=False)
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_a_bad_catalog_is_refused_in_one_line(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    case = CATALOGS[name]
    path = bad_catalog(case, tmp_path)
    line = one_line(*remedy(["catalog", "validate", str(path)], monkeypatch, capsys))
    assert line.startswith(f"{path}: {case['expect']}"), line
    assert len(line) < 400


def test_every_catalog_file_of_the_corpus_is_a_case() -> None:
    files = {p.name for p in (CORPUS / "catalogs").iterdir()}
    assert files == {c["file"] for c in CATALOGS.values() if "file" in c}


# -- invocations ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(INVOCATIONS))
def test_a_bad_invocation_is_refused_in_one_line(name: str, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    case = INVOCATIONS[name]
    line = one_line(*remedy([str(a) for a in case["args"]], monkeypatch, capsys))
    assert line.startswith(case["expect"]), line


def test_every_case_says_why() -> None:
    for name, case in {**CATALOGS, **INVOCATIONS}.items():
        assert len(case.get("why", "")) > 5, name
