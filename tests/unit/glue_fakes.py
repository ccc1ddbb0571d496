"""In-memory fakes of the ports the glue_job_failure and data_quality playbooks reach (state to read back)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.core.ports import (
    GlueConnection,
    JobDefinition,
    JobRun,
    PolicyDecision,
    S3Object,
    SecurityGroup,
)
from tests.unit.fakes import FakeAlarms, FakeGlue

ACCOUNT = "111111111111"
BOOKMARK_ON = {"--job-bookmark-option": "job-bookmark-enable"}
BOOKMARK_OFF = {"--job-bookmark-option": "job-bookmark-disable"}


def role_arn(job: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/remedy-dev-glue-{job}"


class FakeGlueRuns(FakeGlue):
    """FakeGlue with what a failure diagnosis reads: whole job definitions, run arguments and attempts,
    single runs and connections. `start_state` is the state a started run is in when read back."""

    def __init__(self) -> None:
        super().__init__()
        self.connections: dict[str, GlueConnection] = {}
        self.start_state = "RUNNING"
        self.started_ids: list[str] = []
        self._run_ids = itertools.count(100)

    def define(self, name: str, workers: int = 2, worker_type: str = "G.1X", default_arguments: dict[str, str] | None
               = None, connections: list[str] | None = None, max_retries: int = 0) -> None:
        raw: dict[str, Any] = {"Name": name, "Role": role_arn(name), "NumberOfWorkers": workers,
                               "WorkerType": worker_type, "MaxRetries": max_retries,
                               "DefaultArguments": dict(BOOKMARK_ON if default_arguments is None else default_arguments),
                               "Command": {"Name": "glueetl", "ScriptLocation": f"s3://retail-datalake-dev/scripts/"
                                                                               f"{name}.py"}}
        if connections:
            raw["Connections"] = {"Connections": list(connections)}
        self.jobs[name] = JobDefinition(name=name, workers=workers, worker_type=worker_type, raw=raw)
        self.runs.setdefault(name, [])

    def add_run(self, name: str, state: str, workers: int | None = 2, worker_type: str | None = "G.1X",
                error: str = "", arguments: dict[str, str] | None = None, attempt: int = 0,
                started_on: datetime | None = None) -> str:
        run_id = f"jr_{next(self._run_ids):064x}"
        self.runs[name].insert(0, JobRun(id=run_id, state=state, started_on=started_on, workers=workers,
                                         worker_type=worker_type, error=error, arguments=dict(arguments or {}),
                                         attempt=attempt))
        return run_id

    def start_run(self, name: str, workers: int | None = None, worker_type: str | None = None,
                  arguments: dict[str, str] | None = None) -> str:
        run_id = super().start_run(name, workers, worker_type, arguments)
        new_id = f"jr_{next(self._run_ids):064x}"
        self.runs[name] = [replace(r, id=new_id, state=self.start_state) if r.id == run_id else r
                           for r in self.runs[name]]
        self.started_ids.append(new_id)
        return new_id

    def get_run(self, name: str, run_id: str) -> JobRun:
        return self.run_by_id(name, run_id)

    def get_connection(self, name: str) -> GlueConnection:
        if name not in self.connections:
            raise ClientError({"Error": {"Code": "EntityNotFoundException", "Message": name}}, "GetConnection")
        return self.connections[name]

    def started(self, name: str) -> list[JobRun]:
        """Runs this service started (start_run), newest first."""
        return [r for r in self.runs[name] if r.id in self.started_ids]


class FakeLogs:
    """Log groups -> streams -> lines. Records each read, to check it stays small."""

    def __init__(self) -> None:
        self.streams: dict[tuple[str, str], list[str]] = {}
        self.reads: list[dict[str, Any]] = []
        self.error: Exception | None = None

    def write(self, group: str, stream: str, lines: list[str]) -> None:
        self.streams.setdefault((group, stream), []).extend(lines)

    def matching_lines(self, group: str, stream_prefix: str, pattern: str, limit: int,
                       start: datetime | None = None) -> list[str]:
        self.reads.append({"group": group, "stream_prefix": stream_prefix, "limit": limit})
        if self.error is not None:
            raise self.error
        terms = [t.lstrip("?") for t in pattern.split()]
        lines = [line for (g, s), stream in self.streams.items() if g == group and s.startswith(stream_prefix)
                 for line in stream if any(t in line for t in terms)]
        return lines[:limit]


class FakeIam:
    """Allowed (action, resource ARN) pairs per principal; explicit denies win."""

    def __init__(self) -> None:
        self.allowed: dict[str, set[tuple[str, str]]] = {}
        self.denied: dict[str, set[tuple[str, str]]] = {}
        self.calls: list[tuple[str, list[str], list[str]]] = []

    def allow(self, principal: str, action: str, resource: str) -> None:
        self.allowed.setdefault(principal, set()).add((action, resource))

    def simulate(self, principal_arn: str, actions: list[str], resources: list[str]) -> list[PolicyDecision]:
        self.calls.append((principal_arn, list(actions), list(resources)))
        decisions = []
        for action in actions:
            for resource in resources:
                if (action, resource) in self.denied.get(principal_arn, set()):
                    decision = "explicitDeny"
                elif (action, resource) in self.allowed.get(principal_arn, set()):
                    decision = "allowed"
                else:
                    decision = "implicitDeny"
                decisions.append(PolicyDecision(action, resource, decision))
        return decisions


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[datetime, bytes]] = {}
        self.listings: list[tuple[str, str, str | None]] = []

    def put(self, bucket: str, key: str, at: datetime, body: Any = b"{}") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.objects[(bucket, key)] = (at, data)

    def newest_object(self, bucket: str, prefix: str, start_after: str | None = None) -> S3Object | None:
        self.listings.append((bucket, prefix, start_after))
        keys = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix)
                      and (start_after is None or k > start_after))[:1000]
        if not keys:
            return None
        key = max(keys, key=lambda k: self.objects[(bucket, k)][0])
        at, data = self.objects[(bucket, key)]
        return S3Object(key=key, last_modified=at, size=len(data))

    def read_json(self, bucket: str, key: str) -> dict[str, Any] | None:
        if (bucket, key) not in self.objects:
            return None
        data = json.loads(self.objects[(bucket, key)][1])
        return data if isinstance(data, dict) else None


class FakeNetwork:
    def __init__(self) -> None:
        self.groups: dict[str, SecurityGroup] = {}
        self.subnets: dict[str, str] = {}

    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup]:
        return {i: self.groups[i] for i in ids if i in self.groups}

    def subnet_cidr(self, subnet_id: str) -> str | None:
        return self.subnets.get(subnet_id)


class FakeKafka:
    def __init__(self, clusters: dict[str, tuple[str, ...]] | None = None):
        self.clusters = dict(clusters or {})

    def broker_security_groups(self, cluster_name: str) -> tuple[str, ...]:
        return self.clusters.get(cluster_name, ())

    def cluster_state(self, cluster_name: str) -> str | None:
        return "ACTIVE" if cluster_name in self.clusters else None


@dataclass
class GluePorts:
    glue: FakeGlueRuns
    alarms: FakeAlarms = field(default_factory=FakeAlarms)
    logs: FakeLogs = field(default_factory=FakeLogs)
    iam: FakeIam = field(default_factory=FakeIam)
    s3: FakeS3 = field(default_factory=FakeS3)
    network: FakeNetwork = field(default_factory=FakeNetwork)
    kafka: FakeKafka = field(default_factory=FakeKafka)
