"""The measured slow list: phases add up per test, the threshold decides, and the list marks the tests."""

from __future__ import annotations

from tests.slow_list import listed, slow_tests

LOG = """
============================= slowest durations =============================
3.10s call     tests/integration/test_cli.py::test_replay
1.20s setup    tests/integration/test_probes.py::test_lag
0.90s call     tests/integration/test_probes.py::test_lag
0.40s call     tests/unit/test_guard.py::test_cooldown
2.50s call     tests/integration/test_cli.py::test_bad[<lambda>-rejected: alarm from account 999999999999]
(12 durations < 0.005s hidden.  Use -vv to show these durations.)
"""


def test_a_test_is_slow_when_its_phases_add_up_to_the_threshold() -> None:
    # A parametrized id may hold spaces: the whole id, as pytest prints it and names the item.
    assert slow_tests(LOG, threshold=2.0) == [
        "tests/integration/test_cli.py::test_bad[<lambda>-rejected: alarm from account 999999999999]",
        "tests/integration/test_cli.py::test_replay", "tests/integration/test_probes.py::test_lag"]
    assert slow_tests(LOG, threshold=3.5) == []
    assert slow_tests("no durations here") == []


def test_the_committed_list_names_tests_by_node_id() -> None:
    names = listed()
    assert names and all(n.startswith("tests/") and "::" in n for n in names)
