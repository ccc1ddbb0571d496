"""Glue jobs and runs (GluePort)."""

from __future__ import annotations

from typing import Any

from functions.core.adapters.clients import Clients
from functions.core.ports import GlueConnection, JobDefinition, JobRun


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
