"""The probes' outside world: S3 listing and Glue runs through boto3 (injectable clients, endpoints from
configuration), metrics as EMF log lines through Powertools."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from functions.core.adapters.clients import Clients
from functions.probes.consumer_lag import LagUnmeasurable
from functions.probes.freshness import NewestObject
from functions.probes.metrics import NAMESPACE, Measurement


class S3Listing:
    """The newest object under a prefix: every page of ListObjectsV2 (S3 lists by key, not by time)."""

    def __init__(self, clients: Clients, page_size: int = 1000):
        self._clients = clients
        self._page_size = page_size

    def newest_object(self, bucket: str, prefix: str) -> NewestObject | None:
        pages = self._clients("s3").get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": self._page_size})
        newest: dict[str, Any] | None = None
        scanned = 0
        for page in pages:
            for item in page.get("Contents", []):
                scanned += 1
                if newest is None or item["LastModified"] > newest["LastModified"]:
                    newest = item
        if newest is None:
            return None
        return NewestObject(key=newest["Key"], last_modified=newest["LastModified"], scanned=scanned)


class S3QualityFlags:
    """FlagsPort on S3: a job's staging quality flags keys (ListObjectsV2 from StartAfter, every page) and one
    object's text. What S3 refuses other than a missing key fails the run: a probe that cannot read the flags
    must not publish 0 failures (its failure is parked in the unhandled-events queue, which pages)."""

    def __init__(self, clients: Clients, page_size: int = 1000):
        self._clients = clients
        self._page_size = page_size

    def keys(self, bucket: str, prefix: str, start_after: str) -> list[str]:
        pages = self._clients("s3").get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, StartAfter=start_after, PaginationConfig={"PageSize": self._page_size})
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def read(self, bucket: str, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            body = self._clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read(64 * 1024)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return bytes(body).decode("utf-8", errors="replace")


class S3Checkpoints:
    """CheckpointPort on S3: a log directory's file names (ListObjectsV2 with a delimiter, every page) and a
    file's text. What S3 refuses (AccessDenied, NoSuchBucket, NoSuchKey ...) becomes the reason a person reads."""

    def __init__(self, clients: Clients, page_size: int = 1000):
        self._clients = clients
        self._page_size = page_size

    def batch_ids(self, bucket: str, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        names: list[str] = []
        try:
            pages = self._clients("s3").get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, Delimiter="/", PaginationConfig={"PageSize": self._page_size})
            for page in pages:
                names += [item["Key"][len(prefix):] for item in page.get("Contents", [])]
        except ClientError as error:
            raise LagUnmeasurable(f"s3://{bucket}/{prefix}: cannot list: {_s3_error(error)}") from None
        except BotoCoreError as error:
            raise LagUnmeasurable(f"s3://{bucket}/{prefix}: cannot list: {error}") from None
        return names

    def read(self, bucket: str, key: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self._clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            raise LagUnmeasurable(f"s3://{bucket}/{key}: cannot read: {_s3_error(error)}") from None
        except BotoCoreError as error:
            raise LagUnmeasurable(f"s3://{bucket}/{key}: cannot read: {error}") from None
        try:
            return str(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise LagUnmeasurable(f"s3://{bucket}/{key}: not UTF-8 text") from None


def _s3_error(error: Any) -> str:
    answer = error.response.get("Error", {})
    return f"{answer.get('Code', 'error')}: {answer.get('Message', '')}".rstrip(": ")


class GlueRuns:
    """Which runs of a job are active (STARTING, RUNNING, WAITING), newest first as Glue lists them."""

    ACTIVE = frozenset({"STARTING", "RUNNING", "WAITING"})

    def __init__(self, clients: Clients, limit: int = 10):
        self._clients = clients
        self._limit = limit

    def other_active_runs(self, job: str, run_id: str) -> list[str]:
        runs = self._clients("glue").get_job_runs(JobName=job, MaxResults=self._limit)["JobRuns"]
        return [r["Id"] for r in runs if r.get("JobRunState") in self.ACTIVE and r["Id"] != run_id]


class PendingStarts:
    """The restarts this service's playbooks left waiting for a stop (functions.core.pending), from the breaker
    table: one GetItem of the job's target."""

    def __init__(self, clients: Clients, table: str | None):
        self._clients = clients
        self._table = table

    def waits_for(self, job: str, run_id: str) -> bool:
        """A pending start of `job` waits for `run_id` to end: the service stopped that run itself."""
        if not self._table:  # no breaker table configured: nothing of ours can be pending
            return False
        item = self._clients("dynamodb").get_item(TableName=self._table, Key={"target": {"S": f"glue:{job}"}},
                                                  ProjectionExpression="pending_start").get("Item", {})
        raw = item.get("pending_start", {}).get("S")
        return bool(raw) and run_id in json.loads(raw).get("after", [])


class EmfPublisher:
    """Measurements as CloudWatch embedded-metric-format records, one per (dimensions, time), printed to
    stdout (Lambda sends it to CloudWatch Logs, which extracts the metrics).

    Dimensions are exactly those of each measurement. Powertools adds a `service` dimension from
    POWERTOOLS_SERVICE_NAME unless the provider is given an explicit empty service: done here, because an
    alarm only matches a metric whose dimension set is identical to its own (Bucket+Prefix, JobName).
    """

    def __init__(self, namespace: str = NAMESPACE):
        self._namespace = namespace

    def publish(self, measurements: Iterable[Measurement]) -> int:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

        groups: dict[tuple[tuple[tuple[str, str], ...], datetime], list[Measurement]] = defaultdict(list)
        for measurement in measurements:
            groups[(measurement.dimensions, measurement.at)].append(measurement)
        for (dimensions, at), group in groups.items():
            provider = AmazonCloudWatchEMFProvider(namespace=self._namespace, service="")  # no service dimension
            for name, value in dimensions:
                provider.add_dimension(name=name, value=value)
            for measurement in group:
                provider.add_metric(name=measurement.name, unit=measurement.unit, value=measurement.value)
            provider.set_timestamp(at)
            provider.flush_metrics()  # prints the record (one line) to stdout
        return len(groups)
