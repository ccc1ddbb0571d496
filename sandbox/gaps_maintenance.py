"""What the maintenance jobs need from the emulated account that moto does not have, and the history a week
of operation leaves behind (for `remedy report weekly`, the game day and the tests).

Gap fill (`install()`, called from sandbox.aws.install_gap_fills): CloudWatch DescribeAlarmHistory, with
AWS's request filters and response shape, backed by moto's per-alarm `history` list (each entry is a state
the alarm left: ("StateUpdate", reason, reason data, state, since)). Every state change the sandbox makes
(set_alarm_state) lands there, so the history of alarms the game day trips is real.

EventBridge Scheduler (`schedule_due`, `scheduler_input`): whether a schedule's cron expression is due at a
time in its timezone, and the Input it delivers with its context attributes filled in.

Seeds: the lake's lifecycle rules and the Terraform state bucket as Terraform would have left them (a
healthy backup posture), a week of alarm history and audit records (`seed_week`), state changes written into
an alarm's history at given times (`seed_alarm_history`).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from moto.core.responses import ActionResult

from functions.core.catalog import Catalog
from functions.core.naming import alarm_name

_INSTALLED = False


def _aware(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def history_items(alarm: Any) -> list[dict[str, Any]]:
    """The alarm's state changes as DescribeAlarmHistory items, oldest first."""
    states = [h for h in alarm.history if h and h[0] == "StateUpdate"]
    states.append(("StateUpdate", alarm.state_reason, alarm.state_reason_data, alarm.state_value,
                   alarm.state_updated_timestamp))
    kind = "CompositeAlarm" if getattr(alarm, "rule", None) else "MetricAlarm"
    items = []
    for old, new in itertools.pairwise(states):
        _, old_reason, _old_data, old_state, _ = old
        _, new_reason, new_data, new_state, at = new
        try:
            reason_data = json.loads(new_data or "{}")
        except (TypeError, json.JSONDecodeError):
            reason_data = {}
        data = {"version": "1.0", "oldState": {"stateValue": old_state, "stateReason": old_reason},
                "newState": {"stateValue": new_state, "stateReason": new_reason, "stateReasonData": reason_data}}
        items.append({"AlarmName": alarm.name, "AlarmType": kind, "Timestamp": _aware(at),
                      "HistoryItemType": "StateUpdate",
                      "HistorySummary": f"Alarm updated from {old_state} to {new_state}",
                      "HistoryData": json.dumps(data)})
    return items


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudwatch import responses

    def describe_alarm_history(self: Any) -> ActionResult:
        name = self._get_param("AlarmName")
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]  # AWS: metric alarms unless asked
        item_type = self._get_param("HistoryItemType")
        start, end = _aware(self._get_param("StartDate")), _aware(self._get_param("EndDate"))
        limit = int(self._get_param("MaxRecords") or 100)
        offset = int(self._get_param("NextToken") or 0)
        alarms = self.cloudwatch_backend.alarms
        chosen = [alarms[name]] if name in alarms else ([] if name else list(alarms.values()))
        items = [i for alarm in chosen for i in history_items(alarm) if i["AlarmType"] in types]
        if item_type and item_type != "StateUpdate":
            items = []  # moto records state changes only
        items = [i for i in items
                 if (start is None or i["Timestamp"] >= start) and (end is None or i["Timestamp"] <= end)]
        items.sort(key=lambda i: i["Timestamp"], reverse=(self._get_param("ScanBy") or "TimestampDescending")
                   == "TimestampDescending")
        page = items[offset:offset + limit]
        result: dict[str, Any] = {"AlarmHistoryItems": page}
        if offset + limit < len(items):
            result["NextToken"] = str(offset + limit)
        return ActionResult(result)

    responses.CloudWatchResponse.describe_alarm_history = describe_alarm_history
    _INSTALLED = True


