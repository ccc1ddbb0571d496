"""boto3 adapters for the ports. Clients are created lazily (cold start) and injectable (Stubber tests).

Endpoints come from configuration only: boto3 honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>,
which is how the sandbox is reached. Nothing here knows whether it talks to AWS or to the sandbox.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from functions.core.ports import BreakerState, JobDefinition, JobRun

_CONFIG: Any = None


def client(service: str) -> Any:
    """A boto3 client with standard retries (throttling backs off) and short timeouts (a Lambda budget)."""
    global _CONFIG
    import boto3
    from botocore.config import Config

    if _CONFIG is None:
        _CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=20)
    return boto3.client(service, config=_CONFIG)


class Clients:
    """Lazily created clients, one per service; pass `overrides` to inject stubbed clients."""

    def __init__(self, overrides: dict[str, Any] | None = None):
        self._made: dict[str, Any] = dict(overrides or {})

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = client(service)
        return self._made[service]


# --- Glue ----------------------------------------------------------------------------------------------

class GlueAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    @property
    def _glue(self) -> Any:
        return self._clients("glue")

    def get_job(self, name: str) -> JobDefinition:
        job = self._glue.get_job(JobName=name)["Job"]
        return JobDefinition(name=name, workers=job.get("NumberOfWorkers"), worker_type=job.get("WorkerType"),
                             raw=job)

    def recent_runs(self, name: str, limit: int = 10) -> list[JobRun]:
        runs = self._glue.get_job_runs(JobName=name, MaxResults=limit)["JobRuns"]
        return [JobRun(id=r["Id"], state=r["JobRunState"], started_on=r.get("StartedOn"),
                       workers=r.get("NumberOfWorkers"), worker_type=r.get("WorkerType"),
                       error=r.get("ErrorMessage", ""), arguments=r.get("Arguments", {})) for r in runs]

    def start_run(self, name: str, workers: int | None = None, worker_type: str | None = None,
                  arguments: dict[str, str] | None = None) -> str:
        request: dict[str, Any] = {"JobName": name}
        if workers is not None:
            request["NumberOfWorkers"] = workers
        if worker_type is not None:
            request["WorkerType"] = worker_type
        if arguments:
            request["Arguments"] = arguments
        return str(self._glue.start_job_run(**request)["JobRunId"])

    def stop_runs(self, name: str, run_ids: list[str]) -> None:
        response = self._glue.batch_stop_job_run(JobName=name, JobRunIds=run_ids)
        errors = response.get("Errors", [])
        if errors:
            detail = errors[0].get("ErrorDetail", {})
            raise RuntimeError(f"could not stop {errors[0].get('JobRunId')}: {detail.get('ErrorMessage', detail)}")


# --- CloudWatch ----------------------------------------------------------------------------------------

class AlarmAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def state_of(self, alarm_name: str) -> str:
        alarms = self._clients("cloudwatch").describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
        return str(alarms[0]["StateValue"]) if alarms else "UNKNOWN"

    def in_alarm(self, name_prefix: str) -> list[str]:
        """Names of our alarms (metric and composite) in ALARM now."""
        pages = self._clients("cloudwatch").get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=name_prefix, StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        names: list[str] = []
        for page in pages:
            names += [a["AlarmName"] for a in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])]
        return names


# --- Safety core stores --------------------------------------------------------------------------------

class SsmKillSwitch:
    """The global kill switch: an SSM parameter a person sets to 'on' to stop all automated action."""

    def __init__(self, clients: Clients, parameter: str):
        self._clients = clients
        self._parameter = parameter

    def engaged(self) -> bool:
        value = self._clients("ssm").get_parameter(Name=self._parameter)["Parameter"]["Value"]
        return str(value).strip().lower() not in {"off", "false", "0"}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


class DynamoBreaker:
    """Cooldown and attempt budget per resource, in one item per target (the circuit breaker)."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    def load(self, target: str) -> BreakerState:
        item = self._clients("dynamodb").get_item(TableName=self._table, Key={"target": {"S": target}},
                                                  ConsistentRead=True).get("Item")
        if not item:
            return BreakerState(target=target, last_action_at=None, attempts=[])
        return BreakerState(
            target=target,
            last_action_at=datetime.fromisoformat(item["last_action_at"]["S"]),
            attempts=[datetime.fromisoformat(a["S"]) for a in item.get("attempts", {}).get("L", [])],
        )

    def claim(self, seen: BreakerState, at: datetime, window_start: datetime) -> bool:
        from botocore.exceptions import ClientError

        attempts = [a for a in seen.attempts if a >= window_start] + [at]
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": {"target": {"S": seen.target}, "last_action_at": {"S": _iso(at)},
                     "attempts": {"L": [{"S": _iso(a)} for a in attempts]}},
        }
        if seen.last_action_at is None:
            request["ConditionExpression"] = "attribute_not_exists(#t)"
            request["ExpressionAttributeNames"] = {"#t": "target"}
        else:
            request["ConditionExpression"] = "last_action_at = :seen"
            request["ExpressionAttributeValues"] = {":seen": {"S": _iso(seen.last_action_at)}}
        try:
            self._clients("dynamodb").put_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


class DynamoAudit:
    """The audit trail: one item per decision, keyed by incident and a sequence that keeps their order."""

    def __init__(self, clients: Clients, table: str, clock: Any):
        self._clients = clients
        self._table = table
        self._clock = clock
        self._seq = 0

    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None:
        self._seq += 1
        at = self._clock.now()
        self._clients("dynamodb").put_item(TableName=self._table, Item={
            "incident_id": {"S": incident_id},
            "seq": {"S": f"{_iso(at)}#{self._seq:04d}"},
            "kind": {"S": kind},
            "at": {"S": _iso(at)},
            "payload": {"S": json.dumps(payload, default=str, sort_keys=True)},
        })


class SnsNotifier:
    def __init__(self, clients: Clients, topic_arn: str):
        self._clients = clients
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str) -> None:
        self._clients("sns").publish(TopicArn=self._topic_arn, Subject=subject, Message=message)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class AwsPorts:
    """The domain ports a playbook reaches, built on first use."""

    def __init__(self, clients: Clients):
        self.clients = clients

    @cached_property
    def glue(self) -> GlueAdapter:
        return GlueAdapter(self.clients)

    @cached_property
    def alarms(self) -> AlarmAdapter:
        return AlarmAdapter(self.clients)
