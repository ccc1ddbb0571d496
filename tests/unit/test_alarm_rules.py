"""The sandbox's reading of CloudWatch's composite AlarmRule language and of actions suppressors."""

from __future__ import annotations

import pytest

from sandbox.alarms import evaluate_rule, suppressed_by

ARN = "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:"
STATES = {"freshness": "ALARM", "broker": "OK", "lag": "ALARM", "quiet": "INSUFFICIENT_DATA"}


@pytest.mark.parametrize(("rule", "expected"), [
    (f'ALARM("{ARN}freshness")', True),
    ('ALARM("freshness") AND NOT (ALARM("broker") OR ALARM("lag"))', False),
    ('ALARM("freshness") AND NOT ALARM("broker")', True),
    ("ALARM(freshness) AND OK(broker)", True),
    ('INSUFFICIENT_DATA("quiet") OR FALSE', True),
    ("TRUE AND NOT TRUE", False),
    ('alarm("lag") and ok("broker")', True),
    ('ALARM("unknown-alarm")', False),
])
def test_alarm_rules_read_as_cloudwatch_reads_them(rule: str, expected: bool) -> None:
    assert evaluate_rule(rule, STATES) is expected


def test_a_malformed_rule_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="trailing tokens"):
        evaluate_rule('ALARM("lag") ALARM("broker")', STATES)


def test_a_suppressor_in_alarm_holds_the_actions_back() -> None:
    assert suppressed_by({"ActionsSuppressor": f"{ARN}lag"}, STATES) == "lag"
    assert suppressed_by({"ActionsSuppressor": f"{ARN}broker"}, STATES) is None
    assert suppressed_by({}, STATES) is None


T1, T2 = "2026-11-25T10:00", "2026-11-25T10:01"


def test_metric_math_is_computed_over_aligned_series() -> None:
    from sandbox.alarms import metric_math

    values = {"ok": {T1: 99.0, T2: 0.0}, "bad": {T1: 1.0, T2: 0.0}, "b1": {T1: 0.0}, "b2": {T1: 3.0, T2: 1.0}}
    assert metric_math("100 * ok / (ok + bad)", values) == {T1: 99.0}  # 0/0 at T2: no datapoint
    assert metric_math("SUM([b1, b2])", values) == {T1: 3.0, T2: 1.0}  # b1's missing T2 adds 0 (test_metric_math)
    assert metric_math("MAX([b1, b2])", values) == {T1: 3.0, T2: 1.0}
    assert metric_math("ABS(b2 - 1)", values) == {T1: 2.0, T2: 0.0}
    with pytest.raises(ValueError, match="not emulated"):
        metric_math("ANOMALY_DETECTION_BAND(b1)", values)