def seed_alarm_history(account: Any, name: str, changes: list[tuple[datetime, str, str]],
                       created: datetime | None = None) -> None:
    """Write state changes (at, new state, reason), oldest first, into an alarm's history, as if CloudWatch
    had made them then; the last one becomes its current state."""
    from moto.cloudwatch.models import cloudwatch_backends

    alarm = cloudwatch_backends[account.account_id][account.region].alarms[name]
    first = created or (changes[0][0] - timedelta(days=30) if changes else datetime.now(UTC))
    states = [("StateUpdate", "Unchecked: Initial alarm creation", "{}", "OK", _naive(first))]
    states += [("StateUpdate", reason, "{}", state, _naive(at)) for at, state, reason in sorted(changes)]
    alarm.history = states[:-1]
    _, alarm.state_reason, alarm.state_reason_data, alarm.state_value, alarm.state_updated_timestamp = states[-1]


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC


# --- EventBridge Scheduler -------------------------------------------------------------------------------

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


# --- seeds -----------------------------------------------------------------------------------------------

LAKE_LIFECYCLE = [  # what Terraform configures on the lake bucket (README "Maintenance"); staging has no rule
    {"ID": "landing-to-ia-then-expire", "Status": "Enabled", "Filter": {"Prefix": "landing/"},
     "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}], "Expiration": {"Days": 90},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    {"ID": "curated-tiering", "Status": "Enabled", "Filter": {"Prefix": "curated/"},
     "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}, {"Days": 365, "StorageClass": "GLACIER"}],
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
]


def seed_lake_housekeeping(catalog: Catalog, account: Any) -> None:
    """The lake's lifecycle rules, a little data per zone and storage class, the Terraform state bucket
    (versioned, two state versions): the backup promises of the catalog kept."""
    from functions.maintenance import terraform_state_bucket

    s3 = account.client("s3")
    lake = catalog.s3.name
    s3.put_bucket_lifecycle_configuration(Bucket=lake, LifecycleConfiguration={"Rules": LAKE_LIFECYCLE})
    zones = catalog.s3.zones
    # Outside any job's partitions (the playbooks' checks never see them): one object per zone and class.
    s3.put_object(Bucket=lake, Key=f"{zones['staging']}scratch/seed.parquet", Body=b"x" * 2048)
    s3.put_object(Bucket=lake, Key=f"{zones['curated']}archive/2024-12.parquet", Body=b"x" * 4096,
                  StorageClass="STANDARD_IA")
    s3.put_object(Bucket=lake, Key=f"{zones['curated']}archive/2025-01.parquet", Body=b"x" * 4096)
    if catalog.s3.versioning:  # a re-written object leaves its previous version behind
        s3.put_object(Bucket=lake, Key=f"{zones['curated']}archive/2025-01.parquet", Body=b"y" * 4096)
    state = terraform_state_bucket(catalog)
    if state not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=state, CreateBucketConfiguration={"LocationConstraint": catalog.region})
        s3.put_bucket_versioning(Bucket=state, VersioningConfiguration={"Status": "Enabled"})
        for serial in (1, 2):
            s3.put_object(Bucket=state, Key=f"{catalog.env}/terraform.tfstate",
                          Body=json.dumps({"version": 4, "serial": serial}).encode())


@dataclass(frozen=True)
class Episode:
    """One alarm episode of the seeded week: the alarm (signal, component) went to ALARM `start` after the
    week began, the playbook's outcome, back to OK `minutes` later (None: no recovery recorded)."""

    signal: str
    component: str
    playbook: str
    start: timedelta
    outcome: str
    minutes: float | None
    duplicates: int = 0
    history: bool = True  # also in the alarm's history (the alarm exists in the templates)


