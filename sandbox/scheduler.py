"""EventBridge Scheduler in the sandbox: whether a schedule's expression is due at a time in its timezone, and the
Input it delivers with its context attributes filled in (sandbox.core.Sandbox.run_schedules delivers it)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

_NAMES = {**{d: str(i) for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)},
          **{m: str(i) for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                               "NOV", "DEC"), 1)}}


def _field_matches(spec: str, value: int, low: int, high: int) -> bool:
    for raw in spec.upper().split(","):
        part = re.sub(r"[A-Z]{3}", lambda m: _NAMES.get(m.group(0), m.group(0)), raw)
        if part in ("*", "?"):
            return True
        base, _, step = part.partition("/")
        if base in ("*", ""):
            first, last = low, high
        elif "-" in base:
            first, last = (int(x) for x in base.split("-", 1))
        else:
            first = int(base)
            last = high if step else first
        if first <= value <= last and (value - first) % int(step or 1) == 0:
            return True
    return False


def schedule_due(expression: str, timezone: str | None, at: datetime) -> bool:
    """Whether a Scheduler expression fires in the minute of `at`: cron(...) in its timezone; rate(...) always
    (a tick of the sandbox is its time). L, W and # are not emulated (never due)."""
    if expression.startswith("rate("):
        return True
    if not expression.startswith("cron("):
        return False
    fields = expression[5:-1].split()
    if len(fields) != 6 or any(c in "".join(fields).upper() for c in ("L", "W", "#")):
        return False
    local = at.astimezone(ZoneInfo(timezone or "UTC"))
    minute, hour, dom, month, dow, year = fields
    weekday = (local.isoweekday() % 7) + 1  # AWS cron: 1 = SUN ... 7 = SAT
    return (_field_matches(minute, local.minute, 0, 59) and _field_matches(hour, local.hour, 0, 23)
            and _field_matches(dom, local.day, 1, 31) and _field_matches(month, local.month, 1, 12)
            and _field_matches(dow, weekday, 1, 7) and _field_matches(year, local.year, 1970, 2199))


def scheduler_input(template: str | None, at: datetime, schedule_arn: str) -> Any:
    """The payload Scheduler delivers to a templated target: its Input, context attributes filled in."""
    text = template or "{}"
    values = {"scheduled-time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "execution-id": str(uuid.uuid4()), "attempt-number": "1", "schedule-arn": schedule_arn}
    for key, value in values.items():
        text = text.replace(f"<aws.scheduler.{key}>", value)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
