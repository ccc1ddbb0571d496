"""What `make bench` computes from its measurements (no timing is asserted: the figures are the machine's)."""

from __future__ import annotations

from pathlib import Path

from remedy import bench


def run(init: float, first: float, outcome: str = "dynamodb:PutItem HTTP 200") -> dict[str, object]:
    return {"init": init, "first_call": first, "outcome": outcome}


def test_a_cold_start_row_is_medians_and_their_ratios_with_the_target_on_the_first_aws_call() -> None:
    base = "cloudwatch:DescribeAlarms HTTP 200"
    baseline = [run(0.300, 0.400, base), run(0.100, 0.300, base), run(0.200, 0.500, base)]  # medians 200, 400 ms
    ours = [run(0.050, 0.600), run(0.040, 0.480, "dynamodb:PutItem HTTP 400"), run(0.900, 0.500)]  # 50, 500 ms
    row = bench.cold_start_row("fn", "functions.handlers.x.handler", baseline, ours)
    assert (row["first_call_ms"], row["baseline_first_call_ms"], row["ratio"]) == (500.0, 400.0, 1.25)
    assert row["meets_target"] is True  # 1.25 <= 1.5
    assert (row["init_ms"], row["baseline_init_ms"], row["init_ratio"]) == (50.0, 200.0, 0.25)
    assert row["first_call"] == "dynamodb:PutItem HTTP 200"  # what most runs' first AWS call was
    assert row["baseline_first_call"] == base

    slow = bench.cold_start_row("fn", "h", baseline, [run(0.010, 0.620)])  # a quick init does not save it
    assert (slow["ratio"], slow["meets_target"]) == (1.55, False)

    # Ended before any AWS call (e.g. the lag probe without its in-process broker stand-in): shown, not judged.
    early = bench.cold_start_row("fn", "h", baseline, [run(0.010, 0.300, "no AWS call: UNMEASURED")])
    assert (early["ratio"], early["meets_target"], early["first_call"]) == (0.75, None, "no AWS call: UNMEASURED")


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


def test_a_fresh_start_imports_the_handler_then_runs_the_event_to_its_end_when_it_makes_no_aws_call(
        tmp_path: Path) -> None:
    """The unit tier has no sandbox: tests/integration/test_bench_cold_start.py runs real events to their first
    AWS call. Here: a handler that calls nothing is measured to its end, and says so."""
    (tmp_path / "tiny_handler.py").write_text(
        "def handler(event, context):\n"
        "    assert context.function_name == 'fn' and context.get_remaining_time_in_millis() > 0\n"
        "    return {'status': 'REJECTED' if 'bench' in event else 'ACCEPTED'}\n"
        "def crash(event, context):\n"
        "    raise KeyError('state')\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin"}
    measured = bench.fresh_start("tiny_handler.handler", str(tmp_path), env, {"bench": 1}, "fn")
    assert measured["outcome"] == "no AWS call: REJECTED"
    assert 0 < measured["init"] <= measured["first_call"]
    assert bench.fresh_start("tiny_handler.crash", str(tmp_path), env, {}, "fn")["outcome"] == "no AWS call: KeyError"


def test_the_cold_start_table_is_written_as_markdown_too() -> None:
    result = {"date": "2026-12-01T10:00:00+00:00", "machine": "x86_64, 2 cores, Python 3.11.9",
              "cold_start": [{**bench.cold_start_row("remedy-dev-msk-consumer-lag", "h", [run(0.2, 0.4)],
                                                     [run(0.05, 0.5)]), "event": "CloudWatch Alarm State Change"},
                             {"function": "remedy-dev-slack", "handler": "h", "meets_target": None,
                              "first_call": "no event in the game day reached an AWS call"}],
              "tracer": {"with_tracer_init_ms": 250.0, "without_tracer_init_ms": 40.0}}
    text = bench.cold_start_markdown(result)
    assert ("| remedy-dev-msk-consumer-lag | CloudWatch Alarm State Change | 500.0 | 400.0 | 1.25 | yes | 50.0 | 200.0 "
            "| dynamodb:PutItem HTTP 200 |") in text
    assert "| remedy-dev-slack | | | | | ? | | | no event in the game day reached an AWS call |" in text
    assert "40.0 ms" in text and "250.0 ms" in text


def test_the_table_names_the_kind_of_event_each_function_was_measured_with() -> None:
    alarm = {"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch"}
    assert bench.event_kind(alarm) == "CloudWatch Alarm State Change"
    assert bench.event_kind({"Records": [{"EventSource": "aws:sns"}]}) == "SNS notification"
    assert bench.event_kind({"job": "doctor", "scheduled_time": "2026-12-02T09:16:24Z"}) == "Scheduler input"
    assert bench.event_kind({"incident_id": "x", "procedure": "scale-glue"}) == "direct input"
