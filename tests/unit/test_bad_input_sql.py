"""Every SQL statement the Redshift code builds (the playbook's adapter, the monthly analysis, the data-corruption
procedure, the commands the analysis recommends) names catalog identifiers only, double-quoted; values are bound
(%s) or literals of the code itself; one statement per execute. A name that is not a catalog identifier is
refused before any SQL is sent."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from functions.core.adapters.clients import Clients
from functions.core.adapters.redshift import RedshiftAdapter, RedshiftSettings, quote_identifier
from functions.core.catalog import Catalog, Table
from functions.maintenance.adapters import QUERY_ORDER, redshift_history
from functions.maintenance.models import TableHealth
from functions.maintenance.redshift_analysis import recommendations
from functions.procedures import corruption
from tests.unit.conftest import NOW

SYSTEM_COLUMNS = {"schema", "table"}  # svv_table_info's own columns: keywords, so quoted
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,126}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:?\d\d|Z)?")
HOSTILE = ['fact_sales"; DROP TABLE analytics.fact_sales; --', "fact_sales' OR '1'='1", "Fact_Sales", "scratch",
           "fact_sales\n", "fact_sales; VACUUM"]
INCIDENT = "INC-2041"


def catalog_identifiers(catalog: Catalog) -> set[str]:
    rs = catalog.redshift
    names = set(rs.schemas) | {t.schema_name for t in rs.tables} | {t.name for t in rs.tables}
    for t in rs.tables:
        names |= {c for c in (t.time_column,) if c} | set(t.quality.unique + t.quality.not_null + t.quality.non_negative)
        slug = corruption._slug(INCIDENT)  # the restore's tables: a catalog name and the incident's slug
        names |= {f"{t.name}_restored_{slug}", f"{t.name}_corrupt_{slug}"}
    return names


def check(sql: str, catalog: Catalog, *, for_people: bool = False) -> None:
    """The rules, for one statement (`for_people`: a command a person copies, ending with ';')."""
    allowed = catalog_identifiers(catalog)
    body = sql[:-1] if for_people and sql.endswith(";") else sql
    assert ";" not in body, f"one statement per execute: {sql}"
    quoted = re.findall(r'"([^"]*)"', body)
    assert set(quoted) <= allowed | SYSTEM_COLUMNS, f"quoted names not from the catalog: {sql}"
    literals = re.findall(r"'([^']*)'", body)
    for literal in literals:  # a value spliced in is of the identifier or timestamp alphabet, nothing else
        assert IDENTIFIER.fullmatch(literal) or TIMESTAMP.fullmatch(literal) or literal in CODE_LITERALS, (literal,
                                                                                                             sql)
    bare = re.sub(r"'[^']*'", "''", re.sub(r'"[^"]*"', '""', body))
    for name in allowed:
        assert not re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", bare), f"{name} unquoted in: {sql}"


def _code_literals() -> set[str]:
    """The quoted constants written in the SQL of the code itself (its SQL_* statements), e.g. 'Running'."""
    from functions.core.adapters import redshift
    from functions.maintenance import adapters

    texts = [v for m in (redshift, adapters) for k, v in vars(m).items() if k.startswith("SQL_") and isinstance(v, str)]
    return {literal for text in texts for literal in re.findall(r"'([^']*)'", text)}


CODE_LITERALS = _code_literals()


# -- the statements, captured -------------------------------------------------------------------------------

class Recorder:
    """A redshift_connector connection that records each statement; `rows(sql)` answers it."""

    def __init__(self, rows: Any = lambda sql: []):
        self.statements: list[tuple[str, Any]] = []
        self.rows = rows
        self.autocommit = False

    def cursor(self) -> Recorder:
        return self

    def execute(self, sql: str, params: Any = None) -> None:
        self.statements.append((sql, params))
        self._last = self.rows(sql)
        self.description = [("c",)] if self._last is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._last or [])

    def close(self) -> None:
        pass


class FakeRedshiftApi:
    def describe_clusters(self, **kwargs: Any) -> dict[str, Any]:
        return {"Clusters": [{"ClusterIdentifier": kwargs["ClusterIdentifier"], "ClusterStatus": "available",
                              "Endpoint": {"Address": "cluster.example", "Port": 5439}}]}

    def get_cluster_credentials(self, **kwargs: Any) -> dict[str, Any]:
        return {"DbUser": f"IAM:{kwargs['DbUser']}", "DbPassword": "not-a-real-password",
                "Expiration": NOW + timedelta(minutes=15)}


def connected(catalog: Catalog, history: bool = False, rows: Any = lambda sql: []) -> tuple[Any, Recorder]:
    conn = Recorder(rows)
    clients, settings = Clients(overrides={"redshift": FakeRedshiftApi()}), RedshiftSettings()
    if history:
        return redshift_history(clients, catalog, settings, lambda **kw: conn), conn
    return RedshiftAdapter(clients, catalog.redshift, settings, lambda **kw: conn, lambda: NOW), conn


def executed(conn: Recorder) -> list[tuple[str, Any]]:
    return [(sql, params) for sql, params in conn.statements if not sql.startswith("SET statement_timeout TO ")]


class Warehouse:
    """The procedures' WarehousePort (Redshift Data API): records statements, answers information_schema."""

    def __init__(self, existing: set[str]):
        self.statements: list[str] = []
        self.existing = existing

    def query(self, sql: str) -> list[list[Any]]:
        self.statements.append(sql)
        if "information_schema.tables" in sql:
            return [[name] for name in sorted(self.existing)]
        return [[0] * (sql.count(",") + 1)]

    def run_in_transaction(self, statements: list[str]) -> None:
        self.statements += statements

    def snapshots(self, cluster: str) -> list[dict[str, Any]]:
        return []


