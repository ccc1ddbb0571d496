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


def test_add_keeps_the_list_and_adds_what_is_slow_in_make_checks_tier(tmp_path, monkeypatch, capsys) -> None:
    # make check leaves the listed test out; the module's shared setup then falls to its other test (checkov).
    from tests import slow_list

    listed_before = tmp_path / "slow.txt"
    listed_before.write_text("# measured\ntests/infra/test_checkov.py::test_templates_pass_checkov\n")
    monkeypatch.setattr(slow_list, "LIST", listed_before)
    log = tmp_path / "check.log"
    log.write_text("== slowest durations ==\n18.10s setup    tests/infra/test_checkov.py::test_every_skip\n"
                   "0.20s call     tests/unit/test_guard.py::test_cooldown\n")
    assert slow_list.main(["--add", str(log)]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["tests/infra/test_checkov.py::test_every_skip",
                                                         "tests/infra/test_checkov.py::test_templates_pass_checkov"]
    log.write_text("== slowest durations ==\n0.20s call     tests/unit/test_guard.py::test_cooldown\n")
    assert slow_list.main(["--add", str(log)]) == 0  # nothing new is slow: the list as it was
    assert capsys.readouterr().out.splitlines()[1:] == ["tests/infra/test_checkov.py::test_templates_pass_checkov"]
    assert slow_list.main(["--add"]) == 2
