"""boto3 adapters for the ports. Clients are created lazily (cold start) and injectable (Stubber tests).

Endpoints come from configuration only: boto3 honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>,
which is how the sandbox is reached. Nothing here knows whether it talks to AWS or to the sandbox.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from functions.core.ports import (
    BreakerState,
    GlueConnection,
    JobDefinition,
    JobRun,
    PolicyDecision,
    S3Object,
    SecurityGroup,
    SgRule,
)

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
        return [_job_run(r) for r in runs]

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

    def get_run(self, name: str, run_id: str) -> JobRun:
        return _job_run(self._glue.get_job_run(JobName=name, RunId=run_id)["JobRun"])

    def get_connection(self, name: str) -> GlueConnection:
        connection = self._glue.get_connection(Name=name, HidePassword=True)["Connection"]
        physical = connection.get("PhysicalConnectionRequirements") or {}
        servers = (connection.get("ConnectionProperties") or {}).get("KAFKA_BOOTSTRAP_SERVERS", "")
        return GlueConnection(name=name, kind=str(connection.get("ConnectionType", "")),
                              subnet_id=physical.get("SubnetId"),
                              security_groups=tuple(physical.get("SecurityGroupIdList") or ()),
                              bootstrap_servers=tuple(s.strip() for s in servers.split(",") if s.strip()))


def _job_run(r: dict[str, Any]) -> JobRun:
    return JobRun(id=r["Id"], state=r["JobRunState"], started_on=r.get("StartedOn"),
                  workers=r.get("NumberOfWorkers"), worker_type=r.get("WorkerType"),
                  error=r.get("ErrorMessage", ""), arguments=r.get("Arguments", {}),
                  attempt=int(r.get("Attempt") or 0))


# --- Glue job failures and data quality: logs, IAM simulation, S3, network ------------------------------

class LogsAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def matching_lines(self, group: str, stream_prefix: str, pattern: str, limit: int,
                       start: datetime | None = None) -> list[str]:
        """One FilterLogEvents page: the log read stays small whatever the run wrote."""
        request: dict[str, Any] = {"logGroupName": group, "logStreamNamePrefix": stream_prefix,
                                   "filterPattern": pattern, "limit": limit}
        if start is not None:
            request["startTime"] = int(start.timestamp() * 1000)
        from botocore.exceptions import ClientError

        try:
            events = self._clients("logs").filter_log_events(**request).get("events", [])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return []
            raise
        return [str(e.get("message", "")).rstrip() for e in events]


class IamPolicyAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def simulate(self, principal_arn: str, actions: list[str], resources: list[str]) -> list[PolicyDecision]:
        pages = self._clients("iam").get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=principal_arn, ActionNames=actions, ResourceArns=resources)
        return [PolicyDecision(action=r["EvalActionName"], resource=r.get("EvalResourceName", "*"),
                               decision=r["EvalDecision"])
                for page in pages for r in page.get("EvaluationResults", [])]


class S3Adapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def newest_object(self, bucket: str, prefix: str, start_after: str | None = None) -> S3Object | None:
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1000}
        if start_after:
            request["StartAfter"] = start_after
        contents = self._clients("s3").list_objects_v2(**request).get("Contents", [])
        if not contents:
            return None
        newest = max(contents, key=lambda o: o["LastModified"])
        return S3Object(key=newest["Key"], last_modified=newest["LastModified"], size=int(newest.get("Size", 0)))

    def read_json(self, bucket: str, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            body = self._clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read(64 * 1024)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError(f"s3://{bucket}/{key} is not a JSON object")
        return data


def _rules(permissions: list[dict[str, Any]]) -> tuple[SgRule, ...]:
    return tuple(SgRule(protocol=str(p.get("IpProtocol", "-1")), from_port=p.get("FromPort"), to_port=p.get("ToPort"),
                        groups=tuple(g["GroupId"] for g in p.get("UserIdGroupPairs", []) if g.get("GroupId")),
                        cidrs=tuple(r["CidrIp"] for r in p.get("IpRanges", []) if r.get("CidrIp")))
                 for p in permissions)


class Ec2NetworkAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup]:
        groups = self._clients("ec2").describe_security_groups(GroupIds=ids)["SecurityGroups"]
        return {g["GroupId"]: SecurityGroup(id=g["GroupId"], ingress=_rules(g.get("IpPermissions", [])),
                                            egress=_rules(g.get("IpPermissionsEgress", [])))
                for g in groups}

    def subnet_cidr(self, subnet_id: str) -> str | None:
        subnets = self._clients("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"]
        return str(subnets[0]["CidrBlock"]) if subnets else None


class KafkaAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def _cluster(self, cluster_name: str) -> dict[str, Any] | None:
        # ListClustersV2 filtered by name returns the cluster's description: one call, no ARN needed.
        clusters = self._clients("kafka").list_clusters_v2(ClusterNameFilter=cluster_name)["ClusterInfoList"]
        return next((c for c in clusters if c.get("ClusterName") == cluster_name), None)

    def broker_security_groups(self, cluster_name: str) -> tuple[str, ...]:
        cluster = self._cluster(cluster_name)
        if cluster is None:
            return ()
        broker_group = (cluster.get("Provisioned") or {}).get("BrokerNodeGroupInfo") or {}
        return tuple(broker_group.get("SecurityGroups") or ())

    def cluster_state(self, cluster_name: str) -> str | None:
        cluster = self._cluster(cluster_name)
        return str(cluster.get("State")) if cluster is not None else None


# --- CloudWatch ----------------------------------------------------------------------------------------

class AlarmAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def state_of(self, alarm_name: str) -> str:
        alarms = self._clients("cloudwatch").describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
        return str(alarms[0]["StateValue"]) if alarms else "UNKNOWN"

    def state_since(self, alarm_name: str) -> tuple[str, datetime | None]:
        alarms = self._clients("cloudwatch").describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
        if not alarms:
            return "UNKNOWN", None
        return str(alarms[0]["StateValue"]), alarms[0].get("StateUpdatedTimestamp")

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
        values: dict[str, Any] = {":at": {"S": _iso(at)}, ":attempts": {"L": [{"S": _iso(a)} for a in attempts]}}
        # An update, not a put: the item also holds the target's lease, which a claim must not erase.
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"target": {"S": seen.target}},
            "UpdateExpression": "SET last_action_at = :at, attempts = :attempts",
        }
        if seen.last_action_at is None:
            request["ConditionExpression"] = "attribute_not_exists(last_action_at)"
        else:
            request["ConditionExpression"] = "last_action_at = :seen"
            values[":seen"] = {"S": _iso(seen.last_action_at)}
        request["ExpressionAttributeValues"] = values
        try:
            self._clients("dynamodb").update_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_lease(self, target: str, lease: dict[str, Any]) -> None:
        self._clients("dynamodb").update_item(
            TableName=self._table, Key={"target": {"S": target}}, UpdateExpression="SET lease = :lease",
            ExpressionAttributeValues={":lease": {"S": json.dumps(lease, sort_keys=True)}})

    def clear_lease(self, target: str) -> None:
        self._clients("dynamodb").update_item(TableName=self._table, Key={"target": {"S": target}},
                                              UpdateExpression="REMOVE lease")

    def leases(self) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_exists(lease)", ProjectionExpression="lease")
        return [json.loads(item["lease"]["S"]) for page in pages for item in page.get("Items", [])]

    def put_pending_start(self, target: str, pending: dict[str, Any]) -> None:
        self._clients("dynamodb").update_item(
            TableName=self._table, Key={"target": {"S": target}}, UpdateExpression="SET pending_start = :p",
            ExpressionAttributeValues={":p": {"S": json.dumps(pending, sort_keys=True, default=str)}})

    def clear_pending_start(self, target: str) -> None:
        self._clients("dynamodb").update_item(TableName=self._table, Key={"target": {"S": target}},
                                              UpdateExpression="REMOVE pending_start")

    def pending_starts(self) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_exists(pending_start)",
            ProjectionExpression="pending_start")
        return [json.loads(item["pending_start"]["S"]) for page in pages for item in page.get("Items", [])]


def _conditional(clients: Clients, request: dict[str, Any]) -> bool:
    """One conditional UpdateItem: False when its condition did not hold (someone else got there first)."""
    from botocore.exceptions import ClientError

    try:
        clients("dynamodb").update_item(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


class DynamoApprovals:
    """Actions awaiting a person: one item per approval in the breaker table (key `approval:<id>`), beside the
    breaker state, so a playbook function needs no table and no IAM action beyond what the breaker has
    (GetItem, Scan, UpdateItem). Every write is a conditional UpdateItem: recorded once, answered once."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    @staticmethod
    def _key(approval_id: str) -> dict[str, Any]:
        return {"target": {"S": f"approval:{approval_id}"}}

    def put(self, approval: dict[str, Any]) -> bool:
        expires = datetime.fromisoformat(str(approval["expires_at"]))
        return _conditional(self._clients, {
            "TableName": self._table, "Key": self._key(approval["approval_id"]),
            "UpdateExpression": "SET approval = :a, approval_status = :pending, incident_id = :i, playbook = :p, "
                                "expires_epoch = :e",
            "ConditionExpression": "attribute_not_exists(approval)",
            "ExpressionAttributeValues": {
                ":a": {"S": json.dumps(approval, sort_keys=True, default=str)}, ":pending": {"S": "PENDING"},
                ":i": {"S": str(approval["incident"]["id"])}, ":p": {"S": str(approval["playbook"])},
                ":e": {"N": str(int(expires.timestamp()))}}})

    def get(self, approval_id: str) -> dict[str, Any] | None:
        item = self._clients("dynamodb").get_item(TableName=self._table, Key=self._key(approval_id),
                                                  ConsistentRead=True).get("Item")
        return _approval(item) if item and "approval" in item else None

    def answer(self, approval_id: str, status: str, by: str, reason: str, at: datetime) -> bool:
        return _conditional(self._clients, {
            "TableName": self._table, "Key": self._key(approval_id),
            "UpdateExpression": "SET approval_status = :status, answered_by = :by, answer_reason = :reason, "
                                "answered_at = :at, purge_at = :purge",
            "ConditionExpression": "approval_status = :pending AND expires_epoch > :now",
            "ExpressionAttributeValues": {
                ":status": {"S": status}, ":by": {"S": by}, ":reason": {"S": reason}, ":at": {"S": _iso(at)},
                ":pending": {"S": "PENDING"}, ":now": {"N": str(int(at.timestamp()))}, ":purge": _purge(at)}})

    def expire(self, approval_id: str, at: datetime) -> bool:
        return _conditional(self._clients, {
            "TableName": self._table, "Key": self._key(approval_id),
            "UpdateExpression": "SET approval_status = :expired, answered_at = :at, purge_at = :purge",
            "ConditionExpression": "approval_status = :pending AND expires_epoch <= :now",
            "ExpressionAttributeValues": {":expired": {"S": "EXPIRED"}, ":at": {"S": _iso(at)},
                                          ":pending": {"S": "PENDING"}, ":now": {"N": str(int(at.timestamp()))},
                                          ":purge": _purge(at)}})

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="attribute_exists(approval) AND incident_id = :i",
            ExpressionAttributeValues={":i": {"S": incident_id}})
        return [_approval(item) for page in pages for item in page.get("Items", [])]


