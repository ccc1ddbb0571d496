"""Maintenance jobs' domain with in-memory ports: weekly review numbers, posture promises, lifecycle flags,
Redshift recommendations, and the jobs' idempotent keep-and-tell. No network."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.catalog import Catalog, parse_catalog
from functions.maintenance import (
    JOBS,
    lifecycle,
    posture,
    redshift_analysis,
    reports_bucket,
    terraform_state_bucket,
    weekly,
)
from functions.maintenance import jobs as maintenance_jobs
from functions.maintenance.ports import (
    AlarmInfo,
    AlarmTransition,
    AuditRecord,
    QueryRow,
    QueueConfig,
    QueueRow,
    StorageClassTally,
    TableRow,
    VersionTally,
)
from tests.unit.fakes import FakeNotifier, FixedClock

END = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday 07:00: the weekly schedule's time
START = END - timedelta(days=7)
LAG_ORDERS = "remedy-dev/consumer-lag/glue:orders-stream"
LAG_CUSTOMERS = "remedy-dev/consumer-lag/glue:customers-stream"


# --- fakes ---------------------------------------------------------------------------------------------

@dataclass
class FakeStore:
    objects: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def put(self, key: str, body: str, content_type: str, only_if_absent: bool = False) -> bool:
        if only_if_absent and key in self.objects:
            return False
        self.objects[key] = body
        return True

    def delete(self, key: str) -> None:
        self.deleted.append(key)
        self.objects.pop(key, None)

    def keys(self, prefix: str, start_after: str | None = None) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix) and (start_after is None or k > start_after))

    def get_json(self, key: str) -> dict[str, Any] | None:
        return json.loads(self.objects[key]) if key in self.objects else None


@dataclass
class FakeAlarmHistory:
    infos: list[AlarmInfo] = field(default_factory=list)
    changes: list[AlarmTransition] = field(default_factory=list)

    def alarms(self, prefix: str) -> list[AlarmInfo]:
        return [a for a in self.infos if a.name.startswith(prefix)]

    def transitions(self, alarm_name: str, start: datetime, end: datetime) -> list[AlarmTransition]:
        return [t for t in self.changes if t.alarm_name == alarm_name and start <= t.at <= end]


@dataclass
class FakeAuditReader:
    items: list[AuditRecord] = field(default_factory=list)

    def records(self, start: datetime, end: datetime) -> list[AuditRecord]:
        return [r for r in self.items if start <= r.at < end]


@dataclass
class FakeStorage:
    versioning_status: dict[str, str] = field(default_factory=dict)
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tallies: dict[str, VersionTally] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)

    def versioning(self, bucket: str) -> str:
        if bucket in self.errors:
            raise self.errors[bucket]
        return self.versioning_status.get(bucket, "Disabled")

    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        return list(self.rules.get(bucket, []))

    def versions(self, bucket: str, prefix: str, cap: int) -> VersionTally:
        return self.tallies.get(prefix, VersionTally())


@dataclass
class FakeBackups:
    retention: int = 7
    newest: datetime | None = None

    def snapshot_retention_days(self, cluster_id: str) -> int:
        return self.retention

    def newest_automated_snapshot(self, cluster_id: str) -> datetime | None:
        return self.newest


@dataclass
class FakeHistory:
    queries: list[QueryRow] = field(default_factory=list)
    waits: list[QueueRow] = field(default_factory=list)
    config: list[QueueConfig] = field(default_factory=list)
    tables: list[TableRow] = field(default_factory=list)
    used: tuple[int, int] = (0, 0)
    asked_tables: list[tuple[str, str]] = field(default_factory=list)
    closed: bool = False

    def query_stats(self, start: datetime, end: datetime, order: str, limit: int) -> list[QueryRow]:
        key = (lambda q: q.max_seconds) if order == "max" else (lambda q: q.runs)
        return sorted(self.queries, key=key, reverse=True)[:limit]

    def queue_waits(self, start: datetime, end: datetime) -> list[QueueRow]:
        return self.waits

    def queue_config(self) -> list[QueueConfig]:
        return self.config

    def table_health(self, tables: list[tuple[str, str]]) -> list[TableRow]:
        self.asked_tables = list(tables)
        return self.tables

    def disk(self) -> tuple[int, int]:
        return self.used

    def close(self) -> None:
        self.closed = True


def record(incident_id: str, kind: str, at: datetime, payload: dict[str, Any], seq: int = 1) -> AuditRecord:
    return AuditRecord(incident_id=incident_id, seq=f"{at.isoformat()}#{seq:04d}", kind=kind, at=at, payload=payload)


def episode(alarm: str, playbook: str, resource: str, fired: datetime, outcome: str,
            minutes: float | None) -> list[AuditRecord]:
    """What functions.core.playbook.run records for an ALARM and, `minutes` later, its OK."""
    alarm_id = f"{alarm}@{fired.isoformat()}"
    records = [record(alarm_id, "incident", fired, {"alarm_name": alarm, "state": "ALARM", "playbook": playbook,
                                                    "resource": resource, "changed_at": fired.isoformat()}),
               record(alarm_id, "outcome", fired, {"status": outcome}, 2)]
    if minutes is not None:
        back = fired + timedelta(minutes=minutes)
        ok_id = f"{alarm}@{back.isoformat()}"
        records += [record(ok_id, "incident", back, {"alarm_name": alarm, "state": "OK", "playbook": playbook,
                                                     "resource": resource, "changed_at": back.isoformat(),
                                                     "previous_changed_at": fired.isoformat()}),
                    record(ok_id, "outcome", back, {"status": "RECOVERED"}, 2)]
    return records


def flaps(alarm: str, *spans: tuple[datetime, float]) -> list[AlarmTransition]:
    changes = []
    for at, minutes in spans:
        changes += [AlarmTransition(alarm, at, "OK", "ALARM"),
                    AlarmTransition(alarm, at + timedelta(minutes=minutes), "ALARM", "OK")]
    return changes


# --- weekly review ---------------------------------------------------------------------------------------

def test_pipelines_follow_the_lineage_from_each_topic(catalog: Catalog) -> None:
    groups = weekly.pipelines(catalog)
    assert groups["orders"] == {"topic:orders", "glue:orders-stream", "s3:landing/orders/", "glue:sales-batch",
                                "table:analytics.fact_sales"}
    assert "glue:customer-scd-batch" in groups["customers"]
    assert {"msk:retail-msk-dev", "redshift:retail-redshift-dev"} <= groups[weekly.PLATFORM]


def test_alarm_episodes_count_time_in_alarm_across_the_window_edges() -> None:
    info = AlarmInfo(LAG_ORDERS, "ALARM", END - timedelta(hours=1))
    changes = [AlarmTransition(LAG_ORDERS, START + timedelta(hours=2), "ALARM", "OK"),  # in ALARM when it began
               AlarmTransition(LAG_ORDERS, END - timedelta(hours=1), "OK", "ALARM")]  # and again at its end
    found = weekly.alarm_episodes(info, changes, START, END)
    assert (found.fired, found.minutes, found.longest, found.in_alarm_at_end) == (1, 180.0, 120.0, True)
    quiet = weekly.alarm_episodes(AlarmInfo(LAG_ORDERS, "ALARM", START - timedelta(days=2)), [], START, END)
    assert (quiet.fired, quiet.minutes) == (0, 7 * 24 * 60)  # in ALARM the whole week without a change


def week_of_history() -> tuple[FakeAuditReader, FakeAlarmHistory]:
    audit = FakeAuditReader()
    for fired, outcome, minutes in ((START + timedelta(days=1), "REMEDIATED", 12),
                                    (START + timedelta(days=3), "REFUSED", 40),
                                    (START + timedelta(days=5), "REMEDIATED", 25)):
        audit.items += episode(LAG_ORDERS, "msk_consumer_lag", "glue:orders-stream", fired, outcome, minutes)
    audit.items += episode(LAG_CUSTOMERS, "msk_consumer_lag", "glue:customers-stream", START + timedelta(days=2),
                           "ESCALATED", 4 * 24 * 60)
    audit.items += episode("remedy-dev/landing-freshness/s3:landing/orders/", "data_quality", "s3:landing/orders/",
                           START + timedelta(days=6), "AWAITING_APPROVAL", None)
    first = audit.items[0].incident_id
    audit.items.append(record(first, "duplicate", START + timedelta(days=1, minutes=1), {"reason": "again"}, 3))
    audit.items += episode(LAG_ORDERS, "msk_consumer_lag", "glue:orders-stream", START - timedelta(days=2),
                           "REMEDIATED", 5)  # last week: not this one
    alarms = FakeAlarmHistory(
        infos=[AlarmInfo(LAG_ORDERS, "OK", END - timedelta(days=2)), AlarmInfo(LAG_CUSTOMERS, "OK", None),
               AlarmInfo("remedy-dev/redshift-cpu/redshift:retail-redshift-dev", "OK", None),
               AlarmInfo("remedy-dev/composite-upstream/glue:sales-batch", "OK", None, composite=True),
               AlarmInfo("remedy-dev/posture/s3-versioning:retail-terraform-state-dev", "ALARM",
                         END - timedelta(hours=3)),
               AlarmInfo("other-team/cpu", "OK", None)],
        changes=[*flaps(LAG_ORDERS, (START + timedelta(days=1), 12), (START + timedelta(days=3), 40),
                        (START + timedelta(days=5), 25)),
                 *flaps(LAG_CUSTOMERS, (START + timedelta(days=2), 4 * 24 * 60)),
                 AlarmTransition("remedy-dev/posture/s3-versioning:retail-terraform-state-dev",
                                 END - timedelta(hours=3), "OK", "ALARM")])
    return audit, alarms


def test_weekly_review_numbers_per_pipeline(catalog: Catalog) -> None:
    audit, alarms = week_of_history()
    history = {a.name: alarms.transitions(a.name, START, END) for a in alarms.infos}
    review = weekly.review(catalog, START, END, audit.records(START, END), alarms.alarms("remedy-dev/"), history,
                           "2026-11-23")
    orders = next(p for p in review.pipelines if p.name == "orders")
    [lag] = orders.alarms
    assert (lag.fired, lag.minutes_in_alarm, lag.longest_minutes) == (3, 77.0, 40.0)
    by_playbook = {t.playbook: t for t in orders.remediations}
    assert (by_playbook["msk_consumer_lag"].verified, by_playbook["msk_consumer_lag"].refused) == (2, 1)
    assert by_playbook["data_quality"].awaiting_approval == 1
    assert orders.duplicates == 1
    assert (orders.recovery.count, orders.recovery.median_minutes, orders.recovery.worst_minutes) == (3, 25.0, 40.0)
    customers = next(p for p in review.pipelines if p.name == "customers")
    assert customers.alarms[0].percent_of_week == pytest.approx(57.1)
    assert customers.remediations[0].failed == 1
    kinds = {c.alarm_name: c.kind for c in review.threshold_candidates}
    assert kinds == {LAG_CUSTOMERS: "fires_constantly",
                     "remedy-dev/redshift-cpu/redshift:retail-redshift-dev": "never_fired"}  # composites excluded
    assert [(p.promise, p.state, p.fired) for p in review.posture] == [("s3-versioning", "ALARM", 1)]
    assert review.posture_summary.startswith("1 of 1 backup promises broken now: s3-versioning")


def test_an_alarm_firing_often_is_a_threshold_candidate(raw_catalog: dict[str, Any]) -> None:
    raw_catalog["maintenance"] = {"noisy_alarm_transitions": 3}
    cat = parse_catalog(raw_catalog)
    changes = flaps(LAG_ORDERS, *[(START + timedelta(hours=5 * i), 2) for i in range(1, 4)])
    review = weekly.review(cat, START, END, [], [AlarmInfo(LAG_ORDERS, "OK", None)], {LAG_ORDERS: changes}, None)
    [candidate] = review.threshold_candidates
    assert candidate.kind == "fires_constantly" and "fired 3 times" in candidate.reason
    assert review.posture_summary.startswith("no posture check reported this week")


def test_weekly_text_names_every_pipeline_and_the_posture(catalog: Catalog) -> None:
    audit, alarms = week_of_history()
    history = {a.name: alarms.transitions(a.name, START, END) for a in alarms.infos}
    review = weekly.review(catalog, START, END, audit.records(START, END), alarms.alarms("remedy-dev/"), history,
                           "2026-11-23")
    subject, text = weekly.render(catalog, review, "2026-11-23")
    assert subject == "[remedy-dev] weekly review: week ending 2026-11-23"
    assert "PIPELINE orders" in text and "msk_consumer_lag: 2 verified, 0 failed, 1 refused" in text
    assert "median 25 min, worst 40 min (3 recoveries)" in text
    assert "redshift-cpu: redshift:retail-redshift-dev" in text and "BACKUP AND RECOVERY POSTURE" in text


# --- posture -------------------------------------------------------------------------------------------

def healthy_storage(cat: Catalog) -> FakeStorage:
    return FakeStorage(versioning_status={terraform_state_bucket(cat): "Enabled", cat.s3.name: "Enabled"},
                       rules={cat.s3.name: [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "landing/"}}]})


def test_posture_promises_follow_the_catalog(catalog: Catalog, raw_catalog: dict[str, Any]) -> None:
    assert [(p.promise, p.resource) for p in posture.promises(catalog)] == [
        ("redshift-snapshots", "retail-redshift-dev"), ("s3-lifecycle", "retail-datalake-dev"),
        ("s3-versioning", "retail-terraform-state-dev")]  # dev: the lake is not promised versioned
    raw_catalog["s3"]["versioning"] = True
    versioned = parse_catalog(raw_catalog)
    assert ("s3-versioning", "retail-datalake-dev") in [(p.promise, p.resource) for p in posture.promises(versioned)]


def test_healthy_posture_keeps_every_promise_and_publishes_zeros(catalog: Catalog) -> None:
    report = posture.check(catalog, healthy_storage(catalog), FakeBackups(newest=END - timedelta(hours=5)), END)
    assert all(p.kept for p in report.promises)
    records = posture.emf_records(report)
    assert {r[posture.METRIC] for r in records} == {0}
    for r in records:  # exactly the alarm's dimensions: no `service`
        assert r["_aws"]["CloudWatchMetrics"] == [{"Namespace": "Remedy/Posture", "Dimensions": [["Promise",
                                                   "Resource"]], "Metrics": [{"Name": "BrokenPromise",
                                                                              "Unit": "Count"}]}]
        assert set(r) == {"_aws", "Promise", "Resource", "BrokenPromise"}


@pytest.mark.parametrize(("backups", "detail"), [
    (FakeBackups(retention=1, newest=END - timedelta(hours=2)), "kept 1 days (promised >= 7)"),
    (FakeBackups(retention=0, newest=None), "automated snapshots are disabled"),
    (FakeBackups(retention=7, newest=END - timedelta(hours=30)), "30.0 h old"),
])
def test_snapshot_promise_broken(catalog: Catalog, backups: FakeBackups, detail: str) -> None:
    report = posture.check(catalog, healthy_storage(catalog), backups, END)
    [broken] = report.broken
    assert broken.promise == "redshift-snapshots"
    assert any(detail in c.detail for c in broken.checks if not c.ok)
    assert {r["Promise"]: r[posture.METRIC] for r in posture.emf_records(report)}["redshift-snapshots"] == 1


def test_a_check_that_cannot_be_made_breaks_its_promise(catalog: Catalog) -> None:
    from botocore.exceptions import ClientError

    storage = healthy_storage(catalog)
    storage.errors[terraform_state_bucket(catalog)] = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetBucketVersioning")
    storage.rules[catalog.s3.name] = []
    report = posture.check(catalog, storage, FakeBackups(newest=END), END)
    details = {p.promise: p.checks[0].detail for p in report.broken}
    assert details == {"s3-lifecycle": "no lifecycle configuration",
                       "s3-versioning": "could not check: AccessDenied: An error occurred (AccessDenied) when "
                                        "calling the GetBucketVersioning operation: Access Denied"}


# --- lifecycle -----------------------------------------------------------------------------------------

def test_lifecycle_review_flags_zones_without_rules_and_noncurrent_kept_forever(catalog: Catalog) -> None:
    storage = FakeStorage(versioning_status={catalog.s3.name: "Enabled"}, rules={catalog.s3.name: [
        {"ID": "landing", "Status": "Enabled", "Filter": {"Prefix": "landing/"},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}], "Expiration": {"Days": 90},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}, "AbortIncompleteMultipartUpload":
             {"DaysAfterInitiation": 7}},
        {"ID": "curated", "Status": "Enabled", "Filter": {"And": {"Prefix": "curated/sales/"}},
         "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}]},
        {"ID": "old", "Status": "Disabled", "Prefix": "curated/"},
    ]}, tallies={"curated/": VersionTally(current={"STANDARD": StorageClassTally(3, 300),
                                                   "GLACIER": StorageClassTally(1, 100)},
                                          noncurrent=StorageClassTally(4, 400), delete_markers=1)})
    review = lifecycle.review(catalog, storage)
    zones = {z.zone: z for z in review.zones}
    assert zones["landing"].flags == []
    assert zones["staging"].flags[0].startswith("no lifecycle rule")
    curated = zones["curated"]
    assert [r.id for r in curated.rules] == ["curated", "old"]
    assert curated.rules[0].transitions == ["90 d -> GLACIER"]
    assert [(c.storage_class, c.objects) for c in curated.current] == [("GLACIER", 1), ("STANDARD", 3)]
    assert curated.noncurrent_versions == 4
    assert any(f.startswith("noncurrent versions kept forever") and "4 retained" in f for f in curated.flags)
    assert any("rule old is Disabled" in f for f in curated.flags)
    assert len(review.flags) == sum(len(z.flags) for z in review.zones)


# --- Redshift analysis ---------------------------------------------------------------------------------

def test_redshift_recommendations_from_the_system_tables(catalog: Catalog) -> None:
    history = FakeHistory(
        queries=[QueryRow("SELECT big report", 3, 2400.0, 3100.0, 7200.0, END - timedelta(days=6)),
                 QueryRow("SELECT dashboard", 600, 1.5, 2.0, 900.0, END - timedelta(days=5))],
        waits=[QueueRow(6, 48, 86.0, 180.0, 200.0, 4100.0), QueueRow(7, 600, 0.1, 0.2, 1.0, 60.0)],
        config=[QueueConfig(6, "etl", 2), QueueConfig(7, "dashboards", 5)],
        tables=[TableRow("analytics", "fact_sales", 2.0, 35.0, 120, 2000),
                TableRow("analytics", "dim_customer", 50.0, 0.0, 10, 200)],
        used=(640, 1000))
    previous = {"disk": {"history": [{"period": "2026-09", "used_percent": 54.0},
                                     {"period": "2026-10", "used_percent": 59.0}]}}
    report = redshift_analysis.analyse(catalog, history, START, END, "2026-11", previous)
    assert history.asked_tables == [("analytics", "fact_sales"), ("analytics", "dim_customer")]
    commands = {(r.kind, r.command) for r in report.recommendations}
    assert ("ANALYZE", 'ANALYZE "analytics"."dim_customer";') in commands
    assert ("VACUUM", 'VACUUM SORT ONLY "analytics"."fact_sales";') in commands
    wlm = next(r for r in report.recommendations if r.kind == "WLM")
    assert "etl" in wlm.target and "2 -> 4" in wlm.command
    assert any(r.kind == "QUERY" and r.target.startswith("SELECT big report") for r in report.recommendations)
    assert report.disk is not None and [p.used_percent for p in report.disk.history] == [54.0, 59.0, 64.0]
    assert (report.disk.growth_points_per_month, report.disk.months_to_threshold) == (5.0, 2.2)
    assert any(r.kind == "DISK" for r in report.recommendations)
    assert report.history_from == END - timedelta(days=6)


def test_a_quiet_cluster_gets_no_recommendation(catalog: Catalog) -> None:
    history = FakeHistory(tables=[TableRow("analytics", "fact_sales", 1.0, 2.0, 10, 10)], used=(100, 1000))
    report = redshift_analysis.analyse(catalog, history, START, END, "2026-11", None)
    assert report.recommendations == []
    assert report.disk is not None and report.disk.growth_points_per_month is None


# --- the jobs: keep once, tell once --------------------------------------------------------------------

def weekly_ports(catalog: Catalog) -> maintenance_jobs.Ports:
    audit, alarms = week_of_history()
    return maintenance_jobs.Ports(catalog=catalog, clock=FixedClock(END), store=FakeStore(),
                                  notifier=FakeNotifier(), audit=audit, alarms=alarms)


def test_weekly_job_keeps_and_tells_once_per_period(catalog: Catalog) -> None:
    ports = weekly_ports(catalog)
    event = {"job": "weekly_review", "scheduled_time": "2026-11-23T07:00:00Z"}
    first = maintenance_jobs.run("weekly_review", event, ports)
    assert first["status"] == "REPORTED" and first["key"] == "weekly/2026-11-23.json"
    assert set(ports.store.objects) == {"weekly/2026-11-23.json", "weekly/2026-11-23.txt"}  # type: ignore[attr-defined]
    stored = json.loads(ports.store.objects["weekly/2026-11-23.json"])  # type: ignore[attr-defined]
    assert stored["kind"] == "weekly" and stored["report"]["pipelines"]
    again = maintenance_jobs.run("weekly_review", event, ports)
    assert again["status"] == "ALREADY_REPORTED"
    assert len(ports.notifier.published) == 1  # type: ignore[union-attr]
    forced = maintenance_jobs.run("weekly_review", {**event, "force": True}, ports)
    assert forced["status"] == "REPORTED" and len(ports.notifier.published) == 2  # type: ignore[union-attr]


def test_a_failed_notification_takes_the_report_back_so_the_retry_sends_it(catalog: Catalog) -> None:
    class Down:
        def publish(self, subject: str, message: str) -> None:
            raise RuntimeError("SNS is down")

    ports = weekly_ports(catalog)
    ports.notifier = Down()
    with pytest.raises(RuntimeError):
        maintenance_jobs.run("weekly_review", {"scheduled_time": "2026-11-23T07:00:00Z"}, ports)
    assert "weekly/2026-11-23.json" not in ports.store.objects  # type: ignore[attr-defined]
    ports.notifier = FakeNotifier()
    assert maintenance_jobs.run("weekly_review", {"scheduled_time": "2026-11-23T07:00:00Z"}, ports)["status"] == \
        "REPORTED"


@pytest.mark.parametrize(("event", "reason"), [
    ({"job": "posture"}, "event for job 'posture' delivered to 'weekly_review'"),
    ({"scheduled_time": "yesterday"}, "scheduled_time:"),
    (["not", "an", "object"], "a maintenance event is a JSON object"),
])
def test_bad_events_are_rejected_and_nothing_is_done(catalog: Catalog, event: Any, reason: str) -> None:
    ports = weekly_ports(catalog)
    result = maintenance_jobs.run("weekly_review", event, ports)
    assert result["status"] == "REJECTED" and result["reason"].startswith(reason)
    assert ports.store.objects == {}  # type: ignore[attr-defined]


def test_periods_name_the_reports(catalog: Catalog) -> None:
    store = FakeStore()
    ports = maintenance_jobs.Ports(catalog=catalog, clock=FixedClock(END), store=store, notifier=FakeNotifier(),
                                   storage=healthy_storage(catalog), backups=FakeBackups(newest=END),
                                   redshift=lambda: FakeHistory(used=(1, 10)))
    emitted: list[dict[str, Any]] = []
    ports.emit = emitted.extend
    assert maintenance_jobs.run("posture", {"scheduled_time": "2026-11-25T05:00:00Z"}, ports)["key"] == \
        "posture/2026-11-25.json"
    assert len(emitted) == len(posture.promises(catalog))
    assert maintenance_jobs.run("lifecycle_review", {"scheduled_time": "2026-10-01T06:00:00Z"}, ports)["key"] == \
        "lifecycle/2026-Q4.json"
    assert maintenance_jobs.run("redshift_analysis", {"scheduled_time": "2026-11-01T06:00:00Z"}, ports)["key"] == \
        "redshift/2026-10.json"
    # A re-run of the posture overwrites today's check; it tells nobody (its alarms page).
    assert maintenance_jobs.run("posture", {"scheduled_time": "2026-11-25T06:00:00Z"}, ports)["status"] == "REPORTED"
    subjects = [s for s, _ in ports.notifier.published]  # type: ignore[union-attr]
    assert [s.split(":")[0] for s in subjects] == ["[remedy-dev] lifecycle review 2026-Q4",
                                                   "[remedy-dev] Redshift analysis 2026-10"]


def test_catalog_maintenance_defaults_and_schedule_rules(catalog: Catalog, raw_catalog: dict[str, Any]) -> None:
    from functions.core.catalog import CatalogError

    assert reports_bucket(catalog) == "remedy-dev-reports-111111111111"
    assert terraform_state_bucket(catalog) == "retail-terraform-state-dev"
    del raw_catalog["maintenance"], raw_catalog["schedules"]
    defaults = parse_catalog(raw_catalog)
    assert reports_bucket(defaults) == "remedy-dev-reports-111111111111"
    assert defaults.schedules.weekly_review == "cron(0 7 ? * MON *)"
    raw_catalog["schedules"] = {"weekly_review": "cron(0 7 * * MON *)"}
    with pytest.raises(CatalogError, match=r"schedules.weekly_review: cron: exactly one of day-of-month"):
        parse_catalog(raw_catalog)
    raw_catalog["schedules"] = {"posture": "every day; rm -rf /"}
    with pytest.raises(CatalogError, match=r"schedules.posture: String should match pattern"):
        parse_catalog(raw_catalog)
    assert set(JOBS) == {"weekly_review", "redshift_analysis", "lifecycle_review", "posture", "doctor", "doctor_vpc"}
