"""`CloudWatch Alarm State Change` events (as EventBridge delivers them) into incidents.

Anything that is not one of our alarms, in our account and region, is rejected with one line: a
remediation service must not be steerable by events it does not own.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.core.catalog import Catalog
from functions.core.models import Incident
from functions.core.naming import parse_alarm_name, signals

MAX_EVENT_BYTES = 256 * 1024  # EventBridge's own limit: anything larger did not come from it


class BadEvent(ValueError):
    """An event this service will not act on; the message is the one line a person reads."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AlarmState(_Loose):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = Field(default="", max_length=4096)
    timestamp: str = Field(min_length=10, max_length=40)


class MetricStat(_Loose):
    metric: dict[str, Any] = {}


class AlarmMetric(_Loose):
    id: str = ""
    metric_stat: MetricStat | None = Field(default=None, alias="metricStat")


class AlarmConfiguration(_Loose):
    description: str = ""
    metrics: list[AlarmMetric] = []


class AlarmDetail(_Loose):
    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=255)
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    configuration: AlarmConfiguration = AlarmConfiguration()


class AlarmStateChange(_Loose):
    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    time: str
    detail: AlarmDetail


def parse_timestamp(text: str) -> datetime:
    """CloudWatch writes '2019-10-02T17:04:40.989+0000'; EventBridge's own time is '...Z'."""
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text.replace("Z", "+0000"), fmt)
        except ValueError:
            continue
    raise BadEvent(f"state timestamp {text[:40]!r} is not a CloudWatch timestamp")


M = TypeVar("M", bound=BaseModel)

_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}


def json_type(value: Any) -> str:
    """What JSON calls the value's type (what a person wrote), e.g. 'array' rather than Python's 'list'."""
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)



def validated_event(event: Any, model: type[M], kind: str, noun: str, catalog: Catalog) -> M:
    """`event` validated as `model`, from this service's account and region, or BadEvent in one line."""
    if not isinstance(event, dict):
        raise BadEvent(f"event must be a JSON object, got {json_type(event)}")
    if len(json.dumps(event, default=str)) > MAX_EVENT_BYTES:
        raise BadEvent("event is larger than EventBridge's 256 KB limit")
    try:
        change = model.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "(event)"
        raise BadEvent(f"not a {kind} event: {path}: {first['msg']}") from None
    account, region = getattr(change, "account", ""), getattr(change, "region", "")
    if account != catalog.account_id or region != catalog.region:
        raise BadEvent(f"{noun} from account {account} in {region}: this service watches "
                       f"{catalog.account_id} in {catalog.region} only")
    return change


