"""More of Redshift's system relations on the stand-in, for the monthly query performance analysis, and a
month of history to find in them.

Emulated (columns and types of the Redshift Database Developer Guide, views in pg_catalog over backing tables
in the stand-in's internal schema, like sandbox.redshift's):

* ``stl_query`` and ``svl_qlog``: one row per query (text, start and end, elapsed microseconds, aborted);
* ``stl_wlm_query``: per query, its WLM service class and the time it waited in the queue;
* ``stv_wlm_service_class_config``: the WLM queues (service class, name, slots);
* ``stv_partitions``: disk blocks used and capacity per node and disk.

Visibility as on Redshift: STL rows only to their own user unless the user has unrestricted syslog access
(the stand-in's ``redshift_syslog_unrestricted`` role); ``stv_wlm_service_class_config`` and ``stv_partitions``
only to superusers, unless SELECT is granted. The service user gets exactly what sql/redshift-grants.sql
gives it (sandbox.redshift_wiring applies it when the stand-in is attached), nothing from here.

``install(standin)`` adds these relations; sandbox.redshift_wiring calls it whenever it grants the service user
(its ``reset_redshift(sandbox)`` gives a sandbox its freshly seeded stand-in with them: one stand-in per sandbox,
functions configured to reach it through REDSHIFT_HOST / REDSHIFT_PORT, no TLS locally). This module imports
nothing of the wiring.
``seed_month(...)`` fills the history: a frequent dashboard query, a slow monthly report, ETL inserts that
queue for a 2-slot WLM queue, a table 35 % unsorted, one with stale statistics, disk at 64 % after 54 % and
59 % in the two previous analyses (kept in the reports bucket, as the job keeps them).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.redshift import _INTERNAL_SCHEMA, _VISIBLE, RedshiftStandIn, _ident

_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {_INTERNAL_SCHEMA}.query_log (
        query integer PRIMARY KEY,
        userid integer NOT NULL,
        user_name text NOT NULL,
        label text NOT NULL DEFAULT 'default',
        xid bigint NOT NULL,
        pid integer NOT NULL,
        database text NOT NULL,
        querytxt text NOT NULL,
        starttime timestamp NOT NULL,
        endtime timestamp NOT NULL,
        aborted integer NOT NULL DEFAULT 0)""",
    f"""CREATE TABLE IF NOT EXISTS {_INTERNAL_SCHEMA}.wlm_log (
        query integer PRIMARY KEY,
        userid integer NOT NULL,
        user_name text NOT NULL,
        xid bigint NOT NULL,
        task integer NOT NULL,
        service_class integer NOT NULL,
        slot_count integer NOT NULL DEFAULT 1,
        queue_start_time timestamp NOT NULL,
        queue_seconds double precision NOT NULL,
        exec_seconds double precision NOT NULL,
        final_state text NOT NULL DEFAULT 'Completed',
        query_priority text NOT NULL DEFAULT 'Normal')""",
    f"""CREATE TABLE IF NOT EXISTS {_INTERNAL_SCHEMA}.wlm_config (
        service_class integer PRIMARY KEY,
        name text NOT NULL,
        num_query_tasks integer NOT NULL,
        query_working_mem integer NOT NULL DEFAULT 1000,
        max_execution_time bigint NOT NULL DEFAULT 0,
        concurrency_scaling text NOT NULL DEFAULT 'off')""",
    f"""CREATE TABLE IF NOT EXISTS {_INTERNAL_SCHEMA}.disk_partitions (
        owner integer NOT NULL,
        diskno integer NOT NULL,
        used integer NOT NULL,
        capacity integer NOT NULL,
        PRIMARY KEY (owner, diskno))""",
]