# An answered approval or a closed window is done: the audit trail keeps its record, so the working item in
# the breaker table is left to DynamoDB's TTL (attribute purge_at, infra/constructs/state.py) after this long.
PURGE_AFTER = timedelta(days=30)


def _purge(at: datetime) -> dict[str, str]:
    return {"N": str(int((at + PURGE_AFTER).timestamp()))}


def _approval(item: dict[str, Any]) -> dict[str, Any]:
    """The approval as recorded, with its answer (the item's own attributes are the truth about it)."""
    approval = dict(json.loads(item["approval"]["S"]))
    approval["status"] = item.get("approval_status", {}).get("S", "PENDING")
    if "expires_epoch" in item:  # what the conditional answer judges, so the refusal says the same
        approval["expires_at"] = datetime.fromtimestamp(int(item["expires_epoch"]["N"]), UTC).isoformat()
    for field in ("answered_by", "answer_reason", "answered_at"):
        if field in item:
            approval[field] = item[field]["S"]
    return approval


class DynamoFollowUps:
    """Verification windows: one item per thing done in the breaker table (key `follow-up:<key>`). The final
    verdict is a conditional UpdateItem (WATCHING -> VERIFIED | FAILED | INCONCLUSIVE): recorded once."""

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    def put(self, follow_up: dict[str, Any]) -> None:
        _conditional(self._clients, {
            "TableName": self._table, "Key": {"target": {"S": f"follow-up:{follow_up['key']}"}},
            "UpdateExpression": "SET follow_up = :f, follow_up_status = :watching, playbook = :p",
            "ConditionExpression": "attribute_not_exists(follow_up)",
            "ExpressionAttributeValues": {":f": {"S": json.dumps(follow_up, sort_keys=True, default=str)},
                                          ":watching": {"S": "WATCHING"}, ":p": {"S": str(follow_up["playbook"])}}})

    def watching(self, playbook: str) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="follow_up_status = :watching AND playbook = :p",
            ExpressionAttributeValues={":watching": {"S": "WATCHING"}, ":p": {"S": playbook}},
            ProjectionExpression="follow_up")
        return [json.loads(item["follow_up"]["S"]) for page in pages for item in page.get("Items", [])]

    def close(self, key: str, status: str, at: datetime) -> bool:
        return _conditional(self._clients, {
            "TableName": self._table, "Key": {"target": {"S": f"follow-up:{key}"}},
            "UpdateExpression": "SET follow_up_status = :status, closed_at = :at, purge_at = :purge",
            "ConditionExpression": "follow_up_status = :watching",
            "ExpressionAttributeValues": {":status": {"S": status}, ":at": {"S": _iso(at)},
                                          ":watching": {"S": "WATCHING"}, ":purge": _purge(at)}})


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

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)


