"""The Redshift adapter: boto3 request shapes against botocore's Stubber (the real API model checks them),
and the SQL it sends through a recording stand-in for a redshift_connector connection."""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.core.adapters.clients import Clients
from functions.core.adapters.redshift import (
    SQL_CANCEL,
    SQL_QUEUED,
    SQL_RUNNING,
    SQL_RUNNING_PID,
    RedshiftAdapter,
    RedshiftError,
    RedshiftPrivilegeError,
    RedshiftSettings,
    RedshiftTimeout,
    close_connections,
    parse_wlm,
    qualified,
)
from functions.core.catalog import Catalog
from tests.unit.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "retail-redshift-dev"
ENDPOINT = "retail-redshift-dev.abc123.eu-west-1.redshift.amazonaws.com"
PASSWORD = "temporary-Pa55word-from-GetClusterCredentials"
CLUSTER_ANSWER = {"Clusters": [{
    "ClusterIdentifier": CLUSTER, "ClusterStatus": "available", "NodeType": "ra3.xlplus", "NumberOfNodes": 2,
    "Endpoint": {"Address": ENDPOINT, "Port": 5439},
    "ClusterParameterGroups": [{"ParameterGroupName": "retail-wlm", "ParameterApplyStatus": "in-sync"}]}]}
CREDENTIALS_REQUEST = {"DbUser": "remedy", "DbName": "analytics_db", "ClusterIdentifier": CLUSTER,
                       "DurationSeconds": 900, "AutoCreate": False}


def credentials_answer(expires: datetime = NOW + timedelta(minutes=15)) -> dict[str, Any]:
    return {"DbUser": "IAM:remedy", "DbPassword": PASSWORD, "Expiration": expires}


