"""CloudWatch's alarm evaluation, which moto does not do: the synthesized alarm definition (metric,
statistic, period, evaluation periods, datapoints to alarm, threshold, missing-data treatment) decides
the state from the metric data in the emulated CloudWatch. A state change becomes the
`CloudWatch Alarm State Change` event CloudWatch would put on EventBridge, in AWS's documented shape.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


@dataclass
class Evaluation:
    alarm_name: str
    previous: str
    state: str
    reason: str
    reason_data: dict[str, Any]
    datapoints: list[float | None]  # oldest first, one per period of the evaluation window

    @property
    def changed(self) -> bool:
        return self.previous != self.state


def _queries(p: dict[str, Any]) -> list[dict[str, Any]]:
    if "Metrics" in p:
        return [{k: v for k, v in m.items() if k in ("Id", "MetricStat", "Expression", "Label", "ReturnData",
                                                       "Period")} for m in p["Metrics"]]
    stat = p.get("Statistic") or p.get("ExtendedStatistic")
    return [{"Id": "m1", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": p["Namespace"], "MetricName": p["MetricName"],
                   "Dimensions": p.get("Dimensions", [])},
        "Period": int(p["Period"]), "Stat": stat}}]


Series = dict[datetime, float]


def _alarm_series(cloudwatch: Any, p: dict[str, Any], start: datetime, end: datetime) -> Series:
    """The series the alarm compares with its threshold: the metric's, or the metric math expression's
    that returns data. The metrics come from the emulated CloudWatch (GetMetricData); the expressions are
    computed here, because moto's GetMetricData only echoes a query whose expression is another's id."""
    return _many_series(cloudwatch, [p], start, end)[0]


# GetMetricData takes at most 500 queries a call (CloudWatch API reference, GetMetricData: MetricDataQueries).
MAX_QUERIES = 500


def _many_series(cloudwatch: Any, alarms: list[dict[str, Any]], start: datetime, end: datetime,
                 starts: list[datetime] | None = None) -> list[Series]:
    """`_alarm_series` of alarms whose windows end at `end`, their metrics read in as few GetMetricData calls as
    the API allows: each query's answer depends on the window and the query alone, so one call answers what one
    call per alarm did (each query renamed, its alarm's ids kept for its metric math). `starts`: where each
    alarm's own window starts, when later than `start` (its metrics' earlier datapoints are left out)."""
    stats: list[dict[str, Any]] = []
    names: dict[str, tuple[int, str]] = {}  # id sent -> the alarm and its own id (ids are unique in a request)
    for index, p in enumerate(alarms):
        for query in _queries(p):
            if "MetricStat" in query:
                sent = query["Id"] if query["Id"] not in names else next(
                    i for i in (f"q{n}" for n in range(len(names) + 1)) if i not in names)
                stats.append({**query, "Id": sent, "ReturnData": True})
                names[sent] = (index, query["Id"])
    values: list[dict[str, Series]] = [{} for _ in alarms]
    for first in range(0, len(stats), MAX_QUERIES) if stats else ():
        response = cloudwatch.get_metric_data(MetricDataQueries=stats[first:first + MAX_QUERIES], StartTime=start,
                                              EndTime=end, ScanBy="TimestampAscending")
        for r in response["MetricDataResults"]:
            index, own = names[r["Id"]]
            since = starts[index] if starts else start
            values[index][own] = {ts: v for ts, v in zip((ts.astimezone(UTC) for ts in r["Timestamps"]), r["Values"],
                                                         strict=True) if ts >= since}
    return [_returned(p, found) for p, found in zip(alarms, values, strict=True)]


def _returned(p: dict[str, Any], values: dict[str, Series]) -> Series:
    """The alarm's expressions computed over its metrics' series; the series of the query that returns data."""
    queries = _queries(p)
    for query in queries:
        if "Expression" in query:
            values[query["Id"]] = metric_math(query["Expression"], values)
    returned = [q["Id"] for q in queries if q.get("ReturnData", True) and q["Id"] != p.get("ThresholdMetricId")]
    return values.get(returned[0], {}) if returned else {}


def metric_math(expression: str, values: dict[str, Series]) -> Series:
    """CloudWatch metric math over aligned series, as AWS documents it (CloudWatch User Guide, "Metric math syntax
    and functions"): + - * / with series and numbers, ABS, and SUM, AVG, MAX, MIN of a [list] of series.

    - Between two series, "Missing values in a time series are treated as 0": the result has a datapoint at every
      timestamp either series has one; a division by zero drops the datapoint ("If the value of a data point causes
      a function to attempt to divide by zero, the data point is dropped"). With a number: the series' timestamps.
    - SUM and AVG of an array of time series "return a single time series"; for AVG "Missing values are treated as
      0" (it divides by the number of series), and SUM adds what each series has at the timestamp (a missing one
      adds 0). A broker that publishes nothing does not take the cluster's sum away.
    - MAX and MIN of an array: AWS does not say what a missing value is to them. They are emulated where reading
      it as absent or as 0 gives the same value (MAX of non-negative counts, every series present) and refused
      (ValueError) where the two readings differ, rather than guessed in either direction.
    - A timestamp where no series used has a datapoint has none in the result: the alarm counts it as missing
      and applies its TreatMissingData (evaluate)."""
    import ast
    import operator

    binary = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
    nan = float("nan")

    def each(item: Series | float, fn: Any) -> Series | float:
        return {t: float(fn(v)) for t, v in item.items()} if isinstance(item, dict) else float(fn(item))

    def pair(left: Series | float, right: Series | float, op: Any) -> Series | float:
        def apply(a: float, b: float) -> float:
            return nan if op is operator.truediv and b == 0 else float(op(a, b))

        if isinstance(left, dict) and isinstance(right, dict):
            return {t: apply(left.get(t, 0.0), right.get(t, 0.0)) for t in set(left) | set(right)}
        if isinstance(left, dict):
            return {t: apply(v, right) for t, v in left.items()}  # type: ignore[arg-type]
        if isinstance(right, dict):
            return {t: apply(left, v) for t, v in right.items()}
        return apply(left, right)

    def fold(name: str, items: list[Series | float]) -> Series | float:
        series = [i for i in items if isinstance(i, dict)]
        count = len(items)
        if not series:
            scalars = [float(i) for i in items]  # type: ignore[arg-type]
            return {"SUM": sum, "MAX": max, "MIN": min}.get(name, lambda xs: sum(xs) / count)(scalars)
        result: Series = {}
        for t in set().union(*(set(s) for s in series)):
            present = [i[t] if isinstance(i, dict) else float(i) for i in items
                       if not isinstance(i, dict) or t in i]
            if name == "SUM":
                result[t] = float(sum(present))
            elif name == "AVG":
                result[t] = float(sum(present)) / count
            else:
                pick = max if name == "MAX" else min
                as_absent = pick(present)
                as_zero = pick([*present, 0.0]) if len(present) < count else as_absent
                if as_absent != as_zero:
                    raise ValueError(f"metric math not emulated: {name} of an array where a series has no "
                                     f"datapoint at {t} (AWS does not document it): {expression!r}")
                result[t] = float(as_absent)
        return result

    def walk(node: ast.AST) -> Series | float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ValueError(f"metric math: unknown id {node.id!r} in {expression!r}")
            return values[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return each(walk(node.operand), operator.neg)
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            return pair(walk(node.left), walk(node.right), binary[type(node.op)])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
            name = node.func.id.upper()
            arg = node.args[0]
            if name == "ABS":
                return each(walk(arg), abs)
            if name in ("SUM", "AVG", "MAX", "MIN") and isinstance(arg, ast.List):
                return fold(name, [walk(e) for e in arg.elts])
        raise ValueError(f"metric math not emulated: {expression!r}")

    result = walk(ast.parse(expression, mode="eval").body)
    if not isinstance(result, dict):
        return {}
    return {t: v for t, v in result.items() if not math.isnan(v)}  # x/0: the data point is dropped


def _period(p: dict[str, Any]) -> int:
    if "Period" in p:
        return int(p["Period"])
    return min(int(m["MetricStat"]["Period"]) for m in p["Metrics"] if "MetricStat" in m)


def _window(p: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """The alarm's evaluation window at `now`: its last `EvaluationPeriods` whole periods."""
    period = _period(p)
    end = datetime.fromtimestamp((int(now.timestamp()) // period) * period, UTC)
    return end - timedelta(seconds=period * int(p["EvaluationPeriods"])), end


def evaluate(cloudwatch: Any, name: str, p: dict[str, Any], now: datetime | None = None,
             current: str | None = None) -> Evaluation:
    """Decide the alarm's state at `now` from the metric data, as CloudWatch does (M out of N). `current` is the
    alarm's state before, when the caller has read it already (one DescribeAlarms for every alarm)."""
    now = now or datetime.now(UTC)
    start, end = _window(p, now)
    series = _alarm_series(cloudwatch, p, start, end)
    if current is None:
        current = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
    return _decide(name, p, series, start, now, current)


def evaluate_all(cloudwatch: Any, alarms: dict[str, dict[str, Any]], now: datetime,
                 current: dict[str, str]) -> list[Evaluation]:
    """`evaluate` of every alarm in `alarms` (name -> definition) at `now`, each from its state in `current`, in
    `alarms`' order, their metrics read together: GetMetricData aggregates a query's datapoints by its period from
    StartTime on, so alarms whose metrics all have the alarm's period P and whose windows end together (at a
    multiple of P) read the longest of their windows in one call, each keeping its own last periods; the same
    periods, the same values. An alarm whose metrics have other periods reads its own window."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    windows = {name: _window(p, now) for name, p in alarms.items()}
    for name, p in alarms.items():
        period, (start, end) = _period(p), windows[name]
        own = {int(q["MetricStat"]["Period"]) for q in _queries(p) if "MetricStat" in q} == {period}
        groups.setdefault((period, end) if own else (start, end, name), []).append(name)
    series: dict[str, Series] = {}
    for names in groups.values():
        starts = [windows[n][0] for n in names]
        series.update(zip(names, _many_series(cloudwatch, [alarms[n] for n in names], min(starts), windows[names[0]][1],
                                              starts), strict=True))
    return [_decide(name, p, series[name], windows[name][0], now, current[name]) for name, p in alarms.items()]


def _decide(name: str, p: dict[str, Any], series: Series, start: datetime, now: datetime,
            current: str) -> Evaluation:
    period = _period(p)
    periods = int(p["EvaluationPeriods"])
    needed = int(p.get("DatapointsToAlarm", periods))
    slots = [start + timedelta(seconds=period * i) for i in range(periods)]
    datapoints = [series.get(slot) for slot in slots]

    threshold = float(p["Threshold"])
    compare = COMPARE[p["ComparisonOperator"]]
    treat = p.get("TreatMissingData", "missing")
    breaching = sum(1 for v in datapoints if v is not None and compare(v, threshold))
    if treat == "breaching":
        breaching += sum(1 for v in datapoints if v is None)
    present = [v for v in datapoints if v is not None]

    if breaching >= needed:
        state = "ALARM"
    elif not present and treat in ("missing", "ignore"):
        state = current if treat == "ignore" else "INSUFFICIENT_DATA"
    else:
        state = "OK"
    shown = ", ".join(f"{v} ({slot:%d/%m/%y %H:%M:%S})" for slot, v in zip(slots, datapoints, strict=True)
                      if v is not None) or "no datapoints"
    reason = (f"Threshold Crossed: {breaching} out of the last {periods} datapoints [{shown}] "
              f"{'were' if state == 'ALARM' else 'were not'} {WORDS[p['ComparisonOperator']]} the threshold "
              f"({threshold}) (minimum {needed} datapoints for OK -> ALARM transition).")
    reason_data = {
        "version": "1.0", "queryDate": _stamp(now), "startDate": _stamp(start), "period": period,
        "recentDatapoints": present, "threshold": threshold,
        "evaluatedDatapoints": [{"timestamp": _stamp(slot), "value": v}
                                for slot, v in zip(slots, datapoints, strict=True) if v is not None],
    }
    if "Statistic" in p:
        reason_data["statistic"] = p["Statistic"]
    return Evaluation(name, current, state, reason, reason_data, datapoints)


def _stamp(at: datetime) -> str:
    """CloudWatch's timestamp format: 2019-10-02T17:04:40.989+0000."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def record_transition(cloudwatch: Any, evaluation: Evaluation, at: datetime | None = None) -> None:
    """Store the decided state in the emulated CloudWatch (what CloudWatch itself would do), stamped with
    the moment of the evaluation (`at`, the game day's clock) rather than the wall clock."""
    cloudwatch.set_alarm_state(AlarmName=evaluation.alarm_name, StateValue=evaluation.state,
                               StateReason=evaluation.reason[:1023],
                               StateReasonData=json.dumps(evaluation.reason_data))
    if at is not None:
        from moto.cloudwatch.models import cloudwatch_backends

        region = cloudwatch.meta.region_name
        for backend in (cloudwatch_backends[account][region] for account in cloudwatch_backends):
            alarm = backend.alarms.get(evaluation.alarm_name)
            if alarm is not None:
                alarm.state_updated_timestamp = at


def state_change_event(evaluation: Evaluation, p: dict[str, Any], account: str, region: str,
                       previous_reason: str = "", at: datetime | None = None) -> dict[str, Any]:
    """The EventBridge event CloudWatch emits for this transition (AWS docs: 'Alarm events and EventBridge')."""
    at = at or datetime.now(UTC)
    metrics = []
    if "Metrics" in p:
        for m in p["Metrics"]:
            entry: dict[str, Any] = {"id": m["Id"], "returnData": m.get("ReturnData", True)}
            if "Expression" in m:
                entry["expression"] = m["Expression"]
                entry["label"] = m.get("Label", m["Id"])
            else:
                stat = m["MetricStat"]
                entry["metricStat"] = {"metric": {
                    "namespace": stat["Metric"]["Namespace"], "name": stat["Metric"]["MetricName"],
                    "dimensions": {d["Name"]: d["Value"] for d in stat["Metric"].get("Dimensions", [])}},
                    "period": int(stat["Period"]), "stat": stat["Stat"]}
            metrics.append(entry)
    else:
        metrics.append({"id": str(uuid.uuid4()), "returnData": True, "metricStat": {
            "metric": {"namespace": p["Namespace"], "name": p["MetricName"],
                       "dimensions": {d["Name"]: d["Value"] for d in p.get("Dimensions", [])}},
            "period": int(p["Period"]), "stat": p.get("Statistic") or p.get("ExtendedStatistic")}})
    name = evaluation.alarm_name
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": evaluation.state, "reason": evaluation.reason,
                      "reasonData": json.dumps(evaluation.reason_data), "timestamp": _stamp(at)},
            "previousState": {"value": evaluation.previous, "reason": previous_reason,
                              "timestamp": _stamp(at - timedelta(minutes=5))},
            "configuration": {"description": p.get("AlarmDescription", ""), "metrics": metrics},
        },
    }


