"""Redshift Data API: ExecuteStatement, BatchExecuteStatement (one transaction), DescribeStatement and
GetStatementResult, run against the Redshift stand-in (PostgreSQL, sandbox.gaps.redshift.standin()).

moto 5.2 accepts a statement and runs nothing (its GetStatementResult answers a fixed table of addresses) and
has no BatchExecuteStatement.
Here the SQL runs, a failed statement is FAILED with the database's error, and the Redshift-only objects the
doctor's grants check reads (SVV_USER_INFO, USER_IS_MEMBER_OF) are created in the stand-in the first time a
statement reads them (other callers' stand-in stays untouched).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.gaps import Fill
from sandbox.gaps.redshift import mark_touched, standin

_API = "https://docs.aws.amazon.com/redshift-data/latest/APIReference"
OPERATIONS: dict[str, Fill] = {
    "redshift-data:ExecuteStatement": Fill("behaviour", "the SQL runs in the stand-in",
                                           f"{_API}/API_ExecuteStatement.html"),
    "redshift-data:BatchExecuteStatement": Fill("missing", "the SQL runs in the stand-in, in one transaction",
                                                f"{_API}/API_BatchExecuteStatement.html"),
    "redshift-data:DescribeStatement": Fill("behaviour", "FINISHED or FAILED (with the database's error), "
                                                         "HasResultSet, ResultRows of the statement that ran",
                                            f"{_API}/API_DescribeStatement.html"),
    "redshift-data:GetStatementResult": Fill("behaviour", "the rows the statement returned, typed as Field values",
                                             f"{_API}/API_GetStatementResult.html"),
}


@dataclass
class _State:
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)  # statement id -> its result


STATE = _State()
_INSTALLED = False


def reset() -> None:
    global STATE
    STATE = _State()


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _fill_statements()
    _INSTALLED = True


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, Decimal):
        return {"stringValue": str(value)}  # Redshift's DECIMAL comes back as a string
    return {"stringValue": value.isoformat() if hasattr(value, "isoformat") else str(value)}


def _run_statements(sqls: list[str]) -> dict[str, Any]:
    rs = standin()
    if any("svv_user_info" in sql or "user_is_member_of" in sql for sql in sqls):
        _install_user_views(rs)
    rows: list[tuple[Any, ...]] = []
    try:
        if len(sqls) == 1:
            rows = rs.execute(sqls[0])
        else:  # BatchExecuteStatement: one transaction
            rs.execute("BEGIN")
            try:
                for sql in sqls:
                    rows = rs.execute(sql)
                rs.execute("COMMIT")
            except Exception:
                rs.execute("ROLLBACK")
                raise
        for sql in sqls:
            match = re.match(r'\s*ALTER TABLE "?([a-z_0-9]+)"?\."?([a-z_0-9]+)"?', sql, re.IGNORECASE)
            if match:
                mark_touched(f"{match.group(1)}.{match.group(2)}")
        return {"Status": "FINISHED", "rows": [list(r) for r in rows], "HasResultSet": bool(rows) or
                sqls[-1].lstrip().upper().startswith("SELECT")}
    except Exception as error:
        return {"Status": "FAILED", "Error": " ".join(str(error).split())[:500], "rows": [], "HasResultSet": False}


def _fill_statements() -> None:
    from moto.redshiftdata import responses

    def start(self: Any, sqls: list[str]) -> str:
        statement_id = str(uuid.uuid4())
        result = _run_statements(sqls)
        now = datetime.now(UTC)
        STATE.statements[statement_id] = {
            **result, "Id": statement_id, "QueryString": "; ".join(sqls), "CreatedAt": now, "UpdatedAt": now,
            "ClusterIdentifier": self._get_param("ClusterIdentifier"), "Database": self._get_param("Database"),
            "DbUser": self._get_param("DbUser")}
        return json.dumps({"Id": statement_id, "CreatedAt": now.timestamp(),
                           "ClusterIdentifier": self._get_param("ClusterIdentifier"),
                           "Database": self._get_param("Database"), "DbUser": self._get_param("DbUser")})

    def execute_statement(self: Any) -> str:
        return start(self, [self._get_param("Sql")])

    def batch_execute_statement(self: Any) -> str:
        return start(self, list(self._get_param("Sqls")))

    def describe_statement(self: Any) -> Any:
        item = STATE.statements.get(self._get_param("Id"))
        if item is None:
            return 400, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps({"Message": "no statement"})
        answer = {"Id": item["Id"], "Status": item["Status"], "HasResultSet": item["HasResultSet"],
                  "ResultRows": len(item["rows"]), "QueryString": item["QueryString"],
                  "CreatedAt": item["CreatedAt"].timestamp(), "UpdatedAt": item["UpdatedAt"].timestamp()}
        if item.get("Error"):
            answer["Error"] = item["Error"]
        return json.dumps(answer)

    def get_statement_result(self: Any) -> Any:
        item = STATE.statements.get(self._get_param("Id"))
        if item is None or not item["HasResultSet"]:
            return 400, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps({"Message": "no result"})
        records = [[_field(v) for v in row] for row in item["rows"]]
        return json.dumps({"Records": records, "TotalNumRows": len(records),
                           "ColumnMetadata": [{"name": f"col{i}"} for i in range(len(records[0]) if records else 0)]})

    responses.RedshiftDataAPIServiceResponse.execute_statement = execute_statement
    responses.RedshiftDataAPIServiceResponse.batch_execute_statement = batch_execute_statement
    responses.RedshiftDataAPIServiceResponse.describe_statement = describe_statement
    responses.RedshiftDataAPIServiceResponse.get_statement_result = get_statement_result


# The Redshift objects the doctor's grants check reads, created in the stand-in like its other system views.
_USER_VIEWS = [
    """CREATE OR REPLACE VIEW pg_catalog.svv_user_info AS
    SELECT r.rolname::text AS user_name, r.oid::integer AS user_id, r.rolcreatedb AS createdb,
           r.rolsuper AS superuser, false AS catalog_update, r.rolconnlimit::text AS connection_limit,
           (CASE WHEN pg_has_role(r.oid, 'redshift_syslog_unrestricted', 'MEMBER') THEN 'UNRESTRICTED'
                 ELSE 'RESTRICTED' END)::text AS syslog_access,
           NULL::timestamp AS last_ddl_timestamp, 0 AS session_timeout, NULL::text AS external_user_id
      FROM pg_catalog.pg_roles r
     WHERE r.rolname NOT LIKE 'pg\\_%' AND r.rolname NOT IN ('redshift_syslog_unrestricted', 'sys:operator')
       AND (pg_has_role(current_user, r.oid, 'MEMBER')
            OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user))""",
    """CREATE OR REPLACE FUNCTION pg_catalog.user_is_member_of(user_name text, role_name text) RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT pg_has_role(user_name, role_name, 'MEMBER') $$""",
    "GRANT SELECT ON pg_catalog.svv_user_info TO PUBLIC",
]


def _install_user_views(rs: Any) -> None:
    if rs.execute("SELECT 1 FROM pg_catalog.pg_views WHERE viewname = 'svv_user_info'"):
        return
    rs.execute("SET allow_system_table_mods = on")
    try:
        for statement in _USER_VIEWS:
            rs.execute(statement)
    finally:
        rs.execute("RESET allow_system_table_mods")