class Cursor:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.description: list[tuple[str]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        self.conn.statements.append((sql, params))
        if self.conn.fail_on and self.conn.fail_on in sql:
            raise Exception({"S": "ERROR", "C": self.conn.fail_code,
                             "M": f"permission denied for relation {self.conn.fail_on}"})
        if self.conn.warn_on and self.conn.warn_on in sql:  # what ANALYZE of a table one may not analyze does
            self.conn.notices.append({b"S": b"WARNING", b"C": b"01000",
                                      b"M": f'permission denied to analyze "{self.conn.warn_on}", skipping it'.encode()})
        rows = self.conn.answer(sql, params)
        self.description = [("c",)] if rows is not None else None
        self._rows = rows or []

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        pass


class Connection:
    """Records every statement; `answer(sql, params)` returns the rows (None: a statement without rows)."""

    def __init__(self, answer: Callable[[str, Any], list[tuple[Any, ...]] | None]):
        self.answer = answer
        self.statements: list[tuple[str, tuple[Any, ...] | None]] = []
        self.autocommit = False
        self.closed = False
        self.fail_on = ""
        self.fail_code = "42501"
        self.warn_on = ""
        self.notices: deque[dict[bytes, bytes]] = deque(maxlen=100)

    def cursor(self) -> Cursor:
        return Cursor(self)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def redshift_client() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("redshift", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.activate()
    yield client, stub
    stub.deactivate()


def make(catalog: Catalog, client: Any, answer: Callable[[str, Any], Any] = lambda s, p: None,
         settings: RedshiftSettings | None = None, now: datetime = NOW) -> tuple[RedshiftAdapter, list[Any], list]:
    """An adapter whose connect() records its arguments and hands out recording connections."""
    connects: list[dict[str, Any]] = []
    conns: list[Connection] = []

    def connect(**kwargs: Any) -> Connection:
        connects.append(kwargs)
        conns.append(Connection(answer))
        return conns[-1]

    adapter = RedshiftAdapter(Clients(overrides={"redshift": client}), catalog.redshift, settings or RedshiftSettings(),
                              connect=connect, now=lambda: now)
    return adapter, connects, conns


# --- boto3: DescribeClusters, DescribeClusterParameters, GetClusterCredentials -----------------------------

def test_cluster_comes_from_describe_clusters_once_per_session(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    adapter, _, _ = make(catalog, client)

    cluster = adapter.cluster()
    assert adapter.cluster() is cluster  # no second call in the same session

    assert (cluster.status, cluster.nodes, cluster.node_type) == ("available", 2, "ra3.xlplus")
    assert (cluster.host, cluster.port, cluster.parameter_group) == (ENDPOINT, 5439, "retail-wlm")
    assert cluster.available
    stub.assert_no_pending_responses()


def test_credentials_request_shape_and_reuse_until_near_expiry(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("get_cluster_credentials", credentials_answer(NOW + timedelta(seconds=900)),
                      CREDENTIALS_REQUEST)
    stub.add_response("get_cluster_credentials", credentials_answer(NOW + timedelta(seconds=1800)),
                      CREDENTIALS_REQUEST)
    now = [NOW]
    adapter = RedshiftAdapter(Clients(overrides={"redshift": client}), catalog.redshift, now=lambda: now[0])

    first = adapter.credentials()
    now[0] = NOW + timedelta(seconds=600)
    assert adapter.credentials() is first  # still 5 minutes to go: no second call
    now[0] = NOW + timedelta(seconds=850)
    renewed = adapter.credentials()  # within a minute of expiry: new credentials

    assert first.user == "IAM:remedy" and renewed is not first
    assert PASSWORD not in repr(first)
    stub.assert_no_pending_responses()


def test_wlm_reads_every_page_of_the_clusters_parameter_group(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    manual = ('[{"query_group":["etl"],"query_concurrency":5,"concurrency_scaling":"auto"},'
              '{"query_concurrency":5,"concurrency_scaling":"off"},{"short_query_queue":true}]')
    stub.add_response("describe_cluster_parameters", {
        "Parameters": [{"ParameterName": "auto_analyze", "ParameterValue": "true"}], "Marker": "page-2"},
        {"ParameterGroupName": "retail-wlm"})
    stub.add_response("describe_cluster_parameters", {
        "Parameters": [{"ParameterName": "max_concurrency_scaling_clusters", "ParameterValue": "3"},
                       {"ParameterName": "wlm_json_configuration", "ParameterValue": manual}]},
        {"ParameterGroupName": "retail-wlm", "Marker": "page-2"})
    adapter, _, _ = make(catalog, client)

    wlm = adapter.wlm("retail-wlm")

    assert (wlm.auto_wlm, wlm.queues, wlm.concurrency_scaling_queues) == (False, 2, 1)
    assert (wlm.max_concurrency_scaling_clusters, wlm.short_query_acceleration) == (3, True)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(("value", "expected"), [
    ('[{"auto_wlm":true}]', (True, 1, 0)),  # a default parameter group
    ('[{"auto_wlm":true,"concurrency_scaling":"auto","priority":"high","user_group":["bi"]},'
     '{"auto_wlm":true,"priority":"normal"},{"short_query_queue":true}]', (True, 2, 1)),
    ("", (False, 0, 0)),
])
def test_parse_wlm(value: str, expected: tuple[bool, int, int]) -> None:
    wlm = parse_wlm("g", {"wlm_json_configuration": value})
    assert (wlm.auto_wlm, wlm.queues, wlm.concurrency_scaling_queues) == expected


def test_wlm_that_is_not_json_is_said() -> None:
    with pytest.raises(ValueError, match="wlm_json_configuration of g is not JSON"):
        parse_wlm("g", {"wlm_json_configuration": "{oops"})


# --- connecting --------------------------------------------------------------------------------------------

def test_connects_to_the_endpoint_with_tls_as_the_iam_user(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    adapter, connects, conns = make(catalog, client, answer=lambda s, p: [])

    adapter.running_queries()
    adapter.queued_queries()

    (kwargs,) = connects  # one session for the whole diagnosis
    assert kwargs == {"host": ENDPOINT, "port": 5439, "database": "analytics_db", "user": "IAM:remedy",
                      "password": PASSWORD, "ssl": True, "timeout": 55,
                      "application_name": "remedy-redshift-performance"}
    assert conns[0].autocommit is True
    assert [s for s, _ in conns[0].statements] == ["SET statement_timeout TO 40000", SQL_RUNNING, SQL_QUEUED]


def test_configured_host_port_and_ssl_override_the_endpoint(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    settings = RedshiftSettings.from_environ({"REDSHIFT_HOST": "127.0.0.1", "REDSHIFT_PORT": "40123",
                                              "REDSHIFT_SSL": "false", "CATALOG_PATH": "/x"})
    adapter, connects, _ = make(catalog, client, answer=lambda s, p: [], settings=settings)

    adapter.running_queries()

    assert (connects[0]["host"], connects[0]["port"], connects[0]["ssl"]) == ("127.0.0.1", 40123, False)
    stub.assert_no_pending_responses()  # no DescribeClusters needed to connect


def test_settings_default_to_tls_and_the_endpoint() -> None:
    settings = RedshiftSettings.from_environ({"REDSHIFT_HOST": " ", "REDSHIFT_PORT": ""})
    assert (settings.host, settings.port, settings.ssl, settings.statement_timeout_seconds) == (None, None, True, 40)


def test_a_failed_connect_is_one_line_without_the_password(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)

    def refuse(**kwargs: Any) -> Any:
        raise OSError(f"timed out connecting with password {kwargs['password']}\nmore detail")

    adapter = RedshiftAdapter(Clients(overrides={"redshift": client}), catalog.redshift, connect=refuse,
                              now=lambda: NOW)
    with pytest.raises(RedshiftError) as raised:
        adapter.running_queries()
    assert str(raised.value) == (f"cannot connect to {CLUSTER} at {ENDPOINT}:5439 as IAM:remedy: "
                                 "timed out connecting with password ***")


def test_a_refused_statement_is_one_line_from_the_servers_message(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    adapter, _, conns = make(catalog, client, answer=lambda s, p: [])
    adapter.queued_queries()
    conns[0].fail_on = "stv_recents"

    with pytest.raises(RedshiftError, match=r" — reading stv_recents failed on retail-redshift-dev: permission denied "
                                            r"for relation stv_recents$"):
        adapter.running_queries()


GRANTS_HINT = "run sql/redshift-grants.sql as a superuser (remedy redshift grants prints it for the catalog)"


def test_a_refused_privilege_names_the_grant_and_the_file(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    adapter, _, conns = make(catalog, client, answer=lambda s, p: [])
    adapter.queued_queries()
    conns[0].fail_on = "svv_table_info"

    with pytest.raises(RedshiftPrivilegeError) as raised:
        adapter.stale_tables([("analytics", "fact_sales")], 10)

    assert str(raised.value) == (f"the service user IAM:remedy lacks SELECT on svv_table_info: {GRANTS_HINT} — "
                                 "reading svv_table_info failed on retail-redshift-dev: permission denied for "
                                 "relation svv_table_info")
    assert raised.value.needs == "SELECT on svv_table_info"


def test_analyze_that_only_warns_and_skips_the_table_is_a_missing_privilege(catalog: Catalog,
                                                                             redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    adapter, _, conns = make(catalog, client, answer=lambda s, p: None)
    adapter.queued_queries()
    conns[0].warn_on = "fact_sales"

    with pytest.raises(RedshiftPrivilegeError, match=r"lacks the role sys:operator \(ANALYZE\) and USAGE on the "
                                                      r"table's schema: .* permission denied to analyze"):
        adapter.analyze("analytics", "fact_sales")


def test_analyze_with_less_time_than_the_session_timeout_sets_it_for_that_statement_only(
        catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    adapter, _, conns = make(catalog, client, answer=lambda s, p: None)

    adapter.analyze("analytics", "fact_sales", timeout_seconds=7.5)
    adapter.analyze("analytics", "dim_customer", timeout_seconds=400)  # more than the session's 40 s: as is

    assert [sql for sql, _ in conns[0].statements] == [
        "SET statement_timeout TO 40000", "SET statement_timeout TO 7500", 'ANALYZE "analytics"."fact_sales"',
        "SET statement_timeout TO 40000", 'ANALYZE "analytics"."dim_customer"']


def test_a_statement_stopped_by_its_timeout_is_out_of_time(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    adapter, _, conns = make(catalog, client, answer=lambda s, p: None)
    adapter.queued_queries()
    conns[0].fail_on, conns[0].fail_code = "ANALYZE", "57014"

    with pytest.raises(RedshiftTimeout):
        adapter.analyze("analytics", "fact_sales", timeout_seconds=5)
    assert conns[0].statements[-1][0] == "SET statement_timeout TO 40000"  # the session's timeout is back


def test_close_connections_ends_the_session_and_the_next_call_reconnects(catalog: Catalog,
                                                                         redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
    stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
    adapter, connects, conns = make(catalog, client, answer=lambda s, p: [])
    adapter.running_queries()

    close_connections()
    adapter.running_queries()

    assert conns[0].closed and not conns[1].closed
    assert len(connects) == 2  # credentials reused (still valid), cluster described again
    stub.assert_no_pending_responses()


# --- SQL ---------------------------------------------------------------------------------------------------

@pytest.fixture
def connected(catalog: Catalog, redshift_client: Any) -> Callable[..., tuple[RedshiftAdapter, list[Connection]]]:
    client, stub = redshift_client

    def build(answer: Callable[[str, Any], Any]) -> tuple[RedshiftAdapter, list[Connection]]:
        stub.add_response("describe_clusters", CLUSTER_ANSWER, {"ClusterIdentifier": CLUSTER})
        stub.add_response("get_cluster_credentials", credentials_answer(), CREDENTIALS_REQUEST)
        adapter, _, conns = make(catalog, client, answer=answer)
        return adapter, conns

    return build


def statements(conns: list[Connection]) -> list[tuple[str, Any]]:
    return [s for s in conns[0].statements if not s[0].startswith("SET ")]


def test_running_queries_time_from_starttime_and_strip_char_padding(connected: Any) -> None:
    started = (NOW - timedelta(hours=2)).replace(tzinfo=None)  # timestamp without time zone, UTC
    adapter, _ = connected(lambda s, p: [(4242, "etl_user" + " " * 42, started, "SELECT  1\n FROM t" + " " * 500)])

    (query,) = adapter.running_queries()

    assert (query.pid, query.user, query.sql, query.seconds) == (4242, "etl_user", "SELECT 1 FROM t", 7200.0)
    assert query.started_at == NOW - timedelta(hours=2)


def test_queued_queries_in_seconds(connected: Any) -> None:
    adapter, conns = connected(lambda s, p: [(1001, 6, "Queued          ", 300_000_000)])

    (queued,) = adapter.queued_queries()

    assert (queued.query_id, queued.service_class, queued.state, queued.queue_seconds) == (1001, 6, "Queued", 300.0)
    assert statements(conns) == [(SQL_QUEUED, None)]


def test_stats_are_read_for_catalog_tables_only_with_bound_values(connected: Any) -> None:
    adapter, conns = connected(lambda s, p: [("analytics", "fact_sales", 48.5), ("analytics", "other", 99.0)])

    stale = adapter.stale_tables([("analytics", "fact_sales"), ("analytics", "dim_customer")], 10.0)

    assert [(s.qualified, s.stats_off) for s in stale] == [("analytics.fact_sales", 48.5)]
    ((sql, params),) = statements(conns)
    assert sql == ('SELECT "schema", "table", stats_off FROM svv_table_info WHERE '
                   '(("schema" = %s AND "table" = %s) OR ("schema" = %s AND "table" = %s)) AND stats_off > %s '
                   'ORDER BY stats_off DESC')
    assert params == ("analytics", "fact_sales", "analytics", "dim_customer", 10.0)


def test_analyze_quotes_catalog_identifiers_and_refuses_others(connected: Any) -> None:
    adapter, conns = connected(lambda s, p: None)

    adapter.analyze("analytics", "fact_sales")
    for schema, table in (("analytics", "scratch"), ("analytics", 'fact_sales"; DROP TABLE x; --')):
        with pytest.raises(ValueError, match="is not a table of the catalog"):
            adapter.analyze(schema, table)

    assert statements(conns) == [('ANALYZE "analytics"."fact_sales"', None)]
    with pytest.raises(ValueError):
        qualified("Analytics", "x")


def test_cancel_checks_it_is_still_the_same_query_then_cancels_and_waits(connected: Any) -> None:
    started = NOW - timedelta(hours=2)
    running = [True]

    def answer(sql: str, params: Any) -> Any:
        if sql == SQL_RUNNING_PID:
            return [(started.replace(tzinfo=None),)] if running[0] else []
        if sql == SQL_CANCEL:
            running[0] = False
            return [(True,)]
        return None

    adapter, conns = connected(answer)

    assert adapter.cancel(4242, started) is True
    assert statements(conns) == [(SQL_RUNNING_PID, (4242,)), (SQL_CANCEL, (4242,)), (SQL_RUNNING_PID, (4242,))]


def test_a_reused_pid_is_not_cancelled(connected: Any) -> None:
    newer = NOW - timedelta(seconds=5)
    adapter, conns = connected(lambda s, p: [(newer.replace(tzinfo=None),)] if s == SQL_RUNNING_PID else None)

    assert adapter.cancel(4242, NOW - timedelta(hours=2)) is False
    assert [s for s, _ in statements(conns)] == [SQL_RUNNING_PID]


def test_every_statement_is_one_statement() -> None:
    for sql in (SQL_RUNNING, SQL_QUEUED, SQL_RUNNING_PID, SQL_CANCEL):
        assert ";" not in sql


# --- cold start: only this function loads the driver -------------------------------------------------------

def test_only_the_redshift_function_imports_redshift_connector_and_only_when_connecting() -> None:
    code = ("import sys\n"
            "import functions.handlers.msk_consumer_lag\n"
            "assert 'functions.core.adapters.redshift' not in sys.modules\n"
            "import functions.handlers.redshift_performance\n"
            "assert 'redshift_connector' not in sys.modules, 'imported at cold start'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=False, env={"PATH": "/usr/bin:/bin", "POWERTOOLS_SERVICE_NAME": "remedy"})
    assert result.returncode == 0, result.stderr


def test_expiration_is_kept_in_utc(catalog: Catalog, redshift_client: Any) -> None:
    client, stub = redshift_client
    stub.add_response("get_cluster_credentials", credentials_answer(datetime(2026, 11, 25, 11, 20, tzinfo=UTC)),
                      CREDENTIALS_REQUEST)
    adapter, _, _ = make(catalog, client)
    assert adapter.credentials().expires_at == datetime(2026, 11, 25, 11, 20, tzinfo=UTC)