# -- composite alarms -------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*((?:ALARM|OK|INSUFFICIENT_DATA)\s*\(|\(|\)|"[^"]*"|[^\s()"]+)', re.IGNORECASE)


def _alarm_ref(text: str) -> str:
    """ALARM("arn:aws:cloudwatch:...:alarm:NAME") and ALARM(NAME) both name the alarm NAME."""
    text = text.strip().strip('"')
    return text.split(":alarm:", 1)[1] if ":alarm:" in text else text


def evaluate_rule(rule: str, states: dict[str, str]) -> bool:
    """CloudWatch's AlarmRule language: ALARM(x), OK(x), INSUFFICIENT_DATA(x), AND, OR, NOT, (), TRUE, FALSE."""
    tokens = [t.strip() for t in _TOKEN.findall(rule) if t.strip()]
    position = 0

    def peek() -> str:
        return tokens[position] if position < len(tokens) else ""

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expression() -> bool:
        value = term()
        while peek().upper() == "OR":
            take()
            right = term()
            value = value or right
        return value

    def term() -> bool:
        value = factor()
        while peek().upper() == "AND":
            take()
            right = factor()
            value = value and right
        return value

    def factor() -> bool:
        token = take()
        upper = token.upper()
        if upper == "NOT":
            return not factor()
        if token == "(":
            value = expression()
            take()  # ")"
            return value
        if upper in ("TRUE", "FALSE"):
            return upper == "TRUE"
        function = upper.rstrip("( ").strip()
        if function in ("ALARM", "OK", "INSUFFICIENT_DATA"):
            name = _alarm_ref(take())
            take()  # ")"
            return states.get(name, "INSUFFICIENT_DATA") == function
        raise ValueError(f"cannot read alarm rule at {token!r}: {rule}")

    result = expression()
    if position != len(tokens):
        raise ValueError(f"trailing tokens in alarm rule: {rule}")
    return result