class ScheduledEvent(_Loose):
    source: Literal["aws.events"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    time: str = Field(max_length=40)


def parse_scheduled_event(event: Any, catalog: Catalog) -> datetime:
    """The time an EventBridge schedule fired for, from this service's own rules (account and region), or
    BadEvent: a schedule from elsewhere must not make the playbooks give back leases or close windows."""
    change = validated_event(event, ScheduledEvent, "Scheduled Event", "scheduled event", catalog)
    return parse_timestamp(change.time)


def parse_alarm_event(event: Any, catalog: Catalog, playbook: str | None = None) -> Incident:
    """The incident an event describes, or BadEvent with the reason in one line."""
    change = validated_event(event, AlarmStateChange, "CloudWatch Alarm State Change", "alarm", catalog)
    detail = change.detail
    name = parse_alarm_name(detail.alarm_name, catalog.prefix)
    owner = _owner(name.signal, playbook) if name is not None else None
    if name is None or owner is None:
        raise BadEvent(f"alarm {detail.alarm_name[:120]!r} is not one of {catalog.prefix}'s remediable alarms")
    if playbook is not None and owner != playbook:
        raise BadEvent(f"alarm {detail.alarm_name!r} belongs to playbook {owner}, not {playbook}")
    if name.component not in catalog.components:
        raise BadEvent(f"alarm {detail.alarm_name!r} names component {name.component!r}, not in the catalog")
    changed_at = parse_timestamp(detail.state.timestamp)
    return Incident(
        id=f"{detail.alarm_name}@{detail.state.timestamp}",
        alarm_name=detail.alarm_name,
        state=detail.state.value,
        previous_state=detail.previous_state.value if detail.previous_state else None,
        reason=detail.state.reason,
        changed_at=changed_at,
        previous_changed_at=(parse_timestamp(detail.previous_state.timestamp) if detail.previous_state else None),
        account=change.account,
        region=change.region,
        playbook=owner,
        resource=name.component,
        dimensions=_dimensions(detail.configuration),
    )


def _owner(signal: str, playbook: str | None) -> str | None:
    """The playbook a signal is routed to. A function's own signals are answered from its own declaration (its
    module is loaded already); only another playbook's signal loads them all, to name the owner."""
    from functions.playbooks import declaration, playbook_names

    if playbook in playbook_names() and signal in declaration(playbook or "").signals:
        return playbook
    return signals().get(signal)


def _dimensions(configuration: AlarmConfiguration) -> dict[str, str]:
    dimensions: dict[str, str] = {}
    for metric in configuration.metrics:
        if metric.metric_stat:
            raw = metric.metric_stat.metric.get("dimensions", {})
            if isinstance(raw, dict):
                dimensions.update({str(k): str(v) for k, v in raw.items()})
    return dimensions


# --- `Glue Job State Change` events (AWS Glue on EventBridge) ------------------------------------------

GLUE_FAILURE_STATES = ("FAILED", "TIMEOUT", "ERROR")


class GlueJobDetail(_Loose):
    job_name: str = Field(alias="jobName", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
    job_run_id: str = Field(alias="jobRunId", pattern=r"^jr_[A-Za-z0-9_-]{1,250}$")
    state: str = Field(pattern=r"^[A-Z_]{1,32}$")
    severity: str = ""
    message: str = Field(default="", max_length=8192)


class GlueJobStateChange(_Loose):
    source: Literal["aws.glue"]
    detail_type: Literal["Glue Job State Change"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    time: str = Field(min_length=10, max_length=40)
    detail: GlueJobDetail


def parse_glue_event(event: Any, catalog: Catalog, playbook: str | None = None) -> Incident:
    """The incident a `Glue Job State Change` event describes, or BadEvent with the reason in one line.

    The incident id is job + run + state: a redelivered event is the same incident (a duplicate), while the
    failure of a retry (another run id) is a new one. The playbook sees state ALARM; the run's Glue state
    is in `dimensions`."""
    change = validated_event(event, GlueJobStateChange, "Glue Job State Change", "Glue event", catalog)
    detail = change.detail
    if f"glue:{detail.job_name}" not in catalog.components:
        raise BadEvent(f"glue job {detail.job_name!r} is not in the catalog")
    states = _glue_states(playbook)
    if detail.state not in states:
        raise BadEvent(f"glue job {detail.job_name} run {detail.job_run_id[:24]} is {detail.state}: "
                       f"{playbook or 'this service'} answers {', '.join(states)} only")
    changed_at = parse_timestamp(change.time)
    message = detail.message.strip()
    return Incident(
        id=f"glue-job-state/{detail.job_name}/{detail.job_run_id}/{detail.state}",
        alarm_name=f"Glue Job State Change: {detail.job_name} run {detail.job_run_id} {detail.state}",
        state="ALARM",
        reason=message[:1024],
        changed_at=changed_at,
        account=change.account,
        region=change.region,
        playbook=playbook or "glue_job_failure",
        resource=f"glue:{detail.job_name}",
        dimensions={"JobName": detail.job_name, "JobRunId": detail.job_run_id, "JobRunState": detail.state},
    )


def _glue_states(playbook: str | None) -> tuple[str, ...]:
    """The states the playbook's Glue Job State Change route delivers (its declaration), failures by default."""
    from functions.playbooks import declaration, playbook_names

    declared = declaration(playbook) if playbook in playbook_names() else None
    return tuple(getattr(declared, "glue_job_states", ()) or GLUE_FAILURE_STATES)
