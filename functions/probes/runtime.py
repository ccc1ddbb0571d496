"""Wiring for the probe handlers: settings, catalog, clients and publisher, built once per environment.

A handler calls `run_freshness(event)`, `run_glue_outcome(event)` or `run_consumer_lag(event)`, nothing
else. Nothing here raises
for an event it will not count (a retry could not change that): it is logged and answered REJECTED.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from functions.core.catalog import Catalog, load_catalog
from functions.core.observability import logger  # the playbooks' own: one service in the logs
from functions.probes.settings import probe_settings


@lru_cache(maxsize=4)
def _catalog(path: str) -> Catalog:
    return load_catalog(path)


def catalog() -> Catalog:
    return _catalog(probe_settings().catalog_path)


@lru_cache(maxsize=4)
def _clients(endpoint: str | None, region: str | None) -> Any:
    from functions.core.adapters.clients import Clients

    del endpoint, region  # the cache key: boto3 reads both from the environment
    return Clients()


def clients() -> Any:
    return _clients(os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))


def run_freshness(event: Any, now: datetime | None = None) -> dict[str, Any]:
    """Measure every landing prefix of the catalog and publish LandingAgeMinutes for each; then the failed
    staging quality flags of the batch partitions read from each (QualityCheckFailures). The age is published
    before the flags are read: flags S3 will not serve fail the run without taking the freshness datapoint."""
    from functions.probes.adapters import EmfPublisher, S3Listing, S3QualityFlags
    from functions.probes.freshness import freshness_measurements, measure_landing
    from functions.probes.quality import measure_quality, quality_measurements

    # Measured as of the time EventBridge scheduled this run for (the event's `time`), as the lag probe stamps its
    # datapoint: one datapoint per five-minute period even when a run starts late.
    now = now or _scheduled_time(event) or datetime.now(UTC)
    cat = catalog()
    results = measure_landing(cat, S3Listing(clients()), now)
    EmfPublisher().publish(freshness_measurements(results, now))
    summaries = [r.summary() for r in results]
    for summary in summaries:
        logger.info("landing freshness", extra=summary)
    quality = measure_quality(cat, S3QualityFlags(clients()), now)
    EmfPublisher().publish(quality_measurements(quality, now))
    checks = [q.summary() for q in quality]
    for check in checks:
        if check["failures"]:
            logger.warning("quality checks failed", extra=check)
        else:
            logger.info("quality checks", extra=check)
    trigger = event.get("id") if isinstance(event, dict) else None
    return {"status": "MEASURED", "trigger": trigger, "at": now.isoformat(), "prefixes": summaries,
            "quality": checks}


def _scheduled_time(event: Any) -> datetime | None:
    """The minute EventBridge scheduled this run for (the event's `time`)."""
    if isinstance(event, dict) and isinstance(event.get("time"), str):
        try:
            return datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return None
    return None


def offsets_adapter(cat: Catalog) -> Any:
    """The brokers' adapter named by LAG_OFFSETS_ADAPTER ("module:factory"), built for this run."""
    import importlib

    module, _, factory = probe_settings().lag_offsets_adapter.partition(":")
    return getattr(importlib.import_module(module), factory)(cat, clients())


def run_consumer_lag(event: Any) -> dict[str, Any]:
    """Every minute: each checkpoint-sourced streaming job's lag in messages (ConsumerLagMessages) and, for every
    probed job, whether it could be measured (ConsumerLagUnmeasured). A job that cannot be measured is reported
    with its reason, never skipped; the run itself fails only if nothing could be published."""
    from functions.probes.adapters import EmfPublisher, S3Checkpoints
    from functions.probes.consumer_lag import JobLag, LagUnmeasurable, lag_measurements, measure, probed_jobs

    # Stamped with the minute the schedule fired for: one datapoint per one-minute period even when a run
    # starts a few seconds late (the lag alarm's period is that minute).
    at = _scheduled_time(event) or datetime.now(UTC)
    cat = catalog()
    brokers: Any = None
    try:
        brokers = offsets_adapter(cat)
        results = measure(cat, S3Checkpoints(clients()), brokers)
    except LagUnmeasurable as error:  # no brokers at all: every job unmeasured, for the same reason
        results = [JobLag(job=j.name, source=j.lag_source, messages=None, reason=str(error))
                   for j in probed_jobs(cat)]
    finally:
        if brokers is not None and hasattr(brokers, "close"):
            brokers.close()
    EmfPublisher().publish(lag_measurements(results, at))
    summaries = [r.summary() for r in results]
    for summary in summaries:
        if summary["measured"]:
            logger.info("consumer lag", extra=summary)
        else:
            logger.warning("consumer lag not measured", extra=summary)
    unmeasured = [s["job"] for s in summaries if not s["measured"]]
    return {"status": "UNMEASURED" if unmeasured else "MEASURED", "at": at.isoformat(), "unmeasured": unmeasured,
            "jobs": summaries}


def run_glue_outcome(event: Any) -> dict[str, Any]:
    """Count the run a Glue Job State Change event ends; publish both outcome counts for its job."""
    from functions.probes.adapters import EmfPublisher, GlueRuns, PendingStarts
    from functions.probes.glue_outcomes import (
        RejectedEvent,
        classify,
        outcome_measurements,
        parse_state_change,
    )

    cat = catalog()
    try:
        change = parse_state_change(event, cat)
    except RejectedEvent as error:
        logger.warning("rejected event", extra={"reason": str(error)})
        return {"status": "REJECTED", "reason": str(error)}
    outcome = classify(change, cat, GlueRuns(clients()).other_active_runs,
                       PendingStarts(clients(), probe_settings().breaker_table).waits_for)
    published = EmfPublisher().publish(outcome_measurements(outcome))
    summary = outcome.summary()
    logger.info("glue run outcome", extra=summary)
    return {"status": "COUNTED" if published else "NOT_COUNTED", **summary}