def evaluate_composite(name: str, p: dict[str, Any], states: dict[str, str]) -> Evaluation:
    state = "ALARM" if evaluate_rule(p["AlarmRule"], states) else "OK"
    reason = f"arn:aws:cloudwatch alarm rule {'is' if state == 'ALARM' else 'is not'} true: {p['AlarmRule'][:300]}"
    return Evaluation(name, states.get(name, "INSUFFICIENT_DATA"), state, reason,
                      {"triggeringAlarms": [n for n, s in states.items() if s == "ALARM"]}, [])


def composite_event(evaluation: Evaluation, p: dict[str, Any], account: str, region: str,
                    at: datetime | None = None) -> dict[str, Any]:
    """The EventBridge event of a composite alarm's state change (its configuration carries the rule)."""
    at = at or datetime.now(UTC)
    name = evaluation.alarm_name
    configuration: dict[str, Any] = {"alarmRule": p["AlarmRule"], "description": p.get("AlarmDescription", "")}
    if p.get("ActionsSuppressor"):
        configuration["actionsSuppressor"] = p["ActionsSuppressor"]
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": account, "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region, "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": evaluation.state, "reason": evaluation.reason, "timestamp": _stamp(at),
                      "reasonData": json.dumps(evaluation.reason_data)},
            "previousState": {"value": evaluation.previous, "reason": "", "timestamp": _stamp(at)},
            "configuration": configuration,
        },
    }


