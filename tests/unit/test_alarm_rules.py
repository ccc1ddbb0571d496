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
