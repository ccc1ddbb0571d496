"""The history a week of operation leaves behind (for `remedy report weekly`, the game day and the tests), and
the lake's housekeeping as Terraform would have left it: the lake's lifecycle rules and the Terraform state
bucket (a healthy backup posture), a week of alarm history and audit records (`seed_week`), state changes
written into an alarm's history at given times (`seed_alarm_history`, sandbox.gaps.cloudwatch, whose
DescribeAlarmHistory reads them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.core.catalog import Catalog
from functions.core.naming import alarm_name
from sandbox.gaps.cloudwatch import seed_alarm_history

__all__ = ["LAKE_LIFECYCLE", "WEEK_EPISODES", "Episode", "seed_alarm_history", "seed_lake_housekeeping", "seed_week"]


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


# --- seeds -------------------------------------------------------------------------------------------------

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
