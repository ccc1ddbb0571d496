"""The measured list of slow tests (tests/slow.txt): what `make check` leaves to `make test`.

`make check` is the inner loop (under 90 s on two cores); `make test` runs everything. A test is slow when
its setup, call and teardown together took SLOW_SECONDS or more in a `make check`-style run on two cores (a
CLI started in a subprocess, a whole procedure run, a module's first synthesis). The list is measured, not
chosen: `make slow-list` runs the tier with `--durations=0` and writes it again, sorted, so a test that got
faster returns to `make check` and a new slow one leaves it. A test in the list that no longer exists is dropped
at the next measurement; one the list does not name runs in `make check` until then.

    python -m tests.slow_list PYTEST_LOG > tests/slow.txt
    python -m tests.slow_list --add CHECK_LOG > tests/slow.txt.new && mv tests/slow.txt.new tests/slow.txt

A test left out can hand its module's shared setup to the next test of the module (the checkov fixture: 18 s that
moved to the module's other test): `make slow-list` then runs `make check`'s tier once more and `--add`s the
tests that are slow there.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

SLOW_SECONDS = 1.5
LIST = Path(__file__).with_name("slow.txt")
_LINE = re.compile(r"^([\d.]+)s (?:setup|call|teardown)\s+(.+?)\s*$")


def slow_tests(log: str, threshold: float = SLOW_SECONDS) -> list[str]:
    """Node ids whose phases add up to `threshold` seconds or more in a pytest `--durations=0` report."""
    spent: Counter[str] = Counter()
    for line in log.splitlines():
        match = _LINE.match(line)
        if match:
            spent[match.group(2)] += float(match.group(1))
    return sorted(node for node, seconds in spent.items() if seconds >= threshold)


def listed() -> set[str]:
    if not LIST.exists():
        return set()
    return {line.strip() for line in LIST.read_text().splitlines() if line.strip() and not line.startswith("#")}


def main(argv: list[str]) -> int:
    add = argv[:1] == ["--add"]
    argv = argv[1:] if add else argv
    if len(argv) != 1:
        print("usage: python -m tests.slow_list [--add] PYTEST_LOG  (a pytest run with --durations=0)",
              file=sys.stderr)
        return 2
    nodes = slow_tests(Path(argv[0]).read_text())
    if not nodes and (not add or "slowest" not in Path(argv[0]).read_text()):
        print(f"no durations in {argv[0]}: run pytest with --durations=0", file=sys.stderr)
        return 1
    if add:  # the list so far, and what is slow in make check's tier without it
        nodes = sorted(listed() | set(nodes))
    print(f"# measured by `make slow-list` (tests.slow_list): {SLOW_SECONDS:g} s or more each; in make test only")
    print("\n".join(nodes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
