"""What the procedure steps need from the outside world, in the runbook's terms. The domain modules of
functions/procedures depend on these only; functions/procedures/adapters.py implements them with boto3,
tests with in-memory fakes. Plain JSON-able values cross these ports (they end up in the state data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class Unavailable(Exception):
    """The service cannot answer for this account (e.g. Health and Support need a Business support plan)."""


class AlreadyStarted(Exception):
    """Step Functions refused StartExecution: an execution of that name exists (ExecutionAlreadyExists)."""


class ExecutionsPort(Protocol):
    """Step Functions, as the starter needs it (functions/procedures/start.py)."""

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """{arn, started} of the new execution; AlreadyStarted when Step Functions refuses the name."""
        ...

    def running(self, state_machine_arn: str) -> list[dict[str, Any]]:
        """[{name, arn, started}] of the state machine's executions still running."""
        ...

    def describe(self, execution_arn: str) -> dict[str, Any] | None:
        """{status, started, input} of one execution, None if it does not exist."""
        ...


class ApprovalStore(Protocol):
    def put_pending(self, item: dict[str, Any]) -> None:
        """Record (or replace, while still pending) the approval's token and what it is about."""
        ...

    def pending(self, incident_id: str) -> list[dict[str, Any]]: ...

    def close(self, incident_id: str, key: str, status: str, by: str, reason: str, at: datetime) -> bool:
        """Mark a pending approval answered; False when it was no longer pending."""
        ...

    def waiting(self) -> list[dict[str, Any]]:
        """Every approval still pending, of every incident (the reminder sweep)."""
        ...

    def remind(self, incident_id: str, key: str, at: datetime) -> bool:
        """Mark a pending approval reminded; False when it was reminded or answered before."""
        ...


class AuditLog(Protocol):
    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None: ...


class Notifier(Protocol):
    def publish(self, subject: str, message: str, card: dict[str, Any] | None = None) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class OutagePorts(Protocol):
    def alarms_in_alarm(self, prefix: str) -> list[dict[str, Any]]:
        """[{name, reason, since}] of the service's own alarms (metric and composite) in ALARM."""
        ...

    def stacks_changed_since(self, since: datetime) -> list[dict[str, Any]]:
        """[{name, status, at}] of CloudFormation stacks created or updated since `since`."""
        ...

    def job_definition(self, name: str) -> dict[str, Any]:
        """GetJob's Job (LastModifiedOn as an ISO string)."""
        ...

    def audit_since(self, since: datetime) -> list[dict[str, Any]]:
        """Audit records at or after `since`: [{incident_id, kind, at, payload}]."""
        ...

    def health_events(self, since: datetime) -> list[dict[str, Any]]:
        """Open or recent AWS Health events; Unavailable without a Business support plan."""
        ...


class SupportPort(Protocol):
    def create_case(self, subject: str, body: str) -> str:
        """The case id; Unavailable when the account has no support plan that allows the API."""
        ...


class GluePort(Protocol):
    def job_definition(self, name: str) -> dict[str, Any]: ...
    def job_update_fields(self) -> tuple[str, ...]:
        """The members of UpdateJob's JobUpdate, as the service model lists them."""
        ...

    def runs(self, name: str, limit: int = 25) -> list[dict[str, Any]]:
        """GetJobRuns, newest first: [{id, state, arguments, started_on}]."""
        ...

    def start_run(self, name: str, arguments: dict[str, str]) -> str: ...
    def trigger_state(self, name: str) -> str | None:
        """The trigger's State (ACTIVATED, DEACTIVATED, …) or None when it does not exist."""
        ...


class WarehousePort(Protocol):
    """Redshift: snapshots through the Redshift API, SQL through the Redshift Data API."""

    def snapshots(self, cluster: str) -> list[dict[str, Any]]:
        """[{id, created (datetime), status, type}] of the cluster's snapshots."""
        ...

    def query(self, sql: str) -> list[list[Any]]:
        """Rows of one statement."""
        ...

    def run_in_transaction(self, statements: list[str]) -> None: ...


class BucketPort(Protocol):
    def versioning(self, bucket: str) -> str:
        """Enabled | Suspended | '' (never enabled)."""
        ...

    def versions(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        """Every version and delete marker under the prefix: [{key, version_id, modified, etag, latest,
        delete_marker}]."""
        ...

    def copy_version(self, bucket: str, key: str, version_id: str) -> str:
        """Make that version the current one again (a copy); the new version id."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Delete the current version (a delete marker: the versions stay)."""
        ...


class IdentityPort(Protocol):
    def access_key_owner(self, access_key_id: str) -> str | None: ...
    def access_keys(self, user: str) -> list[dict[str, Any]]:
        """[{id, status, created}] of the user's access keys."""
        ...

    def exists(self, kind: str, name: str) -> bool: ...
    def policies(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Attached and inline policies of a user (and its groups) or role: [{name, source, arn, document}]."""
        ...


class NetworkPort(Protocol):
    def ingress(self, group_ids: list[str]) -> list[dict[str, Any]]:
        """Every ingress rule: [{group_id, protocol, from_port, to_port, cidr}] (one CIDR per rule)."""
        ...


class TrailPort(Protocol):
    def events(self, attribute: tuple[str, str] | None, start: datetime, end: datetime,
               limit: int = 1000) -> list[dict[str, Any]]:
        """CloudTrail event history, newest first: [{name, source, time, read_only, access_key, username,
        error, ip, region, identity_arn, resources}]."""
        ...


class ClusterPort(Protocol):
    def msk_cluster(self, name: str) -> dict[str, Any] | None:
        """{arn, state, brokers, zones, version} of the MSK cluster, None if it does not exist."""
        ...

    def redshift_cluster(self, cluster_id: str) -> dict[str, Any] | None:
        """{status, node_type, nodes} of the Redshift cluster, None if it does not exist."""
        ...
