"""What `make bench` computes from its measurements (no timing is asserted: the figures are the machine's)."""

from __future__ import annotations

from pathlib import Path

from remedy import bench


def run(init: float, first: float, outcome: str = "REJECTED") -> dict[str, object]:
    return {"init": init, "first_event": first, "outcome": outcome}


def test_a_cold_start_row_is_medians_and_their_ratios_with_the_target_on_init_only() -> None:
    baseline = [run(0.100, 0.110), run(0.300, 0.130), run(0.200, 0.120)]  # medians 200 ms, 120 ms
    ours = [run(0.250, 0.600), run(0.240, 0.480, "NoCredentialsError"), run(0.900, 0.500)]  # 250 ms, 500 ms
    row = bench.cold_start_row("fn", "functions.handlers.x.handler", baseline, ours)
    assert (row["init_ms"], row["baseline_init_ms"], row["ratio"]) == (250.0, 200.0, 1.25)
    assert row["meets_target"] is True  # 1.25 <= 1.5, however slow the first event
    assert (row["first_event_ms"], row["baseline_first_event_ms"], row["first_event_ratio"]) == (500.0, 120.0, 4.17)
    assert row["first_event"] == "REJECTED"  # what most runs' first event did

    slow = bench.cold_start_row("fn", "h", baseline, [run(0.310, 0.4)])
    assert (slow["ratio"], slow["meets_target"]) == (1.55, False)


def test_transitions_count_every_state_entered_and_nothing_else() -> None:
    history = [
        {"type": "ExecutionStarted"},
        {"type": "TaskStateEntered"}, {"type": "TaskScheduled"}, {"type": "TaskSucceeded"},
        {"type": "TaskStateExited"},
        {"type": "ChoiceStateEntered"}, {"type": "ChoiceStateExited"},
        {"type": "PassStateEntered"}, {"type": "PassStateExited"},
        {"type": "SucceedStateEntered"}, {"type": "ExecutionSucceeded"},
    ]
    assert bench.transitions(history) == 4
    assert bench.transitions([]) == 0


def test_the_fresh_interpreter_gets_the_functions_settings_and_no_way_to_reach_aws(tmp_path: Path) -> None:
    env = bench.fresh_environment({"AUDIT_TABLE": {"Ref": "Audit"}, "POWERTOOLS_SERVICE_NAME": "remedy"},
                                  tmp_path / "catalog.yaml", "eu-west-1")
    assert env["AUDIT_TABLE"] == "bench" and env["POWERTOOLS_SERVICE_NAME"] == "remedy"
    assert env["CATALOG_PATH"] == str(tmp_path / "catalog.yaml")
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"  # configuration, as in the sandbox
    assert not {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"} & set(env)


def test_a_fresh_start_imports_the_handler_then_hands_it_one_event(tmp_path: Path) -> None:
    (tmp_path / "tiny_handler.py").write_text(
        "def handler(event, context):\n"
        "    assert context.function_name == 'bench' and context.get_remaining_time_in_millis() > 0\n"
        "    return {'status': 'REJECTED' if 'bench' in event else 'ACCEPTED'}\n"
        "def crash(event, context):\n"
        "    raise KeyError('state')\n", encoding="utf-8")
    env = bench.fresh_environment({}, tmp_path / "catalog.yaml", "eu-west-1")
    measured = bench.fresh_start("tiny_handler.handler", str(tmp_path), env)
    assert measured["outcome"] == "REJECTED"
    assert 0 < measured["init"] <= measured["first_event"]
    assert bench.fresh_start("tiny_handler.crash", str(tmp_path), env)["outcome"] == "KeyError"
