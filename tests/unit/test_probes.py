"""Probe domain code (functions/probes): freshness per landing prefix, Glue run outcomes, the EMF records.
No network (sockets disabled in this tier): the ports are small in-memory fakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.catalog import Catalog
from functions.probes.adapters import EmfPublisher
from functions.probes.freshness import (
    NO_OBJECT_AGE_MINUTES,
    NewestObject,
    freshness_measurements,
    measure_landing,
)
from functions.probes.glue_outcomes import (
    RejectedEvent,
    classify,
    outcome_measurements,
    parse_state_change,
)
from functions.probes.metrics import LANDING_AGE, NAMESPACE, RUN_FAILED, RUN_SUCCEEDED, Measurement
from tests.unit.conftest import NOW


class FakeListing:
    def __init__(self, newest: dict[str, NewestObject | None]):
        self.newest = newest
        self.asked: list[tuple[str, str]] = []

    def newest_object(self, bucket: str, prefix: str) -> NewestObject | None:
        self.asked.append((bucket, prefix))
        return self.newest.get(prefix)


def newest(minutes_ago: float, key: str = "k") -> NewestObject:
    return NewestObject(key=key, last_modified=NOW - timedelta(minutes=minutes_ago), scanned=3)


# --- freshness ------------------------------------------------------------------------------------------

def test_every_landing_prefix_is_measured_by_its_newest_object(catalog: Catalog) -> None:
    orders, customers = catalog.s3.landing_prefixes
    listing = FakeListing({orders: newest(12.5, "landing/orders/x.json"), customers: newest(61)})
    results = measure_landing(catalog, listing, NOW)
    assert listing.asked == [(catalog.s3.name, p) for p in catalog.s3.landing_prefixes]
    assert [(r.prefix, r.age_minutes, r.stale) for r in results] == [(orders, 12.5, False), (customers, 61.0, True)]
    assert results[0].summary()["newest_key"] == "landing/orders/x.json"


def test_exactly_the_threshold_is_still_fresh(catalog: Catalog) -> None:
    minutes = catalog.thresholds.landing_freshness_minutes
    listing = FakeListing({p: newest(minutes) for p in catalog.s3.landing_prefixes})
    assert not any(r.stale for r in measure_landing(catalog, listing, NOW))


def test_an_empty_prefix_is_as_stale_as_it_gets(catalog: Catalog) -> None:
    results = measure_landing(catalog, FakeListing({}), NOW)
    assert {r.age_minutes for r in results} == {NO_OBJECT_AGE_MINUTES}
    assert all(r.stale and r.newest is None for r in results)
    assert catalog.thresholds.landing_freshness_minutes < NO_OBJECT_AGE_MINUTES


def test_an_object_from_the_future_is_brand_new_not_negative(catalog: Catalog) -> None:
    listing = FakeListing({p: newest(-3) for p in catalog.s3.landing_prefixes})
    assert {r.age_minutes for r in measure_landing(catalog, listing, NOW)} == {0.0}


def test_one_age_per_prefix_with_exactly_bucket_and_prefix(catalog: Catalog) -> None:
    results = measure_landing(catalog, FakeListing({p: newest(5) for p in catalog.s3.landing_prefixes}), NOW)
    measurements = freshness_measurements(results, NOW)
    assert [(m.name, m.value, m.dimensions, m.at) for m in measurements] == [
        (LANDING_AGE, 5.0, (("Bucket", catalog.s3.name), ("Prefix", p)), NOW) for p in catalog.s3.landing_prefixes]


# --- Glue outcomes ------------------------------------------------------------------------------------------

def glue_event(job: str = "sales-batch", state: str = "FAILED", **overrides: Any) -> dict[str, Any]:
    event = {"version": "0", "id": "e1", "detail-type": "Glue Job State Change", "source": "aws.glue",
             "account": "111111111111", "time": "2026-11-25T10:04:00Z", "region": "eu-west-1", "resources": [],
             "detail": {"jobName": job, "severity": "ERROR", "state": state, "jobRunId": "jr_1",
                        "message": "Command failed with exit code 1"}}
    event.update(overrides)
    return event


def no_other_runs(job: str, run_id: str) -> list[str]:
    return []


def restarted(job: str, run_id: str) -> list[str]:
    return ["jr_2"]


@pytest.mark.parametrize(("state", "counted"), [("SUCCEEDED", "succeeded"), ("FAILED", "failed"),
                                                ("TIMEOUT", "failed"), ("ERROR", "failed")])
def test_end_states_count_as_success_or_failure(catalog: Catalog, state: str, counted: str) -> None:
    outcome = classify(parse_state_change(glue_event(state=state), catalog), catalog, no_other_runs)
    assert (outcome.job, outcome.run_id, outcome.state, outcome.counted) == ("sales-batch", "jr_1", state, counted)
    assert outcome.at == datetime(2026, 11, 25, 10, 4, tzinfo=UTC)


def test_a_stopped_streaming_job_that_nothing_replaced_is_a_failure(catalog: Catalog) -> None:
    asked: list[tuple[str, str]] = []

    def runs(job: str, run_id: str) -> list[str]:
        asked.append((job, run_id))
        return []

    outcome = classify(parse_state_change(glue_event("orders-stream", "STOPPED"), catalog), catalog, runs)
    assert outcome.counted == "failed" and "pipeline is down" in outcome.reason
    assert asked == [("orders-stream", "jr_1")]


def test_a_stream_this_service_stopped_for_its_pending_restart_is_not_a_failure(catalog: Catalog) -> None:
    asked: list[tuple[str, str]] = []

    def ours(job: str, run_id: str) -> bool:
        asked.append((job, run_id))
        return True

    outcome = classify(parse_state_change(glue_event("orders-stream", "STOPPED"), catalog), catalog, lambda j, r: [],
                       ours)
    assert outcome.counted is None and "start is pending" in outcome.reason
    assert outcome_measurements(outcome) == [] and asked == [("orders-stream", "jr_1")]
    # Someone else's stop, with nothing pending for that run: still the pipeline down.
    other = classify(parse_state_change(glue_event("orders-stream", "STOPPED"), catalog), catalog, lambda j, r: [],
                     lambda j, r: False)
    assert other.counted == "failed"


def test_a_stopped_streaming_job_with_a_newer_run_is_a_restart(catalog: Catalog) -> None:
    outcome = classify(parse_state_change(glue_event("orders-stream", "STOPPED"), catalog), catalog, restarted)
    assert outcome.counted is None and "jr_2" in outcome.reason
    assert outcome_measurements(outcome) == []


def test_a_stopped_batch_run_is_a_cancellation_and_glue_is_not_asked(catalog: Catalog) -> None:
    def never(job: str, run_id: str) -> list[str]:
        raise AssertionError("a batch stop needs no lookup")

    outcome = classify(parse_state_change(glue_event("sales-batch", "STOPPED"), catalog), catalog, never)
    assert outcome.counted is None and outcome_measurements(outcome) == []


@pytest.mark.parametrize(("counted_state", "succeeded", "failed"), [("SUCCEEDED", 1.0, 0.0), ("FAILED", 0.0, 1.0)])
def test_both_counts_are_published_for_every_counted_run(catalog: Catalog, counted_state: str, succeeded: float,
                                                         failed: float) -> None:
    outcome = classify(parse_state_change(glue_event(state=counted_state), catalog), catalog, no_other_runs)
    measurements = outcome_measurements(outcome)
    assert {m.name: m.value for m in measurements} == {RUN_SUCCEEDED: succeeded, RUN_FAILED: failed}
    assert {m.dimensions for m in measurements} == {(("JobName", "sales-batch"),)}
    assert {m.at for m in measurements} == {outcome.at}


@pytest.mark.parametrize(("event", "reason"), [
    (glue_event(account="999999999999"), "not this catalog's"),
    (glue_event(region="us-east-1"), "not this catalog's"),
    (glue_event(job="someone-elses-job"), "not in the catalog"),
    (glue_event(state="RUNNING"), "does not end a run"),
    (glue_event(source="aws.s3"), "not a Glue Job State Change event"),
    ({"detail-type": "Glue Job State Change"}, "not a Glue Job State Change event"),
    ("not even an object", "not a Glue Job State Change event"),
])
def test_events_that_are_not_ours_are_rejected_with_one_line(catalog: Catalog, event: Any, reason: str) -> None:
    with pytest.raises(RejectedEvent, match=reason) as raised:
        parse_state_change(event, catalog)
    assert "\n" not in str(raised.value)


# --- EMF records: exactly the dimensions the alarms name -----------------------------------------------------

def emf_records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_emf_records_carry_no_service_dimension_even_with_powertools_service_set(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "remedy")
    results = measure_landing(catalog, FakeListing({p: newest(75) for p in catalog.s3.landing_prefixes}), NOW)
    assert EmfPublisher().publish(freshness_measurements(results, NOW)) == len(catalog.s3.landing_prefixes)
    records = emf_records(capsys)
    assert len(records) == len(catalog.s3.landing_prefixes)
    for record, prefix in zip(records, catalog.s3.landing_prefixes, strict=True):
        [directive] = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE
        assert directive["Dimensions"] == [["Bucket", "Prefix"]]
        assert directive["Metrics"] == [{"Name": LANDING_AGE, "Unit": "None"}]
        assert (record["Bucket"], record["Prefix"]) == (catalog.s3.name, prefix)
        assert "service" not in record
        assert record[LANDING_AGE] in (75.0, [75.0])
        assert record["_aws"]["Timestamp"] == int(NOW.timestamp() * 1000)


def test_one_emf_record_holds_both_run_counts_at_the_time_of_the_event(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "remedy")
    at = NOW - timedelta(hours=2)
    dims = (("JobName", "sales-batch"),)
    EmfPublisher().publish([Measurement(RUN_SUCCEEDED, 0.0, dims, at), Measurement(RUN_FAILED, 1.0, dims, at)])
    [record] = emf_records(capsys)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["JobName"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {RUN_SUCCEEDED: "Count", RUN_FAILED: "Count"}
    assert record["_aws"]["Timestamp"] == int(at.timestamp() * 1000)
    assert "service" not in record


# --- wiring ---------------------------------------------------------------------------------------------------

def test_probe_domain_code_needs_no_aws_sdk() -> None:
    from pathlib import Path

    import functions.probes as probes

    package = Path(probes.__file__).parent
    for module in ("freshness", "glue_outcomes", "metrics", "settings", "__init__"):
        source = (package / f"{module}.py").read_text(encoding="utf-8")
        assert "boto" not in source, module


def test_probe_settings_are_parsed_once_per_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.probes.settings import probe_settings

    monkeypatch.setenv("CATALOG_PATH", "/var/task/catalog.json")
    first = probe_settings()
    assert first.catalog_path == "/var/task/catalog.json" and probe_settings() is first
    monkeypatch.setenv("CATALOG_PATH", "/elsewhere/catalog.json")  # another function's environment
    assert probe_settings().catalog_path == "/elsewhere/catalog.json"