_VIEWS = [
    f"""CREATE OR REPLACE VIEW pg_catalog.stl_query AS
    SELECT r.userid::integer AS userid, r.query::integer AS query, r.label::character(320) AS label,
           r.xid::bigint AS xid, r.pid::integer AS pid, r.database::character(32) AS database,
           left(r.querytxt, 4000)::character(4000) AS querytxt, r.starttime::timestamp AS starttime,
           r.endtime::timestamp AS endtime, r.aborted::integer AS aborted, 0::integer AS insert_pristine,
           0::integer AS concurrency_scaling_status
      FROM {_INTERNAL_SCHEMA}.query_log r WHERE {_VISIBLE}""",
    f"""CREATE OR REPLACE VIEW pg_catalog.svl_qlog AS
    SELECT r.userid::integer AS userid, r.query::integer AS query, r.xid::bigint AS xid, r.pid::integer AS pid,
           r.starttime::timestamp AS starttime, r.endtime::timestamp AS endtime,
           (extract(epoch FROM (r.endtime - r.starttime)) * 1000000)::bigint AS elapsed,
           r.aborted::integer AS aborted, r.label::character(320) AS label,
           left(r.querytxt, 60)::character(60) AS substring, NULL::integer AS source_query,
           '0 - Ran on the main cluster'::text AS concurrency_scaling_status_txt, 0::integer AS from_sp_call
      FROM {_INTERNAL_SCHEMA}.query_log r WHERE {_VISIBLE}""",
    f"""CREATE OR REPLACE VIEW pg_catalog.stl_wlm_query AS
    SELECT r.userid::integer AS userid, r.xid::integer AS xid, r.task::integer AS task, r.query::integer AS query,
           r.service_class::integer AS service_class, r.slot_count::integer AS slot_count,
           r.queue_start_time::timestamp AS service_class_start_time, r.queue_start_time::timestamp AS queue_start_time,
           (r.queue_start_time + make_interval(secs => r.queue_seconds))::timestamp AS queue_end_time,
           (r.queue_seconds * 1000000)::bigint AS total_queue_time,
           (r.queue_start_time + make_interval(secs => r.queue_seconds))::timestamp AS exec_start_time,
           (r.queue_start_time + make_interval(secs => r.queue_seconds + r.exec_seconds))::timestamp AS exec_end_time,
           (r.exec_seconds * 1000000)::bigint AS total_exec_time,
           (r.queue_start_time + make_interval(secs => r.queue_seconds + r.exec_seconds))::timestamp
               AS service_class_end_time,
           r.final_state::character(16) AS final_state, r.query_priority::character(20) AS query_priority
      FROM {_INTERNAL_SCHEMA}.wlm_log r WHERE {_VISIBLE}""",
    f"""CREATE OR REPLACE VIEW pg_catalog.stv_wlm_service_class_config AS
    SELECT c.service_class::integer AS service_class, 'any'::character(32) AS queueing_strategy,
           c.num_query_tasks::integer AS num_query_tasks, c.num_query_tasks::integer AS target_num_query_tasks,
           'true'::character(8) AS evictable, 0::integer AS eviction_threshold,
           c.query_working_mem::integer AS query_working_mem, c.query_working_mem::integer AS target_query_working_mem,
           0::integer AS min_step_mem, c.name::character(64) AS name,
           c.max_execution_time::bigint AS max_execution_time,
           'false'::character(8) AS user_group_wild_card, 'false'::character(8) AS query_group_wild_card,
           c.concurrency_scaling::character(20) AS concurrency_scaling, 'normal'::character(20) AS query_priority
      FROM {_INTERNAL_SCHEMA}.wlm_config c""",
    f"""CREATE OR REPLACE VIEW pg_catalog.stv_partitions AS
    SELECT p.owner::integer AS owner, p.owner::integer AS host, p.diskno::integer AS diskno,
           0::bigint AS part_begin, p.capacity::bigint AS part_end, p.used::integer AS used, 0::integer AS tossed,
           p.capacity::integer AS capacity, 0::bigint AS reads, 0::bigint AS writes, 0::integer AS seek_forward,
           0::integer AS seek_back, 0::integer AS is_san, 0::integer AS failed, 0::integer AS mbps,
           ('/dev/nvme' || p.diskno || 'n1')::character(256) AS mount
      FROM {_INTERNAL_SCHEMA}.disk_partitions p""",
    "GRANT SELECT ON pg_catalog.stl_query, pg_catalog.svl_qlog, pg_catalog.stl_wlm_query TO PUBLIC",
    # Superuser-visible, as on Redshift: readable only when granted (sql/redshift-grants.sql).
    "REVOKE ALL ON pg_catalog.stv_wlm_service_class_config, pg_catalog.stv_partitions FROM PUBLIC",
]


def install(standin: RedshiftStandIn) -> None:
    """Create the relations (idempotent)."""
    for statement in _DDL:
        standin.execute(statement)
    standin.execute("SET allow_system_table_mods = on")
    try:
        for statement in _VIEWS:
            standin.execute(statement)
    finally:
        standin.execute("RESET allow_system_table_mods")


# (text, user, runs, seconds each, service class, queue seconds per run, spread over days)
_QUERIES: list[tuple[str, str, int, float, int, float]] = [
    ("SELECT store_id, sum(amount) FROM analytics.fact_sales WHERE sale_date >= current_date - 7 GROUP BY store_id",
     "looker", 600, 1.5, 7, 0.2),
    ("SELECT customer_name, segment FROM analytics.dim_customer WHERE customer_id = $1",
     "looker", 1200, 0.05, 7, 0.0),
    ("SELECT c.segment, date_trunc('month', s.sale_date) AS month, sum(s.amount) FROM analytics.fact_sales s "
     "JOIN analytics.dim_customer c ON c.customer_id = s.customer_id GROUP BY 1, 2 ORDER BY 2, 1",
     "analyst", 3, 2400.0, 7, 5.0),
    ("INSERT INTO analytics.fact_sales SELECT * FROM staging.sales_increment", "etl_user", 24, 95.0, 6, 180.0),
    ("DELETE FROM analytics.dim_customer USING staging.customers_increment u "
     "WHERE dim_customer.customer_id = u.customer_id", "etl_user", 24, 12.0, 6, 8.0),
]
QUEUES = [(6, "etl", 2), (7, "dashboards", 5), (14, "short query acceleration", 6)]
DISK = (64.0, [54.0, 59.0])  # used now, then the two previous analyses, in percent