class AwsPorts:
    """The domain ports a playbook reaches, built on first use."""

    def __init__(self, clients: Clients, budget: Any = None):
        from functions.core.waiting import Budget

        self.clients = clients
        # How long an action may wait for AWS in the current invocation (set per invocation by the runtime).
        self.budget: Budget = budget or Budget(SystemClock())

    @cached_property
    def glue(self) -> GlueAdapter:
        return GlueAdapter(self.clients)

    @cached_property
    def alarms(self) -> AlarmAdapter:
        return AlarmAdapter(self.clients)

    @cached_property
    def logs(self) -> LogsAdapter:
        return LogsAdapter(self.clients)

    @cached_property
    def iam(self) -> IamPolicyAdapter:
        return IamPolicyAdapter(self.clients)

    @cached_property
    def s3(self) -> S3Adapter:
        return S3Adapter(self.clients)

    @cached_property
    def network(self) -> Ec2NetworkAdapter:
        return Ec2NetworkAdapter(self.clients)

    @cached_property
    def kafka(self) -> KafkaAdapter:
        return KafkaAdapter(self.clients)

    @cached_property
    def redshift(self) -> Any:
        """RedshiftPort (functions.core.adapters.redshift): imported here, on first use, so that only the
        redshift_performance function loads it (and redshift_connector behind it)."""
        from functions.core.adapters.redshift import RedshiftAdapter, RedshiftSettings
        from functions.core.runtime import catalog

        return RedshiftAdapter(self.clients, catalog().redshift, RedshiftSettings.from_environ())
