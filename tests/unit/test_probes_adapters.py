"""Probe adapters against botocore's Stubber: the real API models check every request and response shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.core.adapters.clients import Clients
from functions.probes.adapters import GlueRuns, S3Listing

Stubbed = Callable[[str], tuple[Clients, Stubber]]
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    stubbers: list[Stubber] = []

    def make(service: str) -> tuple[Clients, Stubber]:
        client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        stub = Stubber(client)
        stub.activate()
        stubbers.append(stub)
        return Clients(overrides={service: client}), stub

    yield make
    for stub in stubbers:
        stub.assert_no_pending_responses()
        stub.deactivate()


def objects(*items: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"Key": key, "LastModified": T0 + timedelta(minutes=minute), "Size": 10, "ETag": '"e"',
             "StorageClass": "STANDARD"} for key, minute in items]


def test_newest_object_is_found_across_every_page(stubbed: Stubbed) -> None:
    clients, stub = stubbed("s3")
    prefix = "landing/orders/"
    # Keys sort by name, not time: the newest object sits on the first page here.
    stub.add_response("list_objects_v2", {"IsTruncated": True, "NextContinuationToken": "t1", "KeyCount": 2,
                                          "Contents": objects((f"{prefix}2026/11/24/x.json", 50),
                                                              (f"{prefix}2026/11/25/a.json", 5))},
                      {"Bucket": "retail-datalake-dev", "Prefix": prefix, "MaxKeys": 2})
    stub.add_response("list_objects_v2", {"IsTruncated": False, "KeyCount": 1,
                                          "Contents": objects((f"{prefix}2026/11/25/b.json", 20))},
                      {"Bucket": "retail-datalake-dev", "Prefix": prefix, "MaxKeys": 2, "ContinuationToken": "t1"})
    newest = S3Listing(clients, page_size=2).newest_object("retail-datalake-dev", prefix)
    assert newest is not None
    assert (newest.key, newest.last_modified, newest.scanned) == (f"{prefix}2026/11/24/x.json",
                                                                  T0 + timedelta(minutes=50), 3)


def test_an_empty_prefix_has_no_newest_object(stubbed: Stubbed) -> None:
    clients, stub = stubbed("s3")
    stub.add_response("list_objects_v2", {"IsTruncated": False, "KeyCount": 0},
                      {"Bucket": "retail-datalake-dev", "Prefix": "landing/customers/", "MaxKeys": 1000})
    assert S3Listing(clients).newest_object("retail-datalake-dev", "landing/customers/") is None


def test_listing_errors_reach_the_handler(stubbed: Stubbed) -> None:
    """AccessDenied (a prefix outside the role's s3:prefix condition) fails the run: nothing is published
    for a prefix the probe could not see, and the freshness alarm ignores the missing datapoint."""
    from botocore.exceptions import ClientError

    clients, stub = stubbed("s3")
    stub.add_client_error("list_objects_v2", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(ClientError, match="AccessDenied"):
        S3Listing(clients).newest_object("retail-datalake-dev", "staging/")


def test_other_active_runs_excludes_the_stopped_run_and_finished_ones(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    runs = [{"Id": "jr_new", "JobName": "orders-stream", "JobRunState": "RUNNING", "StartedOn": T0},
            {"Id": "jr_old", "JobName": "orders-stream", "JobRunState": "STOPPED", "StartedOn": T0},
            {"Id": "jr_older", "JobName": "orders-stream", "JobRunState": "FAILED", "StartedOn": T0}]
    stub.add_response("get_job_runs", {"JobRuns": runs}, {"JobName": "orders-stream", "MaxResults": 10})
    assert GlueRuns(clients).other_active_runs("orders-stream", "jr_old") == ["jr_new"]


def test_no_other_active_run_means_nothing_replaced_the_stopped_one(stubbed: Stubbed) -> None:
    clients, stub = stubbed("glue")
    runs = [{"Id": "jr_old", "JobName": "orders-stream", "JobRunState": "STOPPED", "StartedOn": T0}]
    stub.add_response("get_job_runs", {"JobRuns": runs}, {"JobName": "orders-stream", "MaxResults": 10})
    assert GlueRuns(clients).other_active_runs("orders-stream", "jr_old") == []
