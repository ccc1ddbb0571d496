"""What starts a procedure: its input, validated against the schema and the catalog before anything runs.

The CLI validates here before it calls StartExecution (bad input: one line, exit 2, nothing started) and the
first step of every state machine validates the same way (a run started from the console with bad input
ends in its failure path at once, having changed nothing). Messages are one line, `field: what is wrong`.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from functions.core.catalog import Catalog, WorkerType

IncidentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")]
MAX_RANGE = timedelta(days=90)  # CloudTrail event history keeps 90 days; no restore reaches further back
CLOCK_SKEW = timedelta(minutes=5)

_ACCOUNT = r"(?P<account>\d{12})"
_PATH_NAME = r"(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]{1,64})"
PRINCIPAL_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("user", re.compile(rf"^arn:aws[a-z-]*:iam::{_ACCOUNT}:user/{_PATH_NAME}$")),
    ("role", re.compile(rf"^arn:aws[a-z-]*:iam::{_ACCOUNT}:role/{_PATH_NAME}$")),
    ("role", re.compile(rf"^arn:aws[a-z-]*:sts::{_ACCOUNT}:assumed-role/(?P<name>[\w+=,.@-]{{1,64}})/[\w+=,.@-]+$")),
    ("user", re.compile(r"^user/(?P<name>[\w+=,.@-]{1,64})$")),
    ("role", re.compile(r"^role/(?P<name>[\w+=,.@-]{1,64})$")),
    ("access_key", re.compile(r"^(?P<name>AKIA[A-Z0-9]{16})$")),
    ("temporary_key", re.compile(r"^(?P<name>ASIA[A-Z0-9]{16})$")),
)
PRINCIPAL_HELP = ("an IAM user or role ARN, an assumed-role ARN, user/NAME, role/NAME, or an access key id "
                  "(AKIA… or ASIA…)")


class InputRefused(ValueError):
    """Bad input for a procedure: the message is one line a person can act on."""


class ProcedureInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    procedure: str
    incident_id: IncidentId
    requested_by: str = Field(default="", max_length=256)
    reason: str = Field(default="", max_length=1000)
    # Started by an alarm (functions/procedures/start.py): which one, and the delivery (Lambda request) that
    # started it. Each delivery has its own id, so a second delivery of the same state change asks for the
    # same execution name with another input: Step Functions refuses it (ExecutionAlreadyExists) instead of
    # answering with the run already going on.
    alarm: str = Field(default="", max_length=255)
    delivery: str = Field(default="", max_length=128)
    # No answer (or heartbeat) within this window: the approval ends the run in its failure path.
    approval_timeout_seconds: int = Field(ge=1, le=86_399)
    poll_seconds: int = Field(default=60, ge=1, le=3600)
    # How long a step waits for what AWS finishes later (a resize, a broker update, a table restore, a Glue
    # stop) before it ends in the failure path instead of waiting forever; `max_polls` follows from it.
    max_wait_minutes: int = Field(default=360, ge=1, le=2880)
    max_polls: int = Field(default=0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _polls(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("max_polls"):
            try:
                wait, poll = int(data.get("max_wait_minutes", 360)) * 60, int(data.get("poll_seconds", 60))
            except (TypeError, ValueError):
                return data  # the fields' own validation says what is wrong
            data = {**data, "max_polls": max(-(-wait // max(poll, 1)), 1)}
        return data

    def check(self, catalog: Catalog, now: datetime) -> None:
        """Cross-checks against the catalog and the clock; raise InputRefused."""


class TimeRange(ProcedureInput):
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-11-25T10:00:00Z")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError(f"end: {self.end:%Y-%m-%dT%H:%M:%SZ} is not after start {self.start:%Y-%m-%dT%H:%M:%SZ} "
                             f"(inverted time range)")
        if self.end - self.start > MAX_RANGE:
            raise ValueError(f"end: the range spans more than {MAX_RANGE.days} days")
        return self

    def check(self, catalog: Catalog, now: datetime) -> None:
        if self.start > now + CLOCK_SKEW:
            raise InputRefused(f"start: {self.start:%Y-%m-%dT%H:%M:%SZ} is in the future")
        if self.start < now - MAX_RANGE:
            raise InputRefused(f"start: more than {MAX_RANGE.days} days ago (CloudTrail and snapshots do not reach)")


class ServiceOutageInput(ProcedureInput):
    procedure: Literal["service-outage"] = "service-outage"
    window_hours: int = Field(default=24, ge=1, le=168)  # evidence: deployments and changes this far back


class DataCorruptionInput(TimeRange):
    procedure: Literal["data-corruption"] = "data-corruption"
    tables: list[str] = Field(default=[], max_length=20)  # schema.table, from the catalog
    prefixes: list[str] = Field(default=[], max_length=20)  # S3 prefixes under the catalog's data prefixes

    def check(self, catalog: Catalog, now: datetime) -> None:
        super().check(catalog, now)
        if not self.tables and not self.prefixes:
            raise InputRefused("tables: name at least one affected table or S3 prefix")
        known = {t.qualified: t for t in catalog.redshift.tables}
        for table in self.tables:
            if table not in known:
                raise InputRefused(f"tables: unknown table {table!r} (catalog tables: {', '.join(sorted(known))})")
            if known[table].time_column is None:
                raise InputRefused(f"tables: {table} has no time_column in the catalog: a range cannot be checked")
        roots = data_prefixes(catalog)
        for prefix in self.prefixes:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_/=.-]*/", prefix) or ".." in prefix:
                raise InputRefused(f"prefixes: {prefix!r} is not an S3 prefix ending in '/'")
            if not any(prefix.startswith(root) for root in roots):
                raise InputRefused(f"prefixes: unknown prefix {prefix!r} (under: {', '.join(sorted(roots))})")


class SecurityIncidentInput(TimeRange):
    procedure: Literal["security-incident"] = "security-incident"
    principal: str = Field(max_length=2048)

    def check(self, catalog: Catalog, now: datetime) -> None:
        super().check(catalog, now)
        kind, _name, account = parse_principal(self.principal)
        if account and account != catalog.account_id:
            raise InputRefused(f"principal: {self.principal} is in account {account}, not {catalog.account_id}")
        del kind


class ScaleGlueInput(ProcedureInput):
    procedure: Literal["scale-glue"] = "scale-glue"
    job: str
    workers: int = Field(ge=2)
    worker_type: WorkerType | None = None  # None: keep the job's

    def check(self, catalog: Catalog, now: datetime) -> None:
        if self.job not in {j.name for j in catalog.glue_jobs}:
            raise InputRefused(f"job: unknown Glue job {self.job!r} "
                               f"(catalog jobs: {', '.join(j.name for j in catalog.glue_jobs)})")
        cap = catalog.guardrails.max_glue_workers
        if self.workers > cap:
            raise InputRefused(f"workers: {self.workers} is above the cap guardrails.max_glue_workers ({cap})")


class ScaleMskInput(ProcedureInput):
    procedure: Literal["scale-msk"] = "scale-msk"
    brokers: int = Field(ge=1)

    def check(self, catalog: Catalog, now: datetime) -> None:
        cap = catalog.guardrails.max_msk_brokers
        if self.brokers > cap:
            raise InputRefused(f"brokers: {self.brokers} is above the cap guardrails.max_msk_brokers ({cap})")


class ScaleRedshiftInput(ProcedureInput):
    procedure: Literal["scale-redshift"] = "scale-redshift"
    nodes: int = Field(ge=1)
    node_type: Annotated[str, Field(pattern=r"^(ra3|dc2|ds2)\.[a-z0-9]{2,16}$")] | None = None  # None: keep it

    def check(self, catalog: Catalog, now: datetime) -> None:
        cap = catalog.guardrails.max_redshift_nodes
        if self.nodes > cap:
            raise InputRefused(f"nodes: {self.nodes} is above the cap guardrails.max_redshift_nodes ({cap})")


INPUTS: dict[str, type[ProcedureInput]] = {
    "service-outage": ServiceOutageInput, "data-corruption": DataCorruptionInput,
    "security-incident": SecurityIncidentInput, "scale-glue": ScaleGlueInput, "scale-msk": ScaleMskInput,
    "scale-redshift": ScaleRedshiftInput,
}


def catalog_defaults(procedure: str, catalog: Catalog) -> dict[str, Any]:
    """What a start leaves out, from the catalog: the approval window, the poll interval, the evidence window."""
    defaults: dict[str, Any] = {"approval_timeout_seconds": catalog.procedures.approval_timeout_minutes * 60,
                                "poll_seconds": catalog.procedures.poll_seconds}
    if procedure == "service-outage":
        defaults["window_hours"] = catalog.procedures.evidence_window_hours
    return defaults


def data_prefixes(catalog: Catalog) -> set[str]:
    """Every S3 prefix the catalog knows data under: zones, landing prefixes, jobs' inputs and outputs."""
    roots = set(catalog.s3.zones.values()) | set(catalog.s3.landing_prefixes)
    for job in catalog.glue_jobs:
        roots |= {p for p in (job.reads_prefix, job.writes_prefix) if p}
    return roots