# -- alarm actions ----------------------------------------------------------------------------------------

ACTIONS_FOR_STATE = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


def suppressed_by(p: dict[str, Any], states: dict[str, str]) -> str | None:
    """The suppressor alarm holding a composite's actions back (ActionsSuppressor in ALARM), if any.
    Wait and extension periods are not emulated: the suppressor counts from the moment it is in ALARM."""
    suppressor = p.get("ActionsSuppressor")
    if suppressor and states.get(_alarm_ref(suppressor)) == "ALARM":
        return _alarm_ref(suppressor)
    return None


def alarm_notification(evaluation: Evaluation, p: dict[str, Any], account: str, region: str,
                       at: datetime | None = None) -> tuple[str, str]:
    """Subject and JSON message CloudWatch publishes to an SNS alarm action."""
    at = at or datetime.now(UTC)
    subject = f'{evaluation.state}: "{evaluation.alarm_name}" in {region}'[:100]
    message = {
        "AlarmName": evaluation.alarm_name, "AlarmDescription": p.get("AlarmDescription"),
        "AWSAccountId": account, "NewStateValue": evaluation.state, "NewStateReason": evaluation.reason,
        "StateChangeTime": _stamp(at), "Region": region, "OldStateValue": evaluation.previous,
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{evaluation.alarm_name}",
    }
    if "AlarmRule" in p:
        message["AlarmRule"] = p["AlarmRule"]
    else:
        message["Trigger"] = {"MetricName": p.get("MetricName"), "Namespace": p.get("Namespace"),
                              "Threshold": p.get("Threshold"), "ComparisonOperator": p.get("ComparisonOperator"),
                              "EvaluationPeriods": p.get("EvaluationPeriods")}
    return subject, json.dumps(message)
