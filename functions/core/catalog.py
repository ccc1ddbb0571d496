"""The pipeline catalog: one description of the data lake that CDK, the handlers and the sandbox all read.

`config/<env>.yaml` is the source. Lambda functions get the same content as JSON inside their asset
(no YAML parser needed at run time). Validation checks the schema (types, ranges) and the cross
references (a job's topic exists, lineage names real components, no cycles) in one pass, so every error
is reported at once, each with its path, e.g. ``glue_jobs[2].max_workers: must be >= min_workers``.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

# Names that end up in AWS resource names, alarm names and SQL identifiers: a strict alphabet keeps
# shell and SQL metacharacters out of everything derived from the catalog.
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
SqlIdentifier = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,126}$")]
Prefix = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_/=-]*/$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mode(StrEnum):
    """How far a playbook may go on its own (runbook procedures, from watching to acting)."""

    OBSERVE = "observe"  # record the diagnosis only
    RECOMMEND = "recommend"  # notify with the plan and the exact command
    APPROVE = "approve"  # act after a person says yes
    AUTO = "auto"  # act, within the guardrails


class Topic(Strict):
    name: Name
    partitions: int = Field(ge=1)


class ConsumerGroup(Strict):
    name: Name
    topic: Name


class Msk(Strict):
    cluster_name: Name
    kafka_version: str = "3.6.0"
    broker_count: int = Field(ge=1)
    broker_instance_type: str = "kafka.m5.large"
    topics: list[Topic] = Field(min_length=1)
    consumer_groups: list[ConsumerGroup] = []


WorkerType = Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"]


class GlueJob(Strict):
    """A Glue job of the lake. Streaming jobs read a topic into landing/, batch jobs move data onward."""

    name: Name
    kind: Literal["streaming", "batch"]
    worker_type: WorkerType = "G.1X"
    min_workers: int = Field(ge=2)
    max_workers: int = Field(ge=2)
    # Streaming jobs: the topic and consumer group they read.
    topic: Name | None = None
    consumer_group: Name | None = None
    # Batch jobs: which table they load and how a re-run of one partition stays safe.
    loads_table: str | None = None
    partition_argument: str = "--partition"
    write_mode: Literal["overwrite_partition", "append"] = "overwrite_partition"
    reads_prefix: Prefix | None = None
    writes_prefix: Prefix | None = None
    schedule: str | None = None  # cron(...) for batch jobs, informational

    @field_validator("max_workers")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_workers")
        if minimum is not None and value < minimum:
            raise ValueError("must be >= min_workers")
        return value

    @property
    def streaming(self) -> bool:
        return self.kind == "streaming"


class Bucket(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")]
    versioning: bool
    zones: dict[Literal["landing", "staging", "curated"], Prefix]
    # Prefixes watched for freshness (newest object must be younger than the threshold).
    landing_prefixes: list[Prefix] = Field(min_length=1)
    # Where the batch jobs leave data quality results (e.g. Glue Data Quality output) under staging/.
    quality_flags_prefix: Prefix = "staging/_quality/"


class Table(Strict):
    schema_name: SqlIdentifier = Field(alias="schema")
    name: SqlIdentifier

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.name}"


class Redshift(Strict):
    cluster_id: Name
    database: SqlIdentifier
    db_user: SqlIdentifier
    port: int = Field(default=5439, ge=1150, le=65535)
    node_type: str
    number_of_nodes: int = Field(ge=1)
    schemas: list[SqlIdentifier] = Field(min_length=1)
    tables: list[Table] = Field(min_length=1)
    snapshot_retention_days: int = Field(default=7, ge=1)


class Thresholds(Strict):
    """The runbook's 'Key Metrics to Monitor', as numbers."""

    consumer_lag_messages: int = Field(default=10_000, ge=1)
    glue_success_rate_percent: float = Field(default=99.0, gt=0, le=100)
    redshift_cpu_percent: float = Field(default=80.0, gt=0, le=100)
    landing_freshness_minutes: int = Field(default=60, ge=1)
    stats_off_percent: float = Field(default=10.0, gt=0, le=100)
    long_query_seconds: int = Field(default=1800, ge=1)


class PlaybookGuardrails(Strict):
    mode: Mode
    cooldown_minutes: int = Field(ge=0)
    attempt_budget: int = Field(ge=0)  # actions per resource within budget_window_hours; 0 = never act
    budget_window_hours: int = Field(default=24, ge=1)
    # Destructive actions wait for a person even in auto mode, unless named here on purpose.
    auto_approve_destructive: list[Name] = []


class Guardrails(Strict):
    kill_switch_parameter: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]+$")]
    dry_run: bool = False
    max_glue_workers: int = Field(ge=2)  # blast-radius cap across any one job
    max_redshift_nodes: int = Field(ge=1)
    max_msk_brokers: int = Field(ge=1)
    scale_step_workers: int = Field(default=2, ge=1)
    lease_minutes: int = Field(default=60, ge=1)  # a scale-up is reverted after the alarm stays OK this long
    playbooks: dict[Literal["msk_consumer_lag", "glue_job_failure", "redshift_performance", "data_quality"],
                    PlaybookGuardrails]