def parse_principal(text: str) -> tuple[str, str, str]:
    """(kind, name, account or '') of a principal in one of PRINCIPAL_FORMATS; InputRefused otherwise."""
    for kind, pattern in PRINCIPAL_FORMATS:
        match = pattern.match(text.strip())
        if match:
            groups = match.groupdict()
            return kind, groups["name"], groups.get("account") or ""
    raise InputRefused(f"principal: {text[:80]!r} is not {PRINCIPAL_HELP}")


def _one_line(error: ValidationError) -> str:
    item = error.errors()[0]
    where = ".".join(str(p) for p in item["loc"]) or "input"
    message = item["msg"].removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        message = "unknown field"
    elif item["type"] == "missing":
        message = "required"
    if message.startswith(("end:", "start:")):
        return message
    return f"{where}: {message}"


def validate(procedure: str, data: dict[str, Any], catalog: Catalog, now: datetime | None = None) -> ProcedureInput:
    """The input of `procedure`, checked against its schema, the catalog and the clock."""
    model = INPUTS.get(procedure)
    if model is None:
        raise InputRefused(f"unknown procedure {procedure!r} (known: {', '.join(INPUTS)})")
    try:
        parsed = model.model_validate({**data, "procedure": procedure})
    except ValidationError as error:
        raise InputRefused(_one_line(error)) from None
    parsed.check(catalog, now or datetime.now(UTC))
    return parsed


def default_incident_id(procedure: str, data: dict[str, Any], now: datetime) -> str:
    """Same procedure, same input, same day: the same id, so an accidental second start is refused."""
    canonical = json.dumps({k: v for k, v in sorted(data.items())
                            if k not in {"incident_id", "requested_by", "delivery"}},
                           sort_keys=True, default=str)
    digest = hashlib.sha256(f"{procedure}\0{canonical}".encode()).hexdigest()[:6]
    return f"{procedure}-{now:%Y%m%d}-{digest}"
