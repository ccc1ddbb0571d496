"""Redshift actions: the runbook's "Analyze tables", and cancelling a runaway query found by "Check query queue".

Both run SQL through the RedshiftPort (functions.core.adapters.redshift). The SQL itself needs no IAM
permission; connecting does: temporary credentials from redshift:GetClusterCredentials on the catalog's
database user and database (arn:aws:redshift:<region>:<account>:dbuser:<cluster>/<db_user> and
...:dbname:<cluster>/<database>). In the database, the service user needs what sql/redshift-grants.sql
gives it: ANALYZE and cancelling another user's query both come with the system role sys:operator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field, field_validator

from functions.core.actions import Done, Params, register
from functions.core.ports import OutOfTime, PlaybookPorts

# "schema.table", both parts the catalog's SqlIdentifier alphabet: nothing in them needs escaping.
QualifiedTable = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,126}\.[a-z_][a-z0-9_]{0,126}$")]
CONNECT = ("redshift:GetClusterCredentials",)


def quoted(table: str) -> str:
    schema, name = table.split(".", 1)
    return f'"{schema}"."{name}"'


class AnalyzeTablesParams(Params):
    tables: tuple[QualifiedTable, ...] = Field(min_length=1, max_length=100)

    @field_validator("tables")
    @classmethod
    def _each_once(cls, tables: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(tables)) != len(tables):
            raise ValueError("a table is listed twice")
        return tables


class CancelQueryParams(Params):
    pid: int = Field(ge=1, le=2**31 - 1)
    started_at: datetime  # stv_recents.starttime (UTC): a pid reused by a newer query is not cancelled
    user: str = Field(pattern=r"^[A-Za-z0-9_:.@+-]{1,128}$")  # whose query; shown in the command

    @field_validator("started_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def analyze_sql(params: AnalyzeTablesParams) -> str:
    return _analyze_sql(params.tables)


def _analyze_sql(tables: tuple[str, ...] | list[str]) -> str:
    return " ".join(f"ANALYZE {quoted(t)};" for t in tables)


# ANALYZE runs table by table inside one invocation: each statement gets at most what the invocation has left
# minus RESERVE_SECONDS, kept for what follows it (verification reads svv_table_info again, the audit records,
# the notification). With less than MIN_ANALYZE_SECONDS to give, the rest is left for the next run and said.
RESERVE_SECONDS = 10.0
MIN_ANALYZE_SECONDS = 2.0


@register(
    "redshift.analyze_tables",
    summary="ANALYZE the catalog tables whose statistics are stale (svv_table_info.stats_off)",
    params=AnalyzeTablesParams,
    iam_actions=CONNECT,
    # Granted on the dbuser and dbname ARNs of the catalog's cluster (see the module docstring).
    resource_kind="redshift_db_user",
    destructive=False,  # refreshes planner statistics; reads the table, changes no row
    command=analyze_sql,
)
def analyze_tables(ports: PlaybookPorts, params: AnalyzeTablesParams) -> Done:
    """ANALYZE each table in turn, within the invocation's remaining time: stop before the deadline and say
    which tables were analyzed and which are left (a killed function would be retried and report nothing)."""
    port = ports.redshift
    done: list[str] = []
    left: list[str] = []
    why = ""
    for index, table in enumerate(params.tables):
        schema, name = table.split(".", 1)
        remaining = port.seconds_left()
        budget = None if remaining is None else remaining - RESERVE_SECONDS
        if budget is not None and budget < MIN_ANALYZE_SECONDS:
            left, why = list(params.tables[index:]), f"{max(remaining or 0, 0):.0f} s of the invocation left"
            break
        try:
            port.analyze(schema, name, timeout_seconds=budget)  # the adapter refuses non-catalog tables
        except OutOfTime:
            left, why = list(params.tables[index:]), f"ANALYZE {table} did not finish in the {budget:.0f} s left"
            break
        done.append(table)
    if not left:
        return Done(detail=f"ran {analyze_sql(params)}", changed={"tables": done})
    ran = f"ran {_analyze_sql(done)}" if done else "analyzed no table"
    return Done(detail=f"{ran}; left for the next run, the function's time ran out ({why}): {', '.join(left)} — "
                       f"or run {_analyze_sql(left)} yourself",
                changed={"tables": done, "left": left})


@register(
    "redshift.cancel_query",
    summary="Cancel a query running beyond the catalog's limit (pg_cancel_backend, Redshift's CANCEL)",
    params=CancelQueryParams,
    iam_actions=CONNECT,
    resource_kind="redshift_db_user",
    destructive=True,  # the query's work is lost; its owner has to run it again
    command=lambda p: (f"SELECT pg_cancel_backend({p.pid});  -- query of {p.user} running since "
                       f"{p.started_at:%Y-%m-%d %H:%M:%S}Z"),
)
def cancel_query(ports: PlaybookPorts, params: CancelQueryParams) -> Done:
    cancelled = ports.redshift.cancel(params.pid, params.started_at)
    changed = {"pid": params.pid, "started_at": params.started_at.isoformat(), "cancelled": cancelled}
    if not cancelled:
        return Done(detail=f"query pid {params.pid} of {params.user} had already ended: nothing cancelled",
                    changed=changed)
    return Done(detail=f"cancelled query pid {params.pid} of {params.user} (running since "
                       f"{params.started_at:%H:%M:%S}Z)",
                undo=f"a cancelled query cannot be resumed: {params.user} runs it again when the cluster is calm",
                changed=changed)
