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

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

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


SecurityGroupId = Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]
Cidr = Annotated[str, Field(pattern=r"^[0-9a-fA-F:.]+/[0-9]{1,3}$")]


class Msk(Strict):
    cluster_name: Name
    kafka_version: str = "3.6.0"
    broker_count: int = Field(ge=1)
    broker_instance_type: str = "kafka.m5.large"
    topics: list[Topic] = Field(min_length=1)
    consumer_groups: list[ConsumerGroup] = []
    # Security groups of the brokers: the security-incident procedure revokes ingress the catalog does not allow.
    security_group_ids: list[SecurityGroupId] = []


WorkerType = Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"]
WORKER_TYPES: tuple[str, ...] = ("G.025X", "G.1X", "G.2X", "G.4X", "G.8X")  # smallest first
LogGroup = Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./#-]{1,511}$")]
# s3://<bucket>/<prefix>/ of a Spark checkpoint (a "directory": it ends in '/').
CheckpointLocation = Annotated[str, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{2,62}/([A-Za-z0-9_.=-]+/)+$")]


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
    # The Glue trigger that runs it on `schedule` (the data-corruption procedure stops and resumes it), and
    # the IAM role the job runs as: UpdateJob passes it (iam:PassRole). Required: the roles belong to the
    # platform's Terraform, and a guessed name would be a grant on a role that does not exist.
    trigger: Name | None = None
    role_name: Name | None = None
    # Glue job failures (playbook glue_job_failure): the log group holding a run's errors (streams are named
    # after the run id: /aws-glue/jobs/error by default, or the job's own group, e.g. /aws-glue/jobs/<job>),
    # and whether a run that ran out of memory may be retried on the next bigger worker type, up to
    # max_worker_type (default: one type above worker_type).
    error_log_group: LogGroup = "/aws-glue/jobs/error"
    allow_worker_type_upgrade: bool = False
    max_worker_type: WorkerType | None = None
    # Streaming jobs: where the consumer-lag alarm's number comes from (README "Consumer lag: which metric").
    # checkpoint (default): the lag probe reads the job's Spark checkpoint (its newest committed batch) and the
    #   brokers' latest offsets: messages behind, whatever the job does with consumer groups;
    # msk: MSK's SumOffsetLag of consumer_group; only for a job that commits its offsets to that group (Spark
    #   does not: MSK then publishes nothing and the alarm cannot fire);
    # glue: Glue's own glue.driver.streaming.maxConsumerLagInMs (Glue 4.0+, Kafka option emitConsumerLagMetrics
    #   true): a time lag, so its threshold is lag_threshold_ms, not thresholds.consumer_lag_messages.
    lag_source: Literal["checkpoint", "msk", "glue"] = "checkpoint"
    # The job's Spark checkpoint: the `checkpointLocation` option the job's script gives
    # glueContext.forEachBatch (Glue's examples: <TempDir>/<job>/checkpoint/). Required with lag_source checkpoint.
    checkpoint_location: CheckpointLocation | None = None
    lag_threshold_ms: int | None = Field(default=None, ge=1000)

    @model_validator(mode="after")
    def _lag_source_is_complete(self) -> GlueJob:
        if not self.streaming:
            return self
        if self.lag_source == "checkpoint" and self.checkpoint_location is None:
            raise ValueError(f"job {self.name}: lag_source checkpoint (the default) needs checkpoint_location, the "
                             f"s3://bucket/prefix/ the job's script passes as checkpointLocation to forEachBatch")
        if self.lag_source == "msk" and self.consumer_group is None:
            raise ValueError(f"job {self.name}: lag_source msk needs the consumer_group that commits its offsets")
        if self.lag_source == "glue" and self.lag_threshold_ms is None:
            raise ValueError(f"job {self.name}: lag_source glue measures time: set lag_threshold_ms")
        return self

    @property
    def checkpoint_bucket(self) -> str:
        return (self.checkpoint_location or "").removeprefix("s3://").split("/", 1)[0]

    @property
    def checkpoint_prefix(self) -> str:
        """The checkpoint's key prefix in its bucket, ending in '/' (offsets/ and commits/ lie under it)."""
        return (self.checkpoint_location or "").removeprefix("s3://").partition("/")[2]

    @model_validator(mode="after")
    def _role_is_named(self) -> GlueJob:
        if not self.role_name:
            raise ValueError(f"job {self.name} has no role_name: name the IAM role it runs as (the Glue job's Role, "
                             f"from the platform's Terraform); the procedures pass it to UpdateJob (iam:PassRole)")
        return self

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

    def worker_type_upgrade(self, current: str | None) -> str | None:
        """The next bigger worker type a retry may use, or None when the catalog does not allow one."""
        if not self.allow_worker_type_upgrade:
            return None
        order = list(WORKER_TYPES)
        base = current if current in order else self.worker_type
        ceiling = self.max_worker_type or order[min(order.index(self.worker_type) + 1, len(order) - 1)]
        step = order.index(base) + 1
        if step >= len(order) or step > order.index(ceiling):
            return None
        return order[step]


class Bucket(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")]
    versioning: bool
    zones: dict[Literal["landing", "staging", "curated"], Prefix]
    # Prefixes watched for freshness (newest object must be younger than the threshold).
    landing_prefixes: list[Prefix] = Field(min_length=1)
    # Where the batch jobs leave data quality results under staging/: one JSON object per job and partition
    # at <quality_flags_prefix><job>/<partition>.json, {"passed": bool, "failed_rules": ["rule", ...]}
    # (see quality_flags_key); the data_quality playbook reads them.
    quality_flags_prefix: Prefix = "staging/_quality/"

    # How landing data is laid out by time under each landing prefix (strftime, e.g. landing/orders/2026/11/25/10/):
    # keys sort by time, so the freshness diagnosis lists only from the start of its window (one request).
    landing_partition_format: Annotated[str, Field(pattern=r"^(%[YmdH]|[a-z_]+=|[/_-])+$")] = "%Y/%m/%d/%H"

    def quality_flags_key(self, job: str, partition: str) -> str:
        return f"{self.quality_flags_prefix}{job}/{partition}.json"


class TableQuality(Strict):
    """Expectations the data-corruption procedure checks over a time range (columns of the table)."""

    unique: list[SqlIdentifier] = []  # no duplicate values
    not_null: list[SqlIdentifier] = []
    non_negative: list[SqlIdentifier] = []


class Table(Strict):
    schema_name: SqlIdentifier = Field(alias="schema")
    name: SqlIdentifier
    # The column that says when a row happened (ranges of the data-corruption procedure), and its checks.
    time_column: SqlIdentifier | None = None
    quality: TableQuality = TableQuality()

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
    # The cluster's parameter group (wlm_json_configuration): IAM scopes DescribeClusterParameters to it.
    parameter_group: Name = "default.redshift-1.0"
    # The cluster's security groups, and its admin secret in Secrets Manager (rotated by the security-incident
    # procedure; a Redshift-managed admin password rotates without a rotation function of ours).
    security_group_ids: list[SecurityGroupId] = []
    admin_secret: Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")] | None = None
    # A secret rotated by a Lambda function instead: RotateSecret then also needs lambda:InvokeFunction on that
    # function (Secrets Manager invokes it with the caller's permissions), so the procedure's role is granted it.
    # Unset: the secret is Redshift-managed (ManageMasterPassword), rotated by Secrets Manager itself.
    admin_secret_rotation_function: Name | None = None

    @model_validator(mode="after")
    def _rotation_needs_a_secret(self) -> Redshift:
        if self.admin_secret_rotation_function and not self.admin_secret:
            raise ValueError("admin_secret_rotation_function is set but admin_secret is not: name the secret it "
                             "rotates")
        return self


class Thresholds(Strict):
    """The runbook's 'Key Metrics to Monitor', as numbers."""

    consumer_lag_messages: int = Field(default=10_000, ge=1)
    glue_success_rate_percent: float = Field(default=99.0, gt=0, le=100)
    redshift_cpu_percent: float = Field(default=80.0, gt=0, le=100)
    landing_freshness_minutes: int = Field(default=60, ge=1)
    stats_off_percent: float = Field(default=10.0, gt=0, le=100)
    long_query_seconds: int = Field(default=1800, ge=1)
    # A query waiting longer than this in a WLM queue is queue pressure (redshift_performance).
    wlm_queue_wait_seconds: int = Field(default=300, ge=1)
    # The service is out (composite-service-outage, which starts the service-outage procedure) when this many
    # pipelines are faulty at once; one faulty pipeline is that pipeline's own pages and playbooks.
    outage_pipelines: int = Field(default=2, ge=2)


# Who may answer a question (functions/answers): an IAM principal as AWS verified it (the signed caller of the
# answer function's URL: a user ARN, or an assumed-role session arn:aws:sts::<account>:assumed-role/<role>/<session>),
# `*` matching any run of characters (arn:aws:sts::111111111111:assumed-role/OnCall/*); and Slack users as the
# Slack function verified them: a user id (U…/W…), optionally with its workspace (T…/U…), or `T…/*` for anyone in
# that workspace. Slack user group ids (S…) are refused: nothing resolves a group's members, so a group would
# never match (fail closed, silently); list its people's user ids instead.
IamPrincipalPattern = Annotated[str, Field(
    pattern=r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):[A-Za-z0-9+=,.@_/*:-]{1,512}$")]


def _no_user_groups(value: str) -> str:
    if value.rsplit("/", 1)[-1].startswith("S"):
        raise ValueError(f"{value!r} is a Slack user group: groups are not matched (nothing resolves their "
                         f"members); list the user ids (U…/W…) of the people who may answer")
    return value


ChatPrincipal = Annotated[str, Field(pattern=r"^([TE][A-Z0-9]{2,20}/)?([UWS][A-Z0-9]{2,20}|\*)$"),
                          AfterValidator(_no_user_groups)]


class Approvers(Strict):
    """Who may answer: anyone else is refused in one line (rule `allow-list`) and audited. Empty: nobody may."""

    iam: list[IamPrincipalPattern] = []
    chat: list[ChatPrincipal] = []
    # The person who started or requested what waits may not approve it (rule `two-person`). None: the
    # default of where it is used (playbooks: off, their questions come from alarms; procedures: on).
    two_person: bool | None = None


class ActionModes(Strict):
    """Earned autonomy of one action of a playbook (functions/core/autonomy.py): unset fields are the playbook's."""

    start: Mode | None = None
    floor: Mode | None = None
    ceiling: Mode | None = None  # at most the playbook's mode


MODE_ORDER = (Mode.OBSERVE, Mode.RECOMMEND, Mode.APPROVE, Mode.AUTO)


class PlaybookGuardrails(Strict):
    # The ceiling: the most this playbook may do on its own. Its effective mode (functions/core/autonomy.py)
    # starts at start_mode and moves between floor_mode and this with the record of verified outcomes: demoted
    # at once on a failed verification or repeated escalations, promoted only by a person (`remedy mode set`).
    mode: Mode
    start_mode: Mode | None = None  # default: mode (the ceiling)
    floor_mode: Mode | None = None  # where a demotion drops to; default approve (or the ceiling, if lower)
    actions: dict[Name, ActionModes] = {}  # per action start/floor/ceiling, within the playbook's
    cooldown_minutes: int = Field(ge=0)
    attempt_budget: int = Field(ge=0)  # actions per resource within budget_window_hours; 0 = never act
    budget_window_hours: int = Field(default=24, ge=1)
    # Destructive actions wait for a person even in auto mode, unless named here on purpose.
    auto_approve_destructive: list[Name] = []
    # How long an action awaiting approval may be approved (`remedy incident approve`); later it has expired
    # and the next alarm asks again, with a fresh diagnosis.
    approval_minutes: int = Field(default=60, ge=1, le=1440)
    # Who may approve or reject this playbook's actions (functions/answers).
    approvers: Approvers = Approvers()
    # The verification window: how long the playbook's scheduled check looks again for the service level
    # (alarm OK, run succeeded) after acting, before it escalates to a person with what was tried.
    verification_minutes: int = Field(default=30, ge=5, le=1440)

    @model_validator(mode="after")
    def _modes_in_order(self) -> PlaybookGuardrails:
        rank = MODE_ORDER.index
        for where, modes in [("", ActionModes(start=self.start_mode, floor=self.floor_mode)),
                             *((f"actions.{name}.", m) for name, m in self.actions.items())]:
            ceiling = modes.ceiling or self.mode
            if rank(ceiling) > rank(self.mode):
                raise ValueError(f"{where}ceiling {ceiling} is above mode {self.mode}: the mode is the ceiling")
            for field, value in (("start", modes.start), ("floor", modes.floor)):
                if value is not None and rank(value) > rank(ceiling):
                    raise ValueError(f"{where}{field} {value} is above the ceiling {ceiling}")
            floor = modes.floor or self.floor_mode
            if modes.start is not None and floor is not None and rank(modes.start) < rank(floor):
                raise ValueError(f"{where}start {modes.start} is below the floor {floor}")
        return self


# A resource pattern: a catalog component (kind:name, e.g. glue:orders-stream) or a shell-style pattern of
# them (glue:legacy-*). Matched with fnmatch against an action's target.
ResourcePattern = Annotated[str, Field(pattern=r"^[a-z]+:[A-Za-z0-9_.*?/=:-]{1,200}$")]
TimeZone = Annotated[str, Field(pattern=r"^[A-Za-z]+(/[A-Za-z0-9_+-]+)*$")]
Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
LocalDateTime = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$")]


class Exclusion(Strict):
    """A resource the service never changes (guard rule `exclusion`): diagnosed and notified, never acted on."""

    resource: ResourcePattern
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class FreezeWindow(Strict):
    """A change freeze (guard rule `freeze`): while it is in force, every playbook in auto behaves as approve,
    procedures ask before every changing step, and lease give-backs wait for its end. Either calendar dates
    (`start`/`end`, local date or date-time in `timezone`; a date alone is midnight) or a weekly range
    (`days` with `from`/`to` local times; `to` before `from` runs past midnight into the next day)."""

    name: Name
    reason: Annotated[str, Field(min_length=1, max_length=300)]
    timezone: TimeZone = "UTC"
    start: LocalDateTime | None = None
    end: LocalDateTime | None = None
    days: list[Weekday] = []
    from_time: ClockTime | None = Field(default=None, alias="from")
    to_time: ClockTime | None = Field(default=None, alias="to")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind_of_range(self) -> FreezeWindow:
        dated = self.start is not None or self.end is not None
        weekly = bool(self.days) or self.from_time is not None or self.to_time is not None
        if dated == weekly:
            raise ValueError(f"freeze {self.name}: give either start and end (calendar dates) or days with "
                             f"from and to (a weekly range)")
        if dated and (self.start is None or self.end is None or self.end <= self.start):
            raise ValueError(f"freeze {self.name}: needs start and end, end after start")
        if weekly and (not self.days or self.from_time is None or self.to_time is None):
            raise ValueError(f"freeze {self.name}: a weekly range needs days, from and to")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            if not available_timezones():  # no time zone database here: the guard fails closed on it instead
                return self
            raise ValueError(f"freeze {self.name}: unknown time zone {self.timezone!r} (an IANA name, "
                             f"e.g. Europe/London)") from None
        return self


class Autonomy(Strict):
    # K escalations of an action within the window demote it (a FAILED verification demotes it at once).
    demote_after_escalations: int = Field(default=3, ge=1)
    escalation_window_hours: int = Field(default=168, ge=1, le=2160)
    # N verified approvals in a row and no failure: the weekly review lists the action as ready for auto.
    promote_after_verified: int = Field(default=5, ge=1)


class Guardrails(Strict):
    kill_switch_parameter: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]+$")]
    # Resources never acted on (guard rule `exclusion`), change freezes (rule `freeze`), and the fleet budget:
    # actions per rolling hour across every resource and playbook (rule `fleet_budget`; lease give-backs do not
    # spend it). docs/safety.md.
    exclusions: list[Exclusion] = []
    freezes: list[FreezeWindow] = []
    fleet_budget_per_hour: int = Field(default=10, ge=0)
    # Earned autonomy (rule `mode`, docs/safety.md): when the record demotes an action, when the weekly review
    # recommends promoting it.
    autonomy: Autonomy = Autonomy()
    dry_run: bool = False
    max_glue_workers: int = Field(ge=2)  # blast-radius cap across any one job
    max_redshift_nodes: int = Field(ge=1)
    max_msk_brokers: int = Field(ge=1)
    scale_step_workers: int = Field(default=2, ge=1)
    lease_minutes: int = Field(default=60, ge=1)  # a scale-up is reverted after the alarm stays OK this long
    # By playbook name: the modules of functions/playbooks (its registry), not a list kept here.
    playbooks: dict[Name, PlaybookGuardrails]

    @field_validator("playbooks")
    @classmethod
    def _known_playbooks(cls, value: dict[str, PlaybookGuardrails]) -> dict[str, PlaybookGuardrails]:
        from functions.playbooks import playbook_names

        unknown = sorted(set(value) - set(playbook_names()))
        if unknown:
            raise ValueError(f"unknown playbook {unknown[0]!r} (known: {', '.join(playbook_names())})")
        return value


class Network(Strict):
    """Where functions that reach private endpoints run (the Redshift playbook reaches the cluster's VPC)."""

    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
    availability_zones: list[Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")]] = Field(min_length=1)
    private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(min_length=1)
    # The functions' own security group(s): allowed by the cluster's group on its port.
    function_security_group_ids: list[SecurityGroupId] = Field(min_length=1)
    # How those subnets reach AWS's APIs (Redshift, DynamoDB, SSM, SNS, CloudWatch, X-Ray …): through VPC
    # endpoints or a NAT gateway. Without either, every call of an in-VPC function times out. Required, so that
    # someone has checked; `remedy catalog endpoints --env ENV` lists the endpoints the functions need.
    egress: Literal["vpc-endpoints", "nat"]


SecretName = Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]  # Secrets Manager's name characters


class Slack(Strict):
    """On call in Slack (docs/slack.md): the workspace and channel the Slack app posts to, and the names of the
    Secrets Manager secrets that hold its signing secret and bot token (created by a person, never in the
    catalog). Who may answer in Slack is per playbook / procedure: `approvers.chat` (Slack user ids)."""

    team_id: Annotated[str, Field(pattern=r"^[TE][A-Z0-9]{2,20}$")]  # the workspace (T…, E… for Enterprise Grid)
    channel_id: Annotated[str, Field(pattern=r"^[CG][A-Z0-9]{2,20}$")]  # where notifications are posted
    signing_secret: SecretName  # secret whose SecretString is the app's signing secret
    bot_token: SecretName  # secret whose SecretString is the bot token (xoxb-…)


class Notifications(Strict):
    on_call_topic: Name
    # The Slack app's function and its public URL exist only when this section does (infra/constructs/slack.py).
    slack: Slack | None = None
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = []
    # What pages a person: ESCALATED outcomes, lapsed approvals, the unhandled-events queue's alarm. Its
    # subscribers are the paging service (PagerDuty's or Opsgenie's SNS integration, docs/on-call.md).
    # Default <prefix>-escalation.
    escalation_topic: Name | None = None


ScheduleExpression = Annotated[str, Field(
    pattern=r"^(cron\((\S+ ){5}\S+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$")]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")]


class Schedules(Strict):
    """When the runbook's regular tasks run: EventBridge Scheduler expressions, evaluated in `timezone`.
    cron(minutes hours day-of-month month day-of-week year); one of the two day fields must be '?'."""

    timezone: Annotated[str, Field(pattern=r"^[A-Za-z]+(/[A-Za-z0-9_+-]+)*$")] = "UTC"
    weekly_review: ScheduleExpression = "cron(0 7 ? * MON *)"  # Monday 07:00: the week that ended
    redshift_analysis: ScheduleExpression = "cron(0 6 1 * ? *)"  # 1st of the month 06:00
    lifecycle_review: ScheduleExpression = "cron(0 6 1 1,4,7,10 ? *)"  # first day of each quarter
    posture: ScheduleExpression = "cron(0 5 * * ? *)"  # daily 05:00: backup and recovery promises
    # remedy doctor's checks, daily after deployment: through AWS APIs, and from inside the VPC.
    doctor: ScheduleExpression = "cron(30 5 * * ? *)"
    doctor_vpc: ScheduleExpression = "cron(35 5 * * ? *)"

    @field_validator("weekly_review", "redshift_analysis", "lifecycle_review", "posture", "doctor", "doctor_vpc")
    @classmethod
    def _one_day_field_unspecified(cls, value: str) -> str:
        if value.startswith("cron("):
            fields = value[5:-1].split()
            if (fields[2] == "?") == (fields[4] == "?"):
                raise ValueError("cron: exactly one of day-of-month and day-of-week must be '?'")
        return value


class Maintenance(Strict):
    """The runbook's Maintenance section as scheduled jobs: where their reports go, which promises the daily
    posture check holds the platform to, and the thresholds of the weekly and monthly reviews."""

    # Reports (JSON + the text a person reads) land here; default <service>-<env>-reports-<account_id>.
    reports_bucket: BucketName | None = None
    reports_retention_days: int = Field(default=400, ge=30)
    # Terraform's S3 backend (runbook: "Terraform State: Stored in S3 backend");
    # default retail-terraform-state-<env>.
    terraform_state_bucket: BucketName | None = None
    # Weekly review: an alarm that went to ALARM this often, or sat in ALARM this share of the week, is a
    # threshold candidate ("fires constantly"), as is one that never fired.
    noisy_alarm_transitions: int = Field(default=10, ge=2)
    noisy_alarm_percent: float = Field(default=50.0, gt=0, le=100)
    # Monthly Redshift analysis: VACUUM candidates above this unsorted share; a WLM queue whose 90th
    # percentile wait exceeds this needs more slots or concurrency scaling; disk use worth a warning.
    unsorted_percent: float = Field(default=20.0, gt=0, le=100)
    queue_wait_p90_seconds: float = Field(default=60.0, gt=0)
    disk_used_percent: float = Field(default=75.0, gt=0, le=100)
    top_queries: int = Field(default=10, ge=1, le=100)
    # Quarterly lifecycle review: stop counting a zone's objects after this many versions (S3 Inventory is
    # the tool beyond that); the report then says the counts are partial.
    lifecycle_max_versions_per_zone: int = Field(default=200_000, ge=1000)


class Procedures(Strict):
    """The emergency and scaling procedures (Step Functions, functions/procedures)."""

    # How long a procedure waits for a person's approval before it ends in its failure path.
    approval_timeout_minutes: int = Field(default=60, ge=1, le=1439)
    # How often a procedure checks on something slow (a resize, a restore, a re-processing run).
    poll_seconds: int = Field(default=60, ge=1, le=3600)
    # Service outage: how far back evidence (deployments, changes, our own actions) is gathered.
    evidence_window_hours: int = Field(default=24, ge=1, le=168)
    # How long a changing step waits while the kill switch is on (rule kill_switch, checked every poll_seconds)
    # before the run ends in its failure path; turning the switch off within it lets the run go on.
    kill_switch_hold_minutes: int = Field(default=120, ge=1, le=1440)
    # Ingress the Redshift and MSK security groups may allow; anything else (and 0.0.0.0/0) is revoked by
    # the security-incident procedure.
    allowed_ingress_cidrs: list[Cidr] = []
    # Who may answer each procedure's approvals, by procedure name; `default` for the others. The two-person
    # rule is on unless a block says `two_person: false`: every procedure approval precedes a destructive step.
    approvers: dict[str, Approvers] = {}

    @field_validator("approvers")
    @classmethod
    def _known_procedures(cls, value: dict[str, Approvers]) -> dict[str, Approvers]:
        from functions.procedures import PROCEDURES

        unknown = sorted(set(value) - set(PROCEDURES) - {"default"})
        if unknown:
            raise ValueError(f"approvers: unknown procedure {unknown[0]!r} (known: default, {', '.join(PROCEDURES)})")
        return value

    def approvers_of(self, procedure: str) -> Approvers:
        return self.approvers.get(procedure) or self.approvers.get("default") or Approvers()


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
    network: Network | None = None
    lineage: list[Edge] = []
    schedules: Schedules = Schedules()
    maintenance: Maintenance = Maintenance()
    procedures: Procedures = Procedures()

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
    except UnicodeDecodeError as error:
        raise CatalogError(str(path), [f"(file): not UTF-8 text (byte {error.start}: {error.reason})"]) from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CatalogError(str(path), [f"(file): not valid JSON: {error}"]) from None
        except RecursionError:
            raise CatalogError(str(path), ["(file): nested too deeply to be a catalog"]) from None
    else:
        import yaml  # only the CLI, CDK and sandbox read YAML; Lambda assets carry JSON

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise CatalogError(str(path), [f"(file): not valid YAML: {_one_line(str(error))}"]) from None
        except RecursionError:
            raise CatalogError(str(path), ["(file): nested too deeply to be a catalog"]) from None
    return parse_catalog(data, str(path))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def catalog_path_for(env: str, root: Path | None = None) -> Path:
    root = root or Path(__file__).resolve().parents[2]
    return root / "config" / f"{env}.yaml"