def tables(catalog: Catalog) -> list[tuple[str, str]]:
    return [(t.schema_name, t.name) for t in catalog.redshift.tables]


def test_the_playbooks_adapter_sends_catalog_identifiers_quoted_and_values_bound(catalog: Catalog) -> None:
    adapter, conn = connected(catalog)
    adapter.running_queries()
    adapter.queued_queries()
    adapter.table_stats(tables(catalog))
    adapter.stale_tables(tables(catalog), 10.0)
    for schema, table in tables(catalog):
        adapter.analyze(schema, table)
    adapter.cancel(4242, NOW - timedelta(hours=1))

    sent = executed(conn)
    assert len(sent) >= 5 + len(tables(catalog))
    for sql, params in sent:
        check(sql, catalog)
        assert sql.count("%s") == len(params or ()), sql
    assert {sql for sql, _ in sent if sql.startswith("ANALYZE")} == {
        f'ANALYZE "{s}"."{t}"' for s, t in tables(catalog)}


def test_the_monthly_analysis_sends_catalog_identifiers_quoted_and_values_bound(catalog: Catalog) -> None:
    history, conn = connected(catalog, history=True, rows=lambda sql: [(100,)] if "pg_user" in sql else [])
    for order in QUERY_ORDER:
        history.query_stats(NOW - timedelta(days=31), NOW, order, 10)
    history.queue_waits(NOW - timedelta(days=31), NOW)
    history.queue_config()
    history.table_health(tables(catalog))
    history.disk()

    sent = executed(conn)
    assert len(sent) >= 6
    for sql, params in sent:
        check(sql, catalog)
        assert sql.count("%s") == len(params or ()), sql


def test_the_analysis_recommends_commands_on_catalog_tables_only(catalog: Catalog) -> None:
    health = [TableHealth(table=f"{s}.{t}", stats_off=99.0, unsorted=99.0, size_mb=1, rows=1)
              for s, t in tables(catalog)]
    hostile = [TableHealth(table=f"analytics.{name}", stats_off=99.0, unsorted=99.0, size_mb=1, rows=1)
               for name in HOSTILE]
    found = recommendations(catalog, health + hostile, [], [], [], None)

    commands = [r.command for r in found if r.kind in ("ANALYZE", "VACUUM")]
    assert len(commands) == 2 * len(health)
    for command in commands:
        check(command, catalog, for_people=True)


def test_the_data_corruption_procedure_builds_its_sql_from_the_catalog_quoted(catalog: Catalog) -> None:
    warehouse = Warehouse(set())
    start = NOW - timedelta(hours=1)
    for table in catalog.redshift.tables:
        if table.time_column:
            corruption.check_table(warehouse, table, start, NOW)
    slug = corruption._slug(INCIDENT)
    plan = [{"table": t.qualified, "schema": t.schema_name, "name": t.name, "new_table": f"{t.name}_restored_{slug}",
             "corrupt_table": f"{t.name}_corrupt_{slug}"} for t in catalog.redshift.tables]
    warehouse.existing = {p[k] for p in plan for k in ("name", "new_table")}
    corruption.swap_tables({"plan": {"tables": plan}}, warehouse)

    assert any(s.startswith("ALTER TABLE") for s in warehouse.statements)
    assert len(warehouse.statements) > len(catalog.redshift.tables)
    for sql in warehouse.statements:
        check(sql, catalog)


# -- names that are not catalog identifiers: refused before any SQL -------------------------------------------

@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_outside_the_catalog_is_refused_before_any_sql(name: str, catalog: Catalog) -> None:
    adapter, conn = connected(catalog)
    history, history_conn = connected(catalog, history=True)
    for call in (lambda: adapter.analyze("analytics", name), lambda: adapter.table_stats([("analytics", name)]),
                 lambda: adapter.stale_tables([(name, "fact_sales")], 10.0),
                 lambda: history.table_health([("analytics", name)])):
        with pytest.raises(ValueError):
            call()
    assert executed(conn) == [] and executed(history_conn) == []
    if IDENTIFIER.fullmatch(name):
        return  # the catalog's alphabet: what follows checks the alphabet; the catalog check was above
    with pytest.raises(ValueError):
        quote_identifier(name)
    warehouse = Warehouse({"fact_sales"})
    bad = Table.model_construct(schema_name="analytics", name=name, time_column="sale_date")
    with pytest.raises(ValueError):
        corruption.quality_sql(bad, NOW - timedelta(hours=1), NOW)
    plan = {"table": f"analytics.{name}", "schema": name, "name": "fact_sales", "new_table": "fact_sales_restored",
            "corrupt_table": "fact_sales_corrupt"}
    with pytest.raises(ValueError):
        corruption.swap_tables({"plan": {"tables": [plan]}}, warehouse)
    assert warehouse.statements == []
