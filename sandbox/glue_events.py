"""`Glue Job State Change` events, in the shape AWS Glue puts on EventBridge (AWS docs: 'Automating AWS
Glue with EventBridge'), emitted by the sandbox whenever a scenario ends a run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

SEVERITY = {"SUCCEEDED": "INFO", "STOPPED": "INFO", "FAILED": "ERROR", "TIMEOUT": "WARN", "ERROR": "ERROR"}


def job_state_change_event(account: str, region: str, job: str, run_id: str, state: str, message: str = "",
                           at: datetime | None = None) -> dict[str, Any]:
    at = at or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Glue Job State Change",
        "source": "aws.glue",
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {"jobName": job, "severity": SEVERITY.get(state, "INFO"), "state": state, "jobRunId": run_id,
                   "message": message or f"Job run {state.lower()}"},
    }