def seed_month(standin: RedshiftStandIn, catalog: Any, now: datetime | None = None) -> None:
    """A month of query history ending at `now` (only the last 6 days are kept, as STL keeps ~7), the WLM
    queues, the disk, and the table faults the analysis should recommend ANALYZE / VACUUM for."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    for table in ("query_log", "wlm_log", "wlm_config", "disk_partitions"):
        standin.execute(f"DELETE FROM {_INTERNAL_SCHEMA}.{table}")
    for user in sorted({q[1] for q in _QUERIES}):
        if not standin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)):
            standin.execute(f"CREATE ROLE {_ident(user)} LOGIN")
    query_id = 50_000
    for text, user, runs, seconds, service_class, queue in _QUERIES:
        # Runs spread evenly over the last 6 days; every tenth ETL run waited only briefly (p90 = the long wait).
        standin.execute(
            f"INSERT INTO {_INTERNAL_SCHEMA}.query_log (query, userid, user_name, xid, pid, database, querytxt, "
            "starttime, endtime) SELECT %s + g, r.oid::integer, r.rolname, 900000 + %s + g, 20000 + g, %s, %s, "
            "%s - make_interval(secs => g * %s), %s - make_interval(secs => g * %s) + make_interval(secs => %s) "
            "FROM generate_series(1, %s) g, pg_roles r WHERE r.rolname = %s",
            (query_id, query_id, catalog.redshift.database, text, now, 6 * 86400.0 / runs, now, 6 * 86400.0 / runs,
             seconds, runs, user))
        standin.execute(
            f"INSERT INTO {_INTERNAL_SCHEMA}.wlm_log (query, userid, user_name, xid, task, service_class, "
            "queue_start_time, queue_seconds, exec_seconds) SELECT q.query, q.userid, q.user_name, q.xid, q.query, %s, "
            "q.starttime, CASE WHEN (q.query - %s) %% 10 = 0 THEN least(%s, 1.0) ELSE %s END, %s "
            f"FROM {_INTERNAL_SCHEMA}.query_log q WHERE q.query > %s AND q.query <= %s + %s",
            (service_class, query_id, queue, queue, seconds, query_id, query_id, runs))
        query_id += 10_000
    # An aborted query is not a slow query.
    standin.execute(
        f"INSERT INTO {_INTERNAL_SCHEMA}.query_log (query, userid, user_name, xid, pid, database, querytxt, starttime, "
        "endtime, aborted) SELECT 99999, r.oid::integer, r.rolname, 999999, 29999, %s, %s, %s - interval '2 days', "
        "%s - interval '1 day', 1 FROM pg_roles r WHERE r.rolname = 'analyst'",
        (catalog.redshift.database, "SELECT * FROM analytics.fact_sales CROSS JOIN analytics.fact_sales", now, now))
    for service_class, name, slots in QUEUES:
        standin.execute(f"INSERT INTO {_INTERNAL_SCHEMA}.wlm_config (service_class, name, num_query_tasks) "
                        "VALUES (%s, %s, %s)", (service_class, name, slots))
    capacity = 1_900_000  # 1 MB blocks per disk
    for owner in (0, 1):
        for disk in (0, 1):
            standin.execute(f"INSERT INTO {_INTERNAL_SCHEMA}.disk_partitions VALUES (%s, %s, %s, %s)",
                            (owner, disk, int(capacity * DISK[0] / 100), capacity))
    tables = [(t.schema_name, t.name) for t in catalog.redshift.tables]
    standin.execute(f"UPDATE {_INTERNAL_SCHEMA}.table_design SET unsorted = 0 WHERE sortkey1 IS NOT NULL")
    standin.execute(f"UPDATE {_INTERNAL_SCHEMA}.table_design SET unsorted = 35 WHERE schema_name = %s AND "
                    "table_name = %s", tables[0])
    if len(tables) > 1:
        standin.make_stats_stale(*tables[1])


def seed_previous_analyses(sandbox: Any, now: datetime | None = None) -> list[str]:
    """The two previous monthly analyses in the reports bucket, as far as the trend reads them (disk)."""
    from functions.maintenance import reports_bucket

    now = (now or datetime.now(UTC)).astimezone(UTC)
    current = (now - timedelta(days=1)).replace(day=1)
    months = []
    for back in (2, 1):
        month = current
        for _ in range(back):
            month = (month - timedelta(days=1)).replace(day=1)
        months.append(f"{month:%Y-%m}")
    keys, history = [], []
    for period, used in zip(months, DISK[1], strict=True):
        history.append({"period": period, "used_percent": used})
        key = f"redshift/{period}.json"
        body = {"kind": "redshift", "period": period, "report": {"disk": {"used_percent": used,
                                                                           "history": list(history)}}}
        body["disk"] = body["report"]["disk"]  # type: ignore[index]
        sandbox.client("s3").put_object(Bucket=reports_bucket(sandbox.catalog), Key=key, Body=json.dumps(body))
        keys.append(key)
    return keys

