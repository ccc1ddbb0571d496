"""boto3 adapters for the procedure ports (functions/procedures/ports.py). Clients come from
functions.core.adapters.clients.Clients: created lazily, injectable (Stubber tests), endpoints from
configuration only (AWS_ENDPOINT_URL in the sandbox). Values are made JSON-able here (datetimes as ISO
strings): they travel in the state machine's data.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from functions.core.adapters.clients import Clients, client
from functions.core.errors import error_code
from functions.procedures import tokens_table_name
from functions.procedures.ports import Unavailable

# AWS Health and AWS Support have one endpoint each, in us-east-1 (aws partition).
GLOBAL_REGION = "us-east-1"
NO_PLAN = "SubscriptionRequiredException"
STACK_STATUSES = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
                  "UPDATE_FAILED", "ROLLBACK_COMPLETE", "IMPORT_COMPLETE"]
STATEMENT_WAIT_SECONDS = 50.0


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def _iso(value: Any) -> str:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value or "")


class ApprovalTable:
    """One item per approval: what it is about, who asked, the answer. The task token the state machine waits on
    is kept apart, in the tokens table, keyed the same: written by the approval step, read by the answer
    function only (IAM)."""

    RETENTION_SECONDS = 90 * 86400

    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table
        self._tokens = tokens_table_name(table)

    def put_pending(self, item: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        expires = int(datetime.fromisoformat(item["deadline"]).timestamp()) + self.RETENTION_SECONDS
        key = {"incident_id": {"S": item["incident_id"]}, "approval": {"S": item["key"]}}
        # The token first: an approval people can see is one the answer function can answer.
        self._clients("dynamodb").put_item(TableName=self._tokens, Item={
            **key, "token": {"S": str(item["token"])}, "expires_at": {"N": str(expires)}})
        record = {**key, "expires_at": {"N": str(expires)}, "about_to": {"S": json.dumps(item["about_to"])}}
        for name in ("procedure", "step", "execution", "status", "requested_at", "deadline", "requested_by"):
            record[name] = {"S": str(item.get(name) or "")}
        try:
            self._clients("dynamodb").put_item(
                TableName=self._table, Item=record,
                ConditionExpression="attribute_not_exists(incident_id) OR #s = :pending",
                ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":pending": {"S": "PENDING"}})
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def items(self, incident_id: str) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("query").paginate(
            TableName=self._table, KeyConditionExpression="incident_id = :i",
            ExpressionAttributeValues={":i": {"S": incident_id}})
        return [self._decoded(raw) for page in pages for raw in page["Items"]]

    @staticmethod
    def _decoded(raw: dict[str, Any]) -> dict[str, Any]:
        item = {k: (v.get("S") if "S" in v else v.get("N")) for k, v in raw.items()}
        item["key"] = item.pop("approval")
        item["about_to"] = json.loads(item.get("about_to") or "[]")
        return item

    def waiting(self) -> list[dict[str, Any]]:
        """Every approval still PENDING, of every incident (the sweep: functions.core.escalation). A Scan: the
        table holds one item per question asked, kept 90 days, a few hundred at most."""
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="#s = :pending", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":pending": {"S": "PENDING"}})
        return [self._decoded(raw) for page in pages for raw in page["Items"]]

    def remind(self, incident_id: str, key: str, at: datetime) -> bool:
        """Mark a pending approval reminded, once: False when it was reminded or answered meanwhile (two sweeps
        that overlap remind once; an answer that came first wins)."""
        from botocore.exceptions import ClientError

        try:
            self._clients("dynamodb").update_item(
                TableName=self._table, Key={"incident_id": {"S": incident_id}, "approval": {"S": key}},
                UpdateExpression="SET reminded_at = :at",
                ConditionExpression="#s = :pending AND attribute_not_exists(reminded_at)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":at": {"S": _iso(at)}, ":pending": {"S": "PENDING"}})
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def pending(self, incident_id: str) -> list[dict[str, Any]]:
        return [i for i in self.items(incident_id) if i.get("status") == "PENDING"]

    def token(self, incident_id: str, key: str) -> str | None:
        item = self._clients("dynamodb").get_item(
            TableName=self._tokens, Key={"incident_id": {"S": incident_id}, "approval": {"S": key}},
            ConsistentRead=True).get("Item")
        return str(item["token"]["S"]) if item and "token" in item else None

    def close(self, incident_id: str, key: str, status: str, by: str, reason: str, at: datetime) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._clients("dynamodb").update_item(
                TableName=self._table, Key={"incident_id": {"S": incident_id}, "approval": {"S": key}},
                UpdateExpression="SET #s = :s, answered_by = :by, answer_reason = :r, answered_at = :at",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": status}, ":by": {"S": by or "-"}, ":r": {"S": reason or "-"},
                                           ":at": {"S": _iso(at)}, ":pending": {"S": "PENDING"}})
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def extend(self, incident_id: str, key: str, deadline: datetime) -> None:
        """A heartbeat gave the approval another window: its deadline moves (still pending only)."""
        from botocore.exceptions import ClientError

        try:
            self._clients("dynamodb").update_item(
                TableName=self._table, Key={"incident_id": {"S": incident_id}, "approval": {"S": key}},
                UpdateExpression="SET deadline = :d", ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":d": {"S": _iso(deadline)}, ":pending": {"S": "PENDING"}})
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise


class StepFunctionsCallback:
    """Answers a waiting task token (SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat): the answer
    function's, the only role allowed these actions."""

    def __init__(self, clients: Clients):
        self._clients = clients

    def send_success(self, token: str, output: dict[str, Any]) -> None:
        self._send("send_task_success", taskToken=token, output=json.dumps(output))

    def send_failure(self, token: str, error: str, cause: str) -> None:
        self._send("send_task_failure", taskToken=token, error=error, cause=cause)

    def send_heartbeat(self, token: str) -> None:
        self._send("send_task_heartbeat", taskToken=token)

    def _send(self, operation: str, **request: Any) -> None:
        from botocore.exceptions import ClientError

        from functions.answers.service import TokenGone

        try:
            getattr(self._clients("stepfunctions"), operation)(**request)
        except ClientError as error:
            if error_code(error) in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}:
                raise TokenGone(error_code(error)) from None
            raise


