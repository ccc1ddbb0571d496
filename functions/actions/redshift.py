"""Redshift actions: the runbook's "Analyze tables", and cancelling a runaway query found by "Check query queue".

Both run SQL through the RedshiftPort (functions.core.adapters.redshift). The SQL itself needs no IAM
permission; connecting does: temporary credentials from redshift:GetClusterCredentials on the catalog's
database user and database (arn:aws:redshift:<region>:<account>:dbuser:<cluster>/<db_user> and
...:dbname:<cluster>/<database>).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, field_validator

from functions.core.actions import Done, Params, register

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
    return " ".join(f"ANALYZE {quoted(t)};" for t in params.tables)


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
def analyze_tables(ports: Any, params: AnalyzeTablesParams) -> Done:
    done = []
    for table in params.tables:
        schema, name = table.split(".", 1)
        ports.redshift.analyze(schema, name)  # the adapter refuses anything that is not a catalog table
        done.append(table)
    return Done(detail=f"ran {analyze_sql(params)}", changed={"tables": done})


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
def cancel_query(ports: Any, params: CancelQueryParams) -> Done:
    cancelled = ports.redshift.cancel(params.pid, params.started_at)
    changed = {"pid": params.pid, "started_at": params.started_at.isoformat(), "cancelled": cancelled}
    if not cancelled:
        return Done(detail=f"query pid {params.pid} of {params.user} had already ended: nothing cancelled",
                    changed=changed)
    return Done(detail=f"cancelled query pid {params.pid} of {params.user} (running since "
                       f"{params.started_at:%H:%M:%S}Z)",
                undo=f"a cancelled query cannot be resumed: {params.user} runs it again when the cluster is calm",
                changed=changed)