class Notifications(Strict):
    on_call_topic: Name
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = []


class Edge(Strict):
    """`upstream` feeds `downstream`. Components are named kind:name (see Catalog.components)."""

    upstream: str
    downstream: str


class Catalog(Strict):
    env: Literal["dev", "staging", "prod"]
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")]
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]
    service_name: Name = "remedy"
    msk: Msk
    glue_jobs: list[GlueJob] = Field(min_length=1)
    s3: Bucket
    redshift: Redshift
    thresholds: Thresholds = Thresholds()
    guardrails: Guardrails
    notifications: Notifications
    lineage: list[Edge] = []

    # -- derived views used by CDK, handlers and sandbox ------------------------------------------------

    @property
    def prefix(self) -> str:
        """Prefix of every resource this service creates: remedy-dev-…"""
        return f"{self.service_name}-{self.env}"

    @cached_property
    def components(self) -> set[str]:
        names = {f"msk:{self.msk.cluster_name}"}
        names |= {f"topic:{t.name}" for t in self.msk.topics}
        names |= {f"glue:{j.name}" for j in self.glue_jobs}
        names |= {f"s3:{p}" for p in self.s3.landing_prefixes}
        names |= {f"s3:{p}" for p in self.s3.zones.values()}
        names |= {f"table:{t.qualified}" for t in self.redshift.tables}
        names.add(f"redshift:{self.redshift.cluster_id}")
        return names

    def glue_job(self, name: str) -> GlueJob:
        for job in self.glue_jobs:
            if job.name == name:
                return job
        raise KeyError(f"glue job {name!r} is not in the catalog")

    def streaming_job_for(self, topic: str, consumer_group: str | None = None) -> GlueJob | None:
        for job in self.glue_jobs:
            if job.streaming and job.topic == topic and (consumer_group in (None, job.consumer_group)):
                return job
        return None

    def topic(self, name: str) -> Topic:
        for topic in self.msk.topics:
            if topic.name == name:
                return topic
        raise KeyError(f"topic {name!r} is not in the catalog")

    def upstream_of(self, component: str) -> list[str]:
        """Every component that feeds `component`, nearest first (transitively)."""
        seen: list[str] = []
        frontier = [component]
        while frontier:
            current = frontier.pop(0)
            for edge in self.lineage:
                if edge.downstream == current and edge.upstream not in seen:
                    seen.append(edge.upstream)
                    frontier.append(edge.upstream)
        return seen

    def tables_qualified(self) -> set[str]:
        return {t.qualified for t in self.redshift.tables}