class AuditReader:
    def __init__(self, clients: Clients, table: str):
        self._clients = clients
        self._table = table

    def since(self, at: datetime) -> list[dict[str, Any]]:
        pages = self._clients("dynamodb").get_paginator("scan").paginate(
            TableName=self._table, FilterExpression="#at >= :since", ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":since": {"S": _iso(at)}})
        records = []
        for page in pages:
            for item in page["Items"]:
                try:
                    payload = json.loads(item.get("payload", {}).get("S", "{}"))
                except ValueError:
                    payload = {}
                records.append({"incident_id": item["incident_id"]["S"], "kind": item.get("kind", {}).get("S", ""),
                                "at": item.get("at", {}).get("S", ""), "payload": payload})
        return sorted(records, key=lambda r: r["at"])


class AwsProcedurePorts:
    """Every procedure port on boto3; each step uses the few it needs (and its role allows)."""

    def __init__(self, clients: Clients, audit_table: str = "", database: str = "", db_user: str = "",
                 cluster_id: str = "", global_clients: dict[str, Any] | None = None):
        self.clients = clients
        self._global_clients: dict[str, Any] = dict(global_clients or {})
        self._audit = AuditReader(clients, audit_table)
        self._database, self._db_user, self._cluster = database, db_user, cluster_id

    # -- starting from an alarm (ExecutionsPort) ------------------------------------------------------

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        from functions.procedures.ports import AlreadyStarted

        try:
            started = self.clients("stepfunctions").start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload, sort_keys=True))
        except ClientError as error:
            if error_code(error) == "ExecutionAlreadyExists":
                raise AlreadyStarted(str(error)) from None
            raise
        return {"arn": started["executionArn"], "started": _iso(started.get("startDate"))}

    def running(self, state_machine_arn: str) -> list[dict[str, Any]]:
        page = self.clients("stepfunctions").list_executions(stateMachineArn=state_machine_arn,
                                                              statusFilter="RUNNING", maxResults=100)
        return [{"name": e["name"], "arn": e["executionArn"], "started": _iso(e.get("startDate"))}
                for e in page.get("executions", [])]

    def describe(self, execution_arn: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            found = self.clients("stepfunctions").describe_execution(executionArn=execution_arn)
        except ClientError as error:
            if error_code(error) == "ExecutionDoesNotExist":
                return None
            raise
        return {"status": found["status"], "started": _iso(found.get("startDate")),
                "input": json.loads(found.get("input") or "{}")}

    # -- outage ---------------------------------------------------------------------------------------

    def alarms_in_alarm(self, prefix: str) -> list[dict[str, Any]]:
        pages = self.clients("cloudwatch").get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=prefix, StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        return [{"name": a["AlarmName"], "reason": a.get("StateReason", ""),
                 "since": _iso(a.get("StateUpdatedTimestamp"))}
                for page in pages for a in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])]

    def stacks_changed_since(self, since: datetime) -> list[dict[str, Any]]:
        pages = self.clients("cloudformation").get_paginator("list_stacks").paginate(StackStatusFilter=STACK_STATUSES)
        changed = []
        for page in pages:
            for stack in page.get("StackSummaries", []):
                at = stack.get("LastUpdatedTime") or stack.get("CreationTime")
                if isinstance(at, datetime) and at >= since:
                    changed.append({"name": stack["StackName"], "status": stack["StackStatus"], "at": _iso(at)})
        return changed

    def job_definition(self, name: str) -> dict[str, Any]:
        return dict(jsonable(self.clients("glue").get_job(JobName=name)["Job"]))

    def audit_since(self, since: datetime) -> list[dict[str, Any]]:
        return self._audit.since(since)

    def _global(self, service: str) -> Any:
        """Health and Support answer in us-east-1 only, whatever the function's region."""
        if service not in self._global_clients:
            self._global_clients[service] = client(service, region=GLOBAL_REGION)
        return self._global_clients[service]

    def health_events(self, since: datetime) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        try:
            response = self._global("health").describe_events(
                filter={"startTimes": [{"from": since}], "eventStatusCodes": ["open", "upcoming"]})
        except ClientError as error:
            if error_code(error) == NO_PLAN:
                raise Unavailable("the AWS Health API needs a Business, Enterprise On-Ramp or Enterprise "
                                  "support plan") from None
            raise
        return [{"service": e.get("service"), "type": e.get("eventTypeCode"), "region": e.get("region"),
                 "status": e.get("statusCode"), "start": _iso(e.get("startTime"))} for e in response.get("events", [])]

    def create_case(self, subject: str, body: str) -> str:
        from botocore.exceptions import ClientError

        try:
            response = self._global("support").create_case(
                subject=subject[:255], communicationBody=body[:8000], severityCode="urgent", issueType="technical")
        except ClientError as error:
            if error_code(error) == NO_PLAN:
                raise Unavailable("the AWS Support API needs a Business, Enterprise On-Ramp or Enterprise "
                                  "support plan") from None
            raise
        return str(response["caseId"])

    # -- glue -----------------------------------------------------------------------------------------

    def job_update_fields(self) -> tuple[str, ...]:
        shape = self.clients("glue").meta.service_model.shape_for("JobUpdate")
        return tuple(shape.members)

    def runs(self, name: str, limit: int = 25) -> list[dict[str, Any]]:
        runs = self.clients("glue").get_job_runs(JobName=name, MaxResults=limit)["JobRuns"]
        return [{"id": r["Id"], "state": r["JobRunState"], "arguments": r.get("Arguments", {}),
                 "started_on": _iso(r.get("StartedOn"))} for r in runs]

    def start_run(self, name: str, arguments: dict[str, str]) -> str:
        return str(self.clients("glue").start_job_run(JobName=name, Arguments=arguments)["JobRunId"])

    def trigger_state(self, name: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            return str(self.clients("glue").get_trigger(Name=name)["Trigger"].get("State", ""))
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                return None
            raise

    # -- redshift -------------------------------------------------------------------------------------

    def snapshots(self, cluster: str) -> list[dict[str, Any]]:
        pages = self.clients("redshift").get_paginator("describe_cluster_snapshots").paginate(
            ClusterIdentifier=cluster)
        return [{"id": s["SnapshotIdentifier"], "created": _iso(s.get("SnapshotCreateTime")),
                 "status": s.get("Status", ""), "type": s.get("SnapshotType", "")}
                for page in pages for s in page.get("Snapshots", [])]

    def _wait(self, statement_id: str) -> dict[str, Any]:
        data = self.clients("redshift-data")
        deadline = time.monotonic() + STATEMENT_WAIT_SECONDS
        while True:
            described = data.describe_statement(Id=statement_id)
            if described["Status"] == "FINISHED":
                return dict(described)
            if described["Status"] in {"FAILED", "ABORTED"}:
                raise RuntimeError(f"Redshift statement {described['Status']}: {described.get('Error', '')[:300]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"Redshift statement {statement_id} still {described['Status']}")
            time.sleep(0.25)

    def _target(self) -> dict[str, str]:
        return {"ClusterIdentifier": self._cluster, "Database": self._database, "DbUser": self._db_user}

    def query(self, sql: str) -> list[list[Any]]:
        data = self.clients("redshift-data")
        described = self._wait(data.execute_statement(Sql=sql, **self._target())["Id"])
        if not described.get("HasResultSet"):
            return []
        rows: list[list[Any]] = []
        request: dict[str, Any] = {"Id": described["Id"]}
        while True:
            page = data.get_statement_result(**request)
            for record in page.get("Records", []):
                rows.append([None if field.get("isNull") else next(iter(field.values())) for field in record])
            if not page.get("NextToken"):
                return rows
            request["NextToken"] = page["NextToken"]

    def run_in_transaction(self, statements: list[str]) -> None:
        """BatchExecuteStatement runs its statements as one transaction."""
        data = self.clients("redshift-data")
        self._wait(data.batch_execute_statement(Sqls=statements, **self._target())["Id"])

    # -- s3 -------------------------------------------------------------------------------------------

    def versioning(self, bucket: str) -> str:
        return str(self.clients("s3").get_bucket_versioning(Bucket=bucket).get("Status", ""))

    def versions(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        pages = self.clients("s3").get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        found = []
        for page in pages:
            for v in page.get("Versions", []):
                found.append({"key": v["Key"], "version_id": v.get("VersionId", ""),
                              "modified": _iso(v["LastModified"]), "etag": str(v.get("ETag", "")).strip('"'),
                              "latest": bool(v.get("IsLatest")), "delete_marker": False})
            for m in page.get("DeleteMarkers", []):
                found.append({"key": m["Key"], "version_id": m.get("VersionId", ""),
                              "modified": _iso(m["LastModified"]), "etag": "", "latest": bool(m.get("IsLatest")),
                              "delete_marker": True})
        return found

    def copy_version(self, bucket: str, key: str, version_id: str) -> str:
        response = self.clients("s3").copy_object(Bucket=bucket, Key=key,
                                                  CopySource={"Bucket": bucket, "Key": key, "VersionId": version_id})
        return str(response.get("VersionId", ""))

    def delete(self, bucket: str, key: str) -> None:
        self.clients("s3").delete_object(Bucket=bucket, Key=key)

    # -- iam, ec2, cloudtrail -------------------------------------------------------------------------

    def access_key_owner(self, access_key_id: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            return self.clients("iam").get_access_key_last_used(AccessKeyId=access_key_id).get("UserName")
        except ClientError as error:
            if error_code(error) in {"NoSuchEntity", "AccessDenied"}:
                return None
            raise

    def access_keys(self, user: str) -> list[dict[str, Any]]:
        keys = self.clients("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
        return [{"id": k["AccessKeyId"], "status": k["Status"], "created": _iso(k.get("CreateDate"))} for k in keys]

    def exists(self, kind: str, name: str) -> bool:
        from botocore.exceptions import ClientError

        iam = self.clients("iam")
        try:
            iam.get_user(UserName=name) if kind == "user" else iam.get_role(RoleName=name)
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return False
            raise
        return True

    @staticmethod
    def _document(raw: Any) -> dict[str, Any]:
        if isinstance(raw, str):
            return dict(json.loads(unquote(raw)))
        return dict(raw or {})

    def _managed(self, arn: str) -> dict[str, Any]:
        iam = self.clients("iam")
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        return self._document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])

    def _policies_of(self, kind: str, name: str, source: str) -> list[dict[str, Any]]:
        iam = self.clients("iam")
        key = {"user": "UserName", "role": "RoleName", "group": "GroupName"}[kind]
        found = []
        for attached in getattr(iam, f"list_attached_{kind}_policies")(**{key: name})["AttachedPolicies"]:
            found.append({"name": attached["PolicyName"], "source": f"{source} (attached)",
                          "arn": attached["PolicyArn"], "document": self._managed(attached["PolicyArn"])})
        for policy in getattr(iam, f"list_{kind}_policies")(**{key: name})["PolicyNames"]:
            document = getattr(iam, f"get_{kind}_policy")(**{key: name, "PolicyName": policy})["PolicyDocument"]
            found.append({"name": policy, "source": f"{source} (inline)", "arn": "",
                          "document": self._document(document)})
        return found

    def policies(self, kind: str, name: str) -> list[dict[str, Any]]:
        found = self._policies_of(kind, name, f"{kind} {name}")
        if kind == "user":
            for group in self.clients("iam").list_groups_for_user(UserName=name)["Groups"]:
                found += self._policies_of("group", group["GroupName"], f"group {group['GroupName']}")
        return found

    def ingress(self, group_ids: list[str]) -> list[dict[str, Any]]:
        groups = self.clients("ec2").describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
        rules = []
        for group in groups:
            for permission in group.get("IpPermissions", []):
                base = {"group_id": group["GroupId"], "protocol": str(permission.get("IpProtocol", "-1")),
                        "from_port": permission.get("FromPort"), "to_port": permission.get("ToPort")}
                rules += [{**base, "cidr": r["CidrIp"]} for r in permission.get("IpRanges", [])]
                rules += [{**base, "cidr": r["CidrIpv6"]} for r in permission.get("Ipv6Ranges", [])]
        return rules

    def events(self, attribute: tuple[str, str] | None, start: datetime, end: datetime,
               limit: int = 1000) -> list[dict[str, Any]]:
        request: dict[str, Any] = {"StartTime": start, "EndTime": end}
        if attribute:
            request["LookupAttributes"] = [{"AttributeKey": attribute[0], "AttributeValue": attribute[1]}]
        found: list[dict[str, Any]] = []
        for page in self.clients("cloudtrail").get_paginator("lookup_events").paginate(**request):
            for event in page.get("Events", []):
                try:
                    detail = json.loads(event.get("CloudTrailEvent") or "{}")
                except ValueError:
                    detail = {}
                found.append({
                    "name": event.get("EventName", ""), "source": event.get("EventSource", ""),
                    "time": _iso(event.get("EventTime")), "read_only": str(event.get("ReadOnly", "")).lower() == "true",
                    "access_key": event.get("AccessKeyId", ""), "username": event.get("Username", ""),
                    "error": detail.get("errorCode", ""), "ip": detail.get("sourceIPAddress", ""),
                    "region": detail.get("awsRegion", ""),
                    "identity_arn": (detail.get("userIdentity") or {}).get("arn", ""),
                })
                if len(found) >= limit:
                    return found
        return found

    # -- clusters -------------------------------------------------------------------------------------

    def msk_cluster(self, name: str) -> dict[str, Any] | None:
        kafka = self.clients("kafka")
        infos = kafka.list_clusters_v2(ClusterNameFilter=name).get("ClusterInfoList", [])
        arns = [c["ClusterArn"] for c in infos if c.get("ClusterName") == name]
        if not arns:
            return None
        info = kafka.describe_cluster_v2(ClusterArn=arns[0])["ClusterInfo"]
        provisioned = info.get("Provisioned", {})
        return {"arn": arns[0], "state": info.get("State", ""), "version": info.get("CurrentVersion", ""),
                "brokers": provisioned.get("NumberOfBrokerNodes", 0),
                "zones": len(provisioned.get("BrokerNodeGroupInfo", {}).get("ClientSubnets", [])) or 1}

    def redshift_cluster(self, cluster_id: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            cluster = self.clients("redshift").describe_clusters(ClusterIdentifier=cluster_id)["Clusters"][0]
        except ClientError as error:
            if error_code(error) == "ClusterNotFound":
                return None
            raise
        return {"status": cluster.get("ClusterStatus", ""), "node_type": cluster.get("NodeType", ""),
                "nodes": cluster.get("NumberOfNodes", 1)}
