"""The docs site builds strictly: a broken link or anchor, a page missing from nav, a snippet whose file, section or
definition is gone, or a reference table whose registry no longer loads fails here (make check and make test)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hook_repo", ROOT / "docs" / "hooks" / "repo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_strict_build(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    # Our own interpreter and arguments: nothing untrusted reaches the command line.
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp_path / "site"
    pages = ["index", "architecture", "detection", "extending", "cli", "catalog", "figures", "testing",
             "playbooks/msk_consumer_lag"]
    assert all((site / f"{page}.html").is_file() for page in pages)
    # A repository file a page links to is a page of the site, showing the real file.
    guard = (site / "code" / "functions" / "core" / "guard.py.html").read_text(encoding="utf-8")
    assert "class" in guard and "Guard" in guard
    # Reference tables come from the registries: every playbook is in the rendered playbooks table.
    from functions.playbooks import PLAYBOOKS

    overview = (site / "playbooks" / "index.html").read_text(encoding="utf-8")
    assert all(name in overview for name in PLAYBOOKS)


def test_snippet_by_name_follows_the_definition() -> None:
    hook = _hook()
    first, last = hook.definition_lines("functions/core/guard.py", "Guard.check")
    lines = (ROOT / "functions/core/guard.py").read_text(encoding="utf-8").splitlines()
    assert lines[first - 1].lstrip().startswith("def check(")
    assert last > first


def test_snippet_of_a_missing_definition_fails_the_build() -> None:
    from mkdocs.exceptions import PluginError

    hook = _hook()
    with pytest.raises(PluginError, match="not defined"):
        hook.definition_lines("functions/core/guard.py", "Guard.no_such_method")
    with pytest.raises(PluginError, match="no such file"):
        hook.definition_lines("functions/core/no_such_module.py", "anything")
    with pytest.raises(PluginError, match="no top-level key"):
        hook.definition_lines("config/dev.yaml", "no_such_section")


def test_yaml_section_ends_before_the_next_key() -> None:
    hook = _hook()
    first, last = hook.definition_lines("config/dev.yaml", "thresholds")
    lines = (ROOT / "config/dev.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[first - 1].startswith("thresholds:")
    assert all(line[:1] in ("", " ", "#") for line in lines[first:last])


def test_the_readme_is_short_and_its_links_resolve() -> None:
    import re

    readme = ROOT / "README.md"
    assert readme.stat().st_size <= 12_500, "the README is the front door: reference material goes to docs/"
    text = readme.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert targets, "the README links into the docs"
    # Inside the repository only: the runbook it links to lives beside the checkout, not in it.
    missing = [t for t in targets if not t.startswith(("http", "../")) and not (ROOT / t).exists()]
    assert missing == []