class CatalogError(Exception):
    """A catalog that does not validate. `errors` holds one 'path: message' line per problem."""

    def __init__(self, source: str, errors: list[str]):
        self.source = source
        self.errors = errors
        super().__init__(f"{source}: {len(errors)} error(s)\n" + "\n".join(errors))


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _schema_errors(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (check its spelling against the catalog reference)"
        elif item["type"] == "missing":
            message = "required field is missing"
        lines.append(f"{_path(tuple(item['loc']))}: {message}")
    return lines


def _items(data: Any, *path: str) -> list[dict[str, Any]]:
    """The mappings at `path` in raw catalog data; nothing where the schema check already complained."""
    node = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return [item for item in node if isinstance(item, dict)] if isinstance(node, list) else []


def _get(data: Any, *path: str) -> Any:
    node = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _reference_errors(data: dict[str, Any]) -> list[str]:  # noqa: C901, PLR0912 - a flat list of checks
    """Cross references, checked on the raw data so they are reported together with the schema's errors."""
    errors: list[str] = []
    topics = {t.get("name") for t in _items(data, "msk", "topics")}
    groups = {g.get("name") for g in _items(data, "msk", "consumer_groups")}
    tables = {f"{t.get('schema')}.{t.get('name')}" for t in _items(data, "redshift", "tables")}
    schemas = _get(data, "redshift", "schemas") or []
    jobs = _items(data, "glue_jobs")

    def dupes(where: str, names: list[Any]) -> None:
        for name in sorted({str(n) for n in names if names.count(n) > 1}):
            errors.append(f"{where}: duplicate name {name!r}")

    dupes("msk.topics", [t.get("name") for t in _items(data, "msk", "topics")])
    dupes("glue_jobs", [j.get("name") for j in jobs])
    dupes("redshift.tables", [f"{t.get('schema')}.{t.get('name')}" for t in _items(data, "redshift", "tables")])

    for i, group in enumerate(_items(data, "msk", "consumer_groups")):
        if group.get("topic") not in topics:
            errors.append(f"msk.consumer_groups[{i}].topic: unknown topic {group.get('topic')!r}")
    cap = _get(data, "guardrails", "max_glue_workers")
    for i, job in enumerate(jobs):
        where = f"glue_jobs[{i}]"
        if isinstance(cap, int) and isinstance(job.get("max_workers"), int) and job["max_workers"] > cap:
            errors.append(f"{where}.max_workers: exceeds guardrails.max_glue_workers ({cap})")
        if job.get("kind") == "streaming":
            if job.get("topic") is None:
                errors.append(f"{where}.topic: a streaming job needs the topic it reads")
            elif job["topic"] not in topics:
                errors.append(f"{where}.topic: unknown topic {job['topic']!r}")
            if job.get("consumer_group") is not None and job["consumer_group"] not in groups:
                errors.append(f"{where}.consumer_group: unknown consumer group {job['consumer_group']!r}")
        if job.get("loads_table") is not None and job["loads_table"] not in tables:
            errors.append(f"{where}.loads_table: unknown table {job['loads_table']!r}")
    for i, table in enumerate(_items(data, "redshift", "tables")):
        if isinstance(schemas, list) and table.get("schema") not in schemas:
            errors.append(f"redshift.tables[{i}].schema: schema {table.get('schema')!r} is not in redshift.schemas")
    landing = _get(data, "s3", "zones", "landing")
    for i, prefix in enumerate(_get(data, "s3", "landing_prefixes") or []):
        if not isinstance(landing, str) or not str(prefix).startswith(landing):
            errors.append(f"s3.landing_prefixes[{i}]: must lie under the landing zone ({landing!r})")
    for field, cap_name in (("redshift.number_of_nodes", "max_redshift_nodes"),
                            ("msk.broker_count", "max_msk_brokers")):
        value, limit = _get(data, *field.split(".")), _get(data, "guardrails", cap_name)
        if isinstance(value, int) and isinstance(limit, int) and value > limit:
            errors.append(f"{field}: exceeds guardrails.{cap_name}")
    errors += _lineage_errors(data)
    return errors


def _lineage_errors(data: dict[str, Any]) -> list[str]:
    known = {f"msk:{_get(data, 'msk', 'cluster_name')}", f"redshift:{_get(data, 'redshift', 'cluster_id')}"}
    known |= {f"topic:{t.get('name')}" for t in _items(data, "msk", "topics")}
    known |= {f"glue:{j.get('name')}" for j in _items(data, "glue_jobs")}
    known |= {f"s3:{p}" for p in (_get(data, "s3", "landing_prefixes") or [])}
    known |= {f"s3:{p}" for p in (_get(data, "s3", "zones") or {}).values()}
    known |= {f"table:{t.get('schema')}.{t.get('name')}" for t in _items(data, "redshift", "tables")}
    errors = []
    edges = _items(data, "lineage")
    for i, edge in enumerate(edges):
        for end in ("upstream", "downstream"):
            if end in edge and edge[end] not in known:
                errors.append(f"lineage[{i}].{end}: unknown component {edge[end]!r} "
                              f"(components are named like glue:<job>, topic:<name>, table:<schema.table>)")
    # A cycle would make a component its own upstream: the lineage hold could then never release.
    feeds: dict[str, set[str]] = {}
    for edge in edges:
        feeds.setdefault(str(edge.get("upstream")), set()).add(str(edge.get("downstream")))
    for i, edge in enumerate(edges):
        start, seen, frontier = str(edge.get("upstream")), set(), [str(edge.get("downstream"))]
        while frontier:
            node = frontier.pop()
            if node == start:
                errors.append(f"lineage[{i}]: makes a cycle through {start!r}")
                break
            if node not in seen:
                seen.add(node)
                frontier += feeds.get(node, set())
        else:
            continue
        break  # one cycle is reported once
    return errors


def parse_catalog(data: Any, source: str = "catalog") -> Catalog:
    """Validate raw catalog data; raise CatalogError with every problem and its path."""
    if not isinstance(data, dict):
        raise CatalogError(source, ["(top level): must be a mapping of catalog sections"])
    errors = _reference_errors(data)
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as error:
        raise CatalogError(source, _schema_errors(error) + errors) from None
    if errors:
        raise CatalogError(source, errors)
    return catalog


def load_catalog(path: str | Path) -> Catalog:
    """Read config/<env>.yaml (or the .json a Lambda asset carries) and validate it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(str(path), [f"(file): cannot read: {error.strerror or error}"]) from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CatalogError(str(path), [f"(file): not valid JSON: {error}"]) from None
    else:
        import yaml  # only the CLI, CDK and sandbox read YAML; Lambda assets carry JSON

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise CatalogError(str(path), [f"(file): not valid YAML: {_one_line(str(error))}"]) from None
    return parse_catalog(data, str(path))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def catalog_path_for(env: str, root: Path | None = None) -> Path:
    root = root or Path(__file__).resolve().parents[2]
    return root / "config" / f"{env}.yaml"