# Expected weekly numbers (dev catalog), stated by hand next to the data they come from:
#   orders:    consumer-lag alarm fired 3x, 12 + 40 + 25 = 77 min in ALARM (longest 40); msk_consumer_lag
#              2 verified, 1 refused; data_quality 1 awaiting approval; 1 duplicate; recovery median 25, worst 40
#   customers: consumer-lag alarm fired 1x, 4 days in ALARM (57% of the week: fires constantly);
#              msk_consumer_lag 1 failed; recovery 5760 min
#   one episode 9 days back is outside the week and counted nowhere.
WEEK_EPISODES = (
    Episode("consumer-lag", "glue:orders-stream", "msk_consumer_lag", timedelta(days=1, hours=3), "REMEDIATED", 12,
            duplicates=1),
    Episode("consumer-lag", "glue:orders-stream", "msk_consumer_lag", timedelta(days=3, hours=2), "REFUSED", 40),
    Episode("consumer-lag", "glue:orders-stream", "msk_consumer_lag", timedelta(days=5, hours=7), "REMEDIATED", 25),
    Episode("consumer-lag", "glue:customers-stream", "msk_consumer_lag", timedelta(days=2, hours=1), "ESCALATED",
            4 * 24 * 60),
    Episode("landing-freshness", "s3:landing/orders/", "data_quality", timedelta(days=6), "AWAITING_APPROVAL", None,
            history=False),
    Episode("consumer-lag", "glue:orders-stream", "msk_consumer_lag", timedelta(days=-2), "REMEDIATED", 5),
)


def seed_week(catalog: Catalog, account: Any, end: datetime, episodes: tuple[Episode, ...] = WEEK_EPISODES) -> None:
    """A week of operation ending at `end`: alarm state changes and the audit records the playbooks wrote."""
    start = end - timedelta(days=7)
    changes: dict[str, list[tuple[datetime, str, str]]] = {}
    pages = account.client("cloudwatch").get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=f"{catalog.prefix}/")
    existing = {a["AlarmName"] for page in pages for a in page.get("MetricAlarms", [])}
    items: list[dict[str, Any]] = []
    for episode in episodes:
        name = alarm_name(catalog.prefix, episode.signal, episode.component)
        fired = start + episode.start
        items += _audit_items(catalog, name, episode, fired)
        if episode.history and name in existing:
            changes.setdefault(name, []).append((fired, "ALARM", "Threshold Crossed (seeded week)"))
            if episode.minutes is not None:
                changes[name].append((fired + timedelta(minutes=episode.minutes), "OK",
                                      "Threshold Crossed (seeded week): back under the threshold"))
    for name, history in changes.items():
        seed_alarm_history(account, name, history, created=start - timedelta(days=30))
    ddb = account.client("dynamodb")
    for item in items:
        ddb.put_item(TableName=f"{catalog.prefix}-audit", Item=item)


def _audit_items(catalog: Catalog, name: str, episode: Episode, fired: datetime) -> list[dict[str, Any]]:
    """The records functions.core.playbook.run writes for the episode's ALARM and, later, its OK."""
    from functions.core.models import Incident

    def incident(state: str, at: datetime, previous: datetime | None) -> Incident:
        return Incident(id=f"{name}@{_stamp(at)}", alarm_name=name, state=state,
                        previous_state="OK" if state == "ALARM" else "ALARM", reason="seeded week", changed_at=at,
                        previous_changed_at=previous, account=catalog.account_id, region=catalog.region,
                        playbook=episode.playbook, resource=episode.component)

    def record(inc: Incident, seq: int, kind: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        iso = at.astimezone(UTC).isoformat()
        return {"incident_id": {"S": inc.id}, "seq": {"S": f"{iso}#{seq:04d}"}, "kind": {"S": kind},
                "at": {"S": iso}, "payload": {"S": json.dumps(payload, default=str, sort_keys=True)}}

    alarm = incident("ALARM", fired, None)
    acted = fired + timedelta(seconds=20)
    records = [record(alarm, 1, "incident", fired, alarm.model_dump(mode="json")),
               record(alarm, 2, "outcome", acted, {"status": episode.outcome, "summary": "seeded week",
                                                  "verification": {"status": "NOT_APPLICABLE", "detail": ""}})]
    records += [record(alarm, 3 + i, "duplicate", acted + timedelta(seconds=30 + i),
                       {"reason": "this state change was handled before"}) for i in range(episode.duplicates)]
    if episode.minutes is not None:
        back = fired + timedelta(minutes=episode.minutes)
        ok = incident("OK", back, fired)
        records += [record(ok, 1, "incident", back, ok.model_dump(mode="json")),
                    record(ok, 2, "outcome", back, {"status": "RECOVERED", "summary": "seeded week",
                                                    "verification": {"status": "NOT_APPLICABLE", "detail": ""}})]
    return records
