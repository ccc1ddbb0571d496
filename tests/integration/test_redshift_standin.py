"""The Redshift stand-in, driven through redshift_connector exactly as production code drives Redshift."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
import redshift_connector

from remedy.redshift_grants import GRANTS_FILE
from sandbox.redshift import REDSHIFT_SERVER_VERSION, RedshiftStandIn
from sandbox.redshift_wiring import grant_service_user

# enable_socket rather than allow_hosts(["127.0.0.1"]): pytest-socket's allow_hosts also blocks connect() on Unix
# sockets (unless --allow-unix-socket), and the stand-in's shim reaches PostgreSQL through one. Every address used
# here is on loopback or a Unix socket.
pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

TABLES = [("analytics", "fact_sales"), ("analytics", "dim_customer")]
REMEDY_USER = "IAM:remedy"  # the user name GetClusterCredentials returns for DbUser "remedy"
CATALOG = SimpleNamespace(redshift=SimpleNamespace(db_user="remedy", schemas=["analytics"]))
GRANTS = GRANTS_FILE.read_text(encoding="utf-8")


def without(*needles: str) -> str:
    """The grants file without its statements that contain any of `needles`."""
    lines = GRANTS.splitlines()
    kept = [line for line in lines if line.startswith("--") or not any(n in line for n in needles)]
    assert len(kept) == len(lines) - len(needles), "each needle names exactly one statement of the file"
    return "\n".join(kept)


@pytest.fixture(scope="module")
def redshift(tmp_path_factory: pytest.TempPathFactory):
    began = time.perf_counter()
    standin = RedshiftStandIn(tmp_path_factory.mktemp("redshift")).start()
    standin.seed(TABLES)
    grant_service_user(standin, CATALOG)  # sql/redshift-grants.sql, as a DBA runs it: nothing else
    print(f"\nRedshift stand-in started and seeded in {time.perf_counter() - began:.2f}s on port {standin.port}")
    yield standin
    standin.stop()


@pytest.fixture(autouse=True)
def _clean_faults(redshift: RedshiftStandIn):
    yield
    redshift.reset_faults()


@pytest.fixture
def regrant(redshift: RedshiftStandIn) -> Iterator[Callable[[str], None]]:
    """Give the service user another version of the grants file for one test; the real one afterwards."""
    yield lambda text: grant_service_user(redshift, CATALOG, text) and None
    grant_service_user(redshift, CATALOG)


@pytest.fixture
def remedy_conn(redshift: RedshiftStandIn):
    # The production call: temporary credentials, no TLS locally.
    conn = redshift_connector.connect(
        host=redshift.host,
        port=redshift.port,
        database=redshift.database,
        user=REMEDY_USER,
        password="temporary-password-from-GetClusterCredentials",
        ssl=False,
    )
    yield conn
    conn.close()


def _stats_off(conn: redshift_connector.Connection, schema: str, table: str) -> float:
    cur = conn.cursor()
    cur.execute('SELECT stats_off FROM svv_table_info WHERE "schema" = %s AND "table" = %s', (schema, table))
    rows = cur.fetchall()
    conn.commit()  # end the read transaction redshift_connector opened
    assert len(rows) == 1, rows
    return float(rows[0][0])


def test_connects_as_iam_user_and_reports_redshift_version(remedy_conn):
    cur = remedy_conn.cursor()
    cur.execute("SELECT current_user, current_database()")
    assert [tuple(r) for r in cur.fetchall()] == [(REMEDY_USER, "analytics_db")]
    assert (b"server_version", REDSHIFT_SERVER_VERSION.encode()) in remedy_conn.parameter_statuses


def test_parameter_binding(remedy_conn):
    cur = remedy_conn.cursor()
    cur.execute("select %s", ("x",))
    assert [tuple(r) for r in cur.fetchall()] == [("x",)]


def test_injected_running_query_is_listed_and_can_be_terminated(redshift, remedy_conn):
    sql = "SELECT * FROM analytics.fact_sales s JOIN analytics.dim_customer c USING (customer_id)"
    pid = redshift.add_running_query("etl_user", sql, seconds_running=3 * 3600)

    cur = remedy_conn.cursor()
    cur.execute("SELECT * FROM stv_recents")
    columns = [d[0] for d in cur.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
    assert columns == ["userid", "status", "starttime", "duration", "user_name", "db_name", "query", "pid"]
    ours = [r for r in rows if r["pid"] == pid]
    assert len(ours) == 1
    # character(n) columns come back blank-padded, as on Redshift.
    assert ours[0]["status"].rstrip() == "Running"
    assert ours[0]["user_name"].rstrip() == "etl_user"
    assert ours[0]["query"].rstrip() == sql

    cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert cur.fetchall()[0][0] is True
    remedy_conn.commit()
    deadline = time.monotonic() + 5
    while True:
        cur.execute("SELECT status, pid FROM stv_recents WHERE query LIKE %s", (sql[:40] + "%",))
        status, listed_pid = cur.fetchall()[0]
        remedy_conn.commit()
        if status.rstrip() == "Done" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (status.rstrip(), listed_pid) == ("Done", -1)


def test_queued_query_is_listed_in_wlm_state(redshift, remedy_conn):
    query_id = redshift.add_queued_query(service_class=6, queue_seconds=300)
    cur = remedy_conn.cursor()
    cur.execute("SELECT service_class, state, queue_time FROM stv_wlm_query_state WHERE query = %s", (query_id,))
    ((service_class, state, queue_time),) = cur.fetchall()
    assert (service_class, state.rstrip()) == (6, "Queued")
    assert queue_time >= 300 * 1_000_000


def test_analyze_through_redshift_connector_clears_stale_stats(redshift, remedy_conn):
    assert _stats_off(remedy_conn, "analytics", "fact_sales") < 10

    redshift.make_stats_stale("analytics", "fact_sales")
    assert _stats_off(remedy_conn, "analytics", "fact_sales") > 10

    cur = remedy_conn.cursor()
    cur.execute("ANALYZE analytics.fact_sales")
    remedy_conn.commit()
    assert _stats_off(remedy_conn, "analytics", "fact_sales") < 10


def test_system_views_resolve_whatever_the_search_path(remedy_conn):
    cur = remedy_conn.cursor()
    cur.execute("SET search_path TO analytics")
    cur.execute("SELECT count(*) FROM stv_recents")
    cur.fetchall()
    cur.execute('SELECT count(*) FROM pg_catalog.svv_table_info WHERE "schema" = %s', ("analytics",))
    assert cur.fetchall()[0][0] == len(TABLES)
    remedy_conn.rollback()


def test_users_without_syslog_access_see_only_their_own_queries(redshift):
    redshift.add_running_query("etl_user", "SELECT 1 FROM analytics.fact_sales", seconds_running=60)
    redshift.add_running_query("bi_user", "SELECT 2 FROM analytics.dim_customer", seconds_running=60)
    conn = redshift_connector.connect(**redshift.connection_params("bi_user"))
    try:
        cur = conn.cursor()
        cur.execute("SELECT DISTINCT user_name FROM stv_recents")
        assert [r[0].rstrip() for r in cur.fetchall()] == ["bi_user"]
    finally:
        conn.close()


def test_closed_port_fails_with_redshift_connector_error(redshift):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the probe is closed
    with pytest.raises(redshift_connector.InterfaceError) as excinfo:
        redshift_connector.connect(
            host="127.0.0.1",
            port=closed_port,
            database=redshift.database,
            user=REMEDY_USER,
            password="x",
            ssl=False,
            timeout=5,
        )
    assert isinstance(excinfo.value, redshift_connector.Error)  # what callers catch to report "unreachable"


# --- the service user has exactly the grants file's privileges ----------------------------------------------

def _as_remedy(redshift: RedshiftStandIn, sql: str) -> list[tuple]:
    conn = redshift_connector.connect(**redshift.connection_params(REMEDY_USER))
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()] if cur.description else []
    finally:
        conn.close()


def _refused(redshift: RedshiftStandIn, sql: str) -> str:
    with pytest.raises(redshift_connector.ProgrammingError) as raised:
        _as_remedy(redshift, sql)
    error = raised.value.args[0]
    assert error["C"] == "42501", error  # insufficient_privilege, as Redshift answers
    return str(error["M"])


@pytest.mark.parametrize("view", ["svv_table_info", "stv_wlm_service_class_config", "stv_partitions"])
def test_superuser_visible_views_need_their_select_grant(redshift, regrant, view):
    assert isinstance(_as_remedy(redshift, f"SELECT count(*) FROM {view}")[0][0], int)  # the file grants it

    regrant(without(f"ON {view} TO"))

    assert _refused(redshift, f"SELECT count(*) FROM {view}") == f"permission denied for view {view}"


def test_other_users_queries_are_visible_only_with_syslog_access_unrestricted(redshift, regrant):
    pid = redshift.add_running_query("etl_user", "SELECT 3 FROM analytics.fact_sales", seconds_running=60)
    assert (pid,) in _as_remedy(redshift, "SELECT pid FROM stv_recents")

    regrant(without("SYSLOG ACCESS"))

    assert _as_remedy(redshift, "SELECT pid FROM stv_recents") == []  # not an error: only the user's own rows


def test_cancelling_another_users_query_needs_sys_operator(redshift, regrant):
    regrant(without("sys:operator"))
    pid = redshift.add_running_query("etl_user", "SELECT 4 FROM analytics.fact_sales", seconds_running=60)

    assert _refused(redshift, f"SELECT pg_cancel_backend({pid})") == "permission denied to cancel query"

    regrant(GRANTS)
    assert _as_remedy(redshift, f"SELECT pg_cancel_backend({pid})") == [(True,)]


def test_analyze_without_sys_operator_only_warns_and_skips_the_table(redshift, regrant):
    redshift.make_stats_stale("analytics", "dim_customer")
    regrant(without("sys:operator"))
    conn = redshift_connector.connect(**redshift.connection_params(REMEDY_USER))
    conn.autocommit = True
    try:
        conn.cursor().execute('ANALYZE "analytics"."dim_customer"')
        assert [n[b"M"] for n in conn.notices] == [b'permission denied to analyze "dim_customer", skipping it']
    finally:
        conn.close()
    assert _stats_off_as_superuser(redshift, "analytics", "dim_customer") > 10  # nothing was analyzed


def test_the_service_user_reads_no_table_data(redshift):
    assert _refused(redshift, "SELECT count(*) FROM analytics.fact_sales") == "permission denied for table fact_sales"


def test_a_seeded_user_has_nothing_beyond_public(redshift):
    redshift.seed([], users=["bi_user"])
    conn = redshift_connector.connect(**redshift.connection_params("bi_user"))
    try:
        cur = conn.cursor()
        with pytest.raises(redshift_connector.ProgrammingError, match="permission denied for view svv_table_info"):
            cur.execute("SELECT count(*) FROM svv_table_info")
    finally:
        conn.close()


def test_without_the_user_the_iam_session_cannot_log_in(redshift, regrant):
    regrant(without("CREATE USER", "GRANT USAGE", "SYSLOG", "sys:operator", "ON svv_table_info",
                    "ON stv_wlm_service_class_config", "ON stv_partitions"))
    with pytest.raises(redshift_connector.Error, match="IAM:remedy"):
        redshift_connector.connect(**redshift.connection_params(REMEDY_USER))


def _stats_off_as_superuser(redshift: RedshiftStandIn, schema: str, table: str) -> float:
    rows = redshift.execute('SELECT stats_off FROM svv_table_info WHERE "schema" = %s AND "table" = %s',
                            (schema, table))
    return float(rows[0][0])
