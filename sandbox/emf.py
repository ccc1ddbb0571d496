"""CloudWatch's embedded metric format: what CloudWatch Logs does with a function's EMF log lines (turn
them into metrics), done for the sandbox's functions so their metrics land in the emulated CloudWatch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def metric_data(line: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, MetricData) pairs for one log line; nothing for a line that is not an EMF record."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, TypeError):
        return []
    meta = record.get("_aws") if isinstance(record, dict) else None
    if not isinstance(meta, dict):
        return []
    at = datetime.fromtimestamp(int(meta.get("Timestamp", 0)) / 1000, UTC)
    out = []
    for directive in meta.get("CloudWatchMetrics", []):
        data = []
        for dimension_set in directive.get("Dimensions", [[]]):
            dimensions = [{"Name": d, "Value": str(record[d])} for d in dimension_set if d in record]
            for metric in directive.get("Metrics", []):
                values = record.get(metric["Name"])
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, (int, float)):
                        data.append({"MetricName": metric["Name"], "Dimensions": dimensions, "Timestamp": at,
                                     "Value": float(value), "Unit": metric.get("Unit", "None")})
        if data:
            out.append((directive["Namespace"], data))
    return out


def publish(cloudwatch: Any, lines: list[str]) -> int:
    """Put every EMF metric found in `lines`; returns how many datapoints were published."""
    count = 0
    for line in lines:
        for namespace, data in metric_data(line):
            for start in range(0, len(data), 20):
                cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + 20])
            count += len(data)
    return count
