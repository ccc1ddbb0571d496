"""Runbook: Monitoring — the probes feed the synthesized alarms; composites page one root cause once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.core.naming import alarm_name
from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from sandbox.glue_events import job_state_change_event

SECTION = "Monitoring / Key Metrics, Alarms"
ORDERS = "landing/orders/"


def _age_landing(d: Drill, prefix: str, minutes: float) -> None:
    """Every object under `prefix` becomes `minutes` old (S3 has no API to backdate: moto's backend)."""
    from moto.s3.models import s3_backends

    bucket = s3_backends[d.catalog.account_id]["aws"].get_bucket(d.catalog.s3.name)
    when = (datetime.now(UTC) - timedelta(minutes=minutes)).replace(tzinfo=None)
    for key, versions in bucket.keys.iterlists():
        if key.startswith(prefix):
            for version in versions:
                version.last_modified = when
    d.say("inject", f"nothing landed under {prefix} for {minutes} min")


def _pages(d: Drill) -> list[str]:
    return [p["subject"] for p in d.pages() if p["subject"].startswith("ALARM:")]


def _transitions(d: Drill) -> dict[str, str]:
    return {dl.event["detail"]["alarmName"]: dl.event["detail"]["state"]["value"] for dl in d.fire()}


@scenario("stale-landing-prefix", "No data landed for over an hour: the freshness probe's metric trips the "
                                  "alarm, one page from its composite", SECTION)
def stale_landing_prefix(d: Drill) -> None:
    _age_landing(d, ORDERS, d.catalog.thresholds.landing_freshness_minutes + 10)
    d.tick("probe-freshness")
    d.advance(5)
    states = _transitions(d)
    alarm = alarm_name(d.catalog.prefix, "landing-freshness", f"s3:{ORDERS}")
    page = alarm_name(d.catalog.prefix, "composite-landing-freshness", f"s3:{ORDERS}")
    d.expect("the freshness alarm tripped from the probe's LandingAgeMinutes", states.get(alarm) == "ALARM")
    d.expect("on call is paged once, by the composite", _pages(d) == [f'ALARM: "{page}" in {d.catalog.region}'])


@scenario("glue-failure-run", "A run of Glue batch failures: the success-rate alarm trips from the "
                              "outcomes probe's metrics", SECTION)
def glue_failure_run(d: Drill) -> None:
    job = "customer-scd-batch"
    probe = d.sandbox.function(f"{d.catalog.prefix}-probe-glue-outcomes")
    now = datetime.now(UTC)
    for hours, state in ((4, "SUCCEEDED"), (3, "FAILED"), (2, "FAILED"), (1, "FAILED")):
        d.sandbox.invoke(probe, job_state_change_event(d.catalog.account_id, d.catalog.region, job, f"jr_{hours}",
                                                       state, at=now - timedelta(hours=hours)))
    d.say("inject", f"{job}: hourly runs SUCCEEDED, FAILED, FAILED, FAILED (outcomes probe fed their events)")
    d.now = now + timedelta(minutes=5)
    states = _transitions(d)
    d.expect("the success-rate alarm (metric math over both counts) tripped",
             states.get(alarm_name(d.catalog.prefix, "glue-success-rate", f"glue:{job}")) == "ALARM")


@scenario("healthy-detection", "Fresh landing data and successful runs: no alarm trips (no false alarm)", SECTION)
def healthy_detection(d: Drill) -> None:
    probe = d.sandbox.function(f"{d.catalog.prefix}-probe-glue-outcomes")
    now = datetime.now(UTC)
    for job in [j for j in d.catalog.glue_jobs if not j.streaming]:
        for hours in (3, 2, 1):
            d.sandbox.invoke(probe, job_state_change_event(d.catalog.account_id, d.catalog.region, job.name,
                                                           f"jr_{hours}", "SUCCEEDED", at=now - timedelta(hours=hours)))
    d.tick("probe-freshness")
    d.say("inject", "every batch job succeeded hourly; the seed's landing data is minutes old")
    d.advance(5)
    states = _transitions(d)
    d.expect("no alarm went to ALARM", [a for a, s in states.items() if s == "ALARM"] == [])
    d.expect("nobody was paged", _pages(d) == [])


@scenario("broker-fault-upstream", "Offline partitions upstream and stale landing data downstream: the broker "
                                   "pages, the downstream page is suppressed", SECTION)
def broker_fault_upstream(d: Drill) -> None:
    _age_landing(d, ORDERS, 90)
    d.tick("probe-freshness")
    d.advance(5)
    d.sandbox.put_metric("AWS/Kafka", "OfflinePartitionsCount", {"Cluster Name": d.catalog.msk.cluster_name},
                         [3, 3, 3], end=d.now)
    d.say("inject", f"3 offline partitions on {d.catalog.msk.cluster_name} for 3 minutes")
    states = _transitions(d)
    broker = alarm_name(d.catalog.prefix, "msk-offline-partitions", f"msk:{d.catalog.msk.cluster_name}")
    page = alarm_name(d.catalog.prefix, "composite-landing-freshness", f"s3:{ORDERS}")
    d.expect("the broker alarm and the landing symptom are both in ALARM",
             states.get(broker) == "ALARM" and states.get(page) == "ALARM")
    d.expect("one root cause, one page: the broker's",
             _pages(d) == [f'ALARM: "{broker}" in {d.catalog.region}'])
    d.expect("the landing page was held back by its upstream suppressor",
             any(alarm == page for alarm, _ in d.sandbox.suppressed))
