"""The sandbox's metric math over series with missing datapoints, as AWS documents it. CloudWatch User Guide,
"Metric math syntax and functions" (using-metric-math.md in awsdocs/amazon-cloudwatch-user-guide, 2023-05):

- Basic arithmetic: "Missing values in a time series are treated as 0. If the value of a data point causes a
  function to attempt to divide by zero, the data point is dropped."
- AVG: "The AVG of an array of time series returns a single time series. Missing values are treated as 0."
- SUM: "The SUM of an array of time series returns a single time series."
- FILL (not emulated): "Fills the missing values of a time series."

No rule says what MIN or MAX of an array make of a missing value: the sandbox refuses to guess where the readings
(absent, or 0) differ.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.alarms import evaluate, metric_math

T = [datetime(2026, 11, 25, 10, m, tzinfo=UTC) for m in range(4)]
B1 = {T[0]: 2.0, T[1]: 2.0, T[2]: 1.0}
B3 = {T[0]: 1.0, T[1]: 1.0, T[2]: 1.0}
B2: dict[datetime, float] = {T[0]: 0.0}  # offline from T[1]: publishes nothing
VALUES = {"b1": B1, "b2": B2, "b3": B3}


def test_sum_of_an_array_adds_what_each_series_has_and_a_missing_value_adds_0() -> None:
    assert metric_math("SUM([b1, b2, b3])", VALUES) == {T[0]: 3.0, T[1]: 3.0, T[2]: 2.0}


def test_arithmetic_treats_a_missing_value_as_0_where_the_other_series_has_one() -> None:
    # b1 + b2 + b3 reads the same as the SUM: "Missing values in a time series are treated as 0".
    assert metric_math("b1 + b2 + b3", VALUES) == metric_math("SUM([b1, b2, b3])", VALUES)
    assert metric_math("b1 - b2", VALUES) == {T[0]: 2.0, T[1]: 2.0, T[2]: 1.0}


def test_a_timestamp_no_series_has_has_no_datapoint() -> None:
    assert T[3] not in metric_math("SUM([b1, b2, b3])", VALUES)
    assert metric_math("SUM([b2])", {"b2": {}}) == {}


def test_avg_of_an_array_counts_a_missing_value_as_0() -> None:
    assert metric_math("AVG([b1, b2])", VALUES) == {T[0]: 1.0, T[1]: 1.0, T[2]: 0.5}


def test_division_by_zero_drops_the_datapoint_and_a_missing_divisor_is_0() -> None:
    values = {"ok": {T[0]: 99.0, T[1]: 0.0, T[2]: 5.0}, "bad": {T[0]: 1.0, T[1]: 0.0, T[3]: 2.0}}
    # T1: 0/0 dropped; T2: bad missing -> 5/5; T3: ok missing -> 0/2.
    assert metric_math("100 * ok / (ok + bad)", values) == {T[0]: 99.0, T[2]: 100.0, T[3]: 0.0}
    assert metric_math("ok / bad", values) == {T[0]: 99.0, T[3]: 0.0}  # T2: 5 / (missing = 0) dropped


def test_a_number_keeps_the_series_timestamps() -> None:
    assert metric_math("ABS(b2 - 1)", VALUES) == {T[0]: 1.0}
    assert metric_math("-b3", VALUES) == {T[0]: -1.0, T[1]: -1.0, T[2]: -1.0}


def test_max_and_min_of_an_array_are_given_only_where_every_reading_of_a_missing_value_agrees() -> None:
    assert metric_math("MAX([b1, b2, b3])", VALUES) == {T[0]: 2.0, T[1]: 2.0, T[2]: 1.0}  # counts: 0 is no max
    assert metric_math("MIN([b1, b3])", VALUES) == {T[0]: 1.0, T[1]: 1.0, T[2]: 1.0}  # no missing value
    with pytest.raises(ValueError, match="AWS does not document it"):
        metric_math("MIN([b1, b2, b3])", VALUES)  # 1 if b2 is absent, 0 if it is 0
    with pytest.raises(ValueError, match="not emulated"):
        metric_math("FILL(b2, 0)", VALUES)


class _CloudWatch:
    """GetMetricData's answer for the three brokers (what the emulated CloudWatch returns), and the alarm's state."""

    def __init__(self, series: dict[str, dict[datetime, float]]):
        self.series = series

    def get_metric_data(self, MetricDataQueries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        return {"MetricDataResults": [{"Id": q["Id"], "Timestamps": sorted(self.series[q["Id"]]),
                                       "Values": [self.series[q["Id"]][t] for t in sorted(self.series[q["Id"]])]}
                                      for q in MetricDataQueries]}


def _under_replicated_alarm() -> dict[str, Any]:
    """The shape PutMetricAlarm takes for infra.signals' msk-under-replicated (5 of 5 minutes, ignore)."""
    def broker(b: int) -> dict[str, Any]:
        return {"Id": f"b{b}", "ReturnData": False, "MetricStat": {"Period": 60, "Stat": "Maximum", "Metric": {
            "Namespace": "AWS/Kafka", "MetricName": "UnderReplicatedPartitions",
            "Dimensions": [{"Name": "Cluster Name", "Value": "c"}, {"Name": "Broker ID", "Value": str(b)}]}}}

    return {"Metrics": [broker(1), broker(2), broker(3),
                        {"Id": "expr", "Expression": "SUM([b1, b2, b3])", "ReturnData": True}],
            "EvaluationPeriods": 5, "DatapointsToAlarm": 5, "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "ignore"}


def test_an_offline_broker_leaves_the_sum_alarm_five_breaching_datapoints_from_the_other_two() -> None:
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    minutes = [start + timedelta(minutes=m) for m in range(5)]
    # Broker 2 offline for the whole window: brokers 1 and 3 lead its partitions' in-sync replicas and report
    # them under-replicated; broker 2 publishes nothing.
    cloudwatch = _CloudWatch({"b1": dict.fromkeys(minutes, 4.0), "b2": {}, "b3": dict.fromkeys(minutes, 3.0)})
    now = start + timedelta(minutes=5, seconds=10)
    evaluation = evaluate(cloudwatch, "under", _under_replicated_alarm(), now, current="OK")
    assert evaluation.datapoints == [7.0] * 5
    assert evaluation.state == "ALARM"

    # Every broker silent (a CloudWatch delay): no datapoint at all, and `ignore` keeps the state.
    silent = _CloudWatch({"b1": {}, "b2": {}, "b3": {}})
    assert evaluate(silent, "under", _under_replicated_alarm(), now, current="OK").state == "OK"
