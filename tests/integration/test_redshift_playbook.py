"""The Redshift playbook against the real stand-in: credentials from the emulated account's
GetClusterCredentials, SQL through redshift-connector into PostgreSQL, the outcome read back from the
database (stats_off really drops, a cancelled session is really gone)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from functions.actions.redshift import AnalyzeTablesParams, analyze_tables
from functions.core.adapters.clients import Clients
from functions.core.adapters.redshift import RedshiftAdapter, RedshiftError, RedshiftSettings, invocation
from functions.core.catalog import Catalog
from remedy.gameday.drill import Drill
from remedy.gameday.scenarios.redshift import RUNAWAY_SQL, cpu_high
from remedy.redshift_grants import GRANTS_FILE
from sandbox.catalog_variant import catalog_variant
from sandbox.core import LambdaContext, Sandbox
from sandbox.redshift import RedshiftStandIn
from sandbox.redshift_wiring import (
    attach_redshift,
    detach_redshift,
    grant_service_user,
    redshift_env,
    reset_redshift,
    running_pids,
    stats_off,
)

# The stand-in's shim reaches PostgreSQL through a Unix socket, which allow_hosts would block (see
# test_redshift_standin.py); every address here is loopback or a Unix socket.
pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

STALE = 10.0  # the dev catalog's thresholds.stats_off_percent


@pytest.fixture(scope="module")
def standin(sandbox_env: Sandbox) -> Iterator[RedshiftStandIn]:
    began = time.perf_counter()
    rs = attach_redshift(sandbox_env)
    print(f"\nstand-in attached in {time.perf_counter() - began:.2f}s on port {rs.port}")
    yield rs
    detach_redshift(sandbox_env)


@pytest.fixture
def cluster(sandbox: Sandbox, standin: RedshiftStandIn) -> RedshiftStandIn:
    return reset_redshift(sandbox)


@pytest.fixture
def grants(sandbox: Sandbox, cluster: RedshiftStandIn) -> Iterator[Callable[..., None]]:
    """grants(\"sys:operator\", ...): the service user gets sql/redshift-grants.sql without the statements that
    contain these words, for one test (the whole file again afterwards)."""
    def leave_out(*needles: str) -> None:
        lines = GRANTS_FILE.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.startswith("--") or not any(n in line for n in needles)]
        assert len(kept) == len(lines) - len(needles)
        grant_service_user(cluster, sandbox.catalog, "\n".join(kept))

    yield leave_out
    grant_service_user(cluster, sandbox.catalog)


def adapter_for(sandbox: Sandbox, standin: RedshiftStandIn) -> RedshiftAdapter:
    """The production adapter: boto3 against the emulated account, configuration pointing at the stand-in."""
    return RedshiftAdapter(Clients(overrides={"redshift": sandbox.client("redshift")}), sandbox.catalog.redshift,
                           RedshiftSettings.from_environ(redshift_env(standin)))


def tables(catalog: Catalog) -> list[tuple[str, str]]:
    return [(t.schema_name, t.name) for t in catalog.redshift.tables]


# --- the adapter -------------------------------------------------------------------------------------------

def test_adapter_connects_with_iam_credentials_and_analyze_really_clears_stats_off(sandbox: Sandbox,
                                                                                   cluster: RedshiftStandIn) -> None:
    cluster.make_stats_stale("analytics", "fact_sales")
    adapter = adapter_for(sandbox, cluster)
    try:
        assert adapter.credentials().user == "IAM:remedy"  # moto's GetClusterCredentials, AutoCreate false
        stale = adapter.stale_tables(tables(sandbox.catalog), STALE)
        assert [(s.qualified, s.stats_off > STALE) for s in stale] == [("analytics.fact_sales", True)]

        adapter.analyze("analytics", "fact_sales")

        after = {s.qualified: s.stats_off for s in adapter.table_stats(tables(sandbox.catalog))}
        assert after["analytics.fact_sales"] < STALE
        assert (stats_off(cluster, "analytics", "fact_sales") or 0) < STALE  # as the database itself says
    finally:
        adapter.close()


def test_adapter_reads_the_queue_and_cancels_only_the_runaway_session(sandbox: Sandbox,
                                                                      cluster: RedshiftStandIn) -> None:
    runaway = cluster.add_running_query("etl_user", RUNAWAY_SQL, seconds_running=3 * 3600)
    short = cluster.add_running_query("bi_user", "SELECT 1", seconds_running=30)
    queued = cluster.add_queued_query(service_class=100, queue_seconds=600)
    adapter = adapter_for(sandbox, cluster)
    try:
        running = {q.pid: q for q in adapter.running_queries()}
        assert running[runaway].user == "etl_user" and running[runaway].sql == RUNAWAY_SQL
        assert 3 * 3600 - 5 < running[runaway].seconds < 3 * 3600 + 60  # from starttime, not the overflowing duration
        assert [(q.query_id, q.state, q.queue_seconds >= 600) for q in adapter.queued_queries()] == \
            [(queued, "Queued", True)]
        # The same pid with another start time is another query (a pid reused after approval): left alone.
        assert adapter.cancel(runaway, running[short].started_at) is False

        assert adapter.cancel(runaway, running[runaway].started_at) is True

        pids = running_pids(cluster)
        assert runaway not in pids and short in pids
    finally:
        adapter.close()


def test_adapter_reads_wlm_from_the_emulated_parameter_group(sandbox: Sandbox, cluster: RedshiftStandIn) -> None:
    adapter = adapter_for(sandbox, cluster)
    described = adapter.cluster()
    wlm = adapter.wlm(described.parameter_group)
    assert (described.status, described.parameter_group) == ("available", sandbox.catalog.redshift.parameter_group)
    assert (wlm.auto_wlm, wlm.queues) == (True, 1)  # a default parameter group: automatic WLM


def test_an_unreachable_database_is_a_one_line_error(sandbox: Sandbox, cluster: RedshiftStandIn) -> None:
    settings = RedshiftSettings.from_environ({"REDSHIFT_HOST": "127.0.0.1", "REDSHIFT_PORT": "9",
                                              "REDSHIFT_SSL": "false"})
    adapter = RedshiftAdapter(Clients(overrides={"redshift": sandbox.client("redshift")}), sandbox.catalog.redshift,
                              settings)
    with pytest.raises(RedshiftError, match=r"^cannot connect to retail-redshift-dev at 127.0.0.1:9 as IAM:remedy: "):
        adapter.running_queries()


# --- the function, through the event path ------------------------------------------------------------------

def test_cpu_alarm_in_recommend_mode_recommends_the_analyze_and_changes_nothing(sandbox: Sandbox,
                                                                                cluster: RedshiftStandIn) -> None:
    cluster.make_stats_stale("analytics", "fact_sales")
    before = stats_off(cluster, "analytics", "fact_sales") or 0

    outcome = cpu_high(Drill(sandbox))

    assert outcome["status"] == "RECOMMENDED", outcome
    assert [d["command"] for d in outcome["decisions"]] == ['ANALYZE "analytics"."fact_sales";']
    assert stats_off(cluster, "analytics", "fact_sales") == before


def test_cpu_alarm_in_auto_mode_analyzes_exactly_the_stale_tables(sandbox: Sandbox, cluster: RedshiftStandIn) -> None:
    cluster.make_stats_stale("analytics", "dim_customer")

    with catalog_variant(sandbox, "redshift_performance", mode="auto"):
        outcome = cpu_high(Drill(sandbox))

    assert outcome["status"] == "REMEDIATED", outcome
    assert outcome["verification"]["status"] == "VERIFIED"
    assert [r["changed"]["tables"] for r in outcome["results"]] == [["analytics.dim_customer"]]
    assert (stats_off(cluster, "analytics", "dim_customer") or 0) < STALE
    kinds = [r["kind"] for r in sandbox.audit()]
    assert kinds[:5] == ["incident", "plan", "decision", "action", "outcome"]


def test_a_runaway_query_waits_for_approval_and_keeps_running(sandbox: Sandbox, cluster: RedshiftStandIn) -> None:
    pid = cluster.add_running_query("etl_user", RUNAWAY_SQL, seconds_running=2 * 3600)

    with catalog_variant(sandbox, "redshift_performance", mode="auto"):
        outcome = cpu_high(Drill(sandbox))

    assert outcome["status"] == "AWAITING_APPROVAL", outcome
    assert outcome["decisions"][0]["command"].startswith(f"SELECT pg_cancel_backend({pid});")
    assert pid in running_pids(cluster)


def test_a_cancel_the_catalog_auto_approves_really_ends_the_session(sandbox: Sandbox,
                                                                    cluster: RedshiftStandIn) -> None:
    pid = cluster.add_running_query("etl_user", RUNAWAY_SQL, seconds_running=2 * 3600)

    with catalog_variant(sandbox, "redshift_performance", mode="auto",
                         auto_approve_destructive=["redshift.cancel_query"]):
        outcome = cpu_high(Drill(sandbox))

    assert outcome["status"] == "REMEDIATED", outcome
    assert outcome["verification"]["detail"] == f"pid {pid} no longer runs (stv_recents)"
    assert pid not in running_pids(cluster)


# --- the service user's privileges: exactly sql/redshift-grants.sql ------------------------------------------

def test_without_select_on_svv_table_info_the_alarm_gets_a_diagnosis_not_an_abort(sandbox: Sandbox,
                                                                                 cluster: RedshiftStandIn,
                                                                                 grants: Callable[..., None]) -> None:
    # Finding 3: SVV_TABLE_INFO is visible only to superusers unless granted; the diagnosis aborted on every alarm.
    grants("ON svv_table_info")
    cluster.make_stats_stale("analytics", "fact_sales")
    pid = cluster.add_running_query("etl_user", RUNAWAY_SQL, seconds_running=2 * 3600)

    drill = Drill(sandbox)
    with catalog_variant(sandbox, "redshift_performance", mode="auto",
                         auto_approve_destructive=["redshift.cancel_query"]):
        outcome = cpu_high(drill)

    assert outcome["status"] == "REMEDIATED", outcome  # the runaway query was still found and cancelled
    assert pid not in running_pids(cluster)
    stats = next(f for f in outcome["plan"]["findings"] if f["check"] == "table statistics")
    assert not stats["ok"] and stats["detail"].startswith(
        "the service user IAM:remedy lacks SELECT on svv_table_info: run sql/redshift-grants.sql")
    message = drill.notifications()[-1]["message"]
    assert "lacks SELECT on svv_table_info: run sql/redshift-grants.sql" in message


def test_cancelling_another_users_query_without_sys_operator_fails_naming_the_role(sandbox: Sandbox,
                                                                                   cluster: RedshiftStandIn,
                                                                                   grants: Callable[..., None]) -> None:
    # Finding 4: pg_cancel_backend cancels only the caller's own queries unless superuser or sys:operator.
    grants("sys:operator")
    pid = cluster.add_running_query("etl_user", RUNAWAY_SQL, seconds_running=2 * 3600)

    with catalog_variant(sandbox, "redshift_performance", mode="auto",
                         auto_approve_destructive=["redshift.cancel_query"]):
        outcome = cpu_high(Drill(sandbox))

    assert [r["status"] for r in outcome["results"]] == ["FAILED"], outcome
    assert "lacks the role sys:operator (to cancel another user's query): run sql/redshift-grants.sql" in \
        outcome["results"][0]["detail"]
    assert "permission denied to cancel query" in outcome["results"][0]["detail"]
    assert pid in running_pids(cluster)


def test_analyze_without_sys_operator_is_said_not_taken_for_done(sandbox: Sandbox, cluster: RedshiftStandIn,
                                                                 grants: Callable[..., None]) -> None:
    grants("sys:operator")
    cluster.make_stats_stale("analytics", "fact_sales")

    with catalog_variant(sandbox, "redshift_performance", mode="auto"):
        outcome = cpu_high(Drill(sandbox))

    assert [r["status"] for r in outcome["results"]] == ["FAILED"], outcome
    assert "lacks the role sys:operator (ANALYZE)" in outcome["results"][0]["detail"]
    assert (stats_off(cluster, "analytics", "fact_sales") or 0) > STALE


def test_analyze_of_a_slow_table_stops_before_the_functions_deadline(sandbox: Sandbox,
                                                                    cluster: RedshiftStandIn) -> None:
    # Finding 9: ANALYZE table by table with a 40 s statement timeout inside a 60 s function: a slow table
    # outlived the function. Here the invocation has 14 s: 10 are kept for verification and the report.
    cluster.make_stats_stale("analytics", "fact_sales")
    cluster.make_stats_stale("analytics", "dim_customer")
    cluster.hold_lock("analytics", "fact_sales")  # ANALYZE of it waits for this lock
    adapter = adapter_for(sandbox, cluster)
    ports = type("Ports", (), {"redshift": adapter})()
    context = LambdaContext(function_name="redshift-performance", invoked_function_arn="arn", timeout_seconds=14)
    began = time.monotonic()
    try:
        with invocation(context):
            done = analyze_tables.run(ports, AnalyzeTablesParams(tables=("analytics.fact_sales", "analytics.dim_customer")))
    finally:
        adapter.close()

    assert time.monotonic() - began < 14 - 8, "the work must leave the function time to report"
    assert done.changed == {"tables": [], "left": ["analytics.fact_sales", "analytics.dim_customer"]}
    assert "left for the next run" in done.detail and 'ANALYZE "analytics"."dim_customer";' in done.detail
    assert (stats_off(cluster, "analytics", "dim_customer") or 0) > STALE  # not started: no time for it
