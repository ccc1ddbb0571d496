"""Wiring for the probe handlers: settings, catalog, clients and publisher, built once per environment.

A handler calls `run_freshness(event)` or `run_glue_outcome(event)` and nothing else. Nothing here raises
for an event it will not count (a retry could not change that): it is logged and answered REJECTED.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger

from functions.core.catalog import Catalog, load_catalog
from functions.probes.settings import probe_settings

logger = Logger(service="remedy")  # the same logger as the playbooks: one service in the logs


@lru_cache(maxsize=4)
def _catalog(path: str) -> Catalog:
    return load_catalog(path)


def catalog() -> Catalog:
    return _catalog(probe_settings().catalog_path)


@lru_cache(maxsize=4)
def _clients(endpoint: str | None, region: str | None) -> Any:
    from functions.core.adapters.aws import Clients

    del endpoint, region  # the cache key: boto3 reads both from the environment
    return Clients()


def clients() -> Any:
    return _clients(os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))


def run_freshness(event: Any, now: datetime | None = None) -> dict[str, Any]:
    """Measure every landing prefix of the catalog and publish LandingAgeMinutes for each."""
    from functions.probes.adapters import EmfPublisher, S3Listing
    from functions.probes.freshness import freshness_measurements, measure_landing

    now = now or datetime.now(UTC)
    cat = catalog()
    results = measure_landing(cat, S3Listing(clients()), now)
    EmfPublisher().publish(freshness_measurements(results, now))
    summaries = [r.summary() for r in results]
    for summary in summaries:
        logger.info("landing freshness", extra=summary)
    trigger = event.get("id") if isinstance(event, dict) else None
    return {"status": "MEASURED", "trigger": trigger, "at": now.isoformat(), "prefixes": summaries}


def run_glue_outcome(event: Any) -> dict[str, Any]:
    """Count the run a Glue Job State Change event ends; publish both outcome counts for its job."""
    from functions.probes.adapters import EmfPublisher, GlueRuns
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
    outcome = classify(change, cat, GlueRuns(clients()).other_active_runs)
    published = EmfPublisher().publish(outcome_measurements(outcome))
    summary = outcome.summary()
    logger.info("glue run outcome", extra=summary)
    return {"status": "COUNTED" if published else "NOT_COUNTED", **summary}
