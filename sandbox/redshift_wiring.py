"""The Redshift stand-in (sandbox.redshift) wired into a Sandbox, for the redshift_performance function.

    standin = attach_redshift(sandbox)   # started once in <workdir>/redshift, seeded from the catalog
    reset_redshift(sandbox)              # healthy again: no injected query, fresh statistics, the grants file
    grant_service_user(standin, catalog, grants)  # the service user with exactly a grants file's privileges
    detach_redshift(sandbox)             # stopped, configuration removed

The function reaches the stand-in the way it would reach a cluster behind a VPC endpoint: through its
configuration (REDSHIFT_HOST / REDSHIFT_PORT / REDSHIFT_SSL, see functions.core.adapters.redshift), never
by knowing it runs in a sandbox. Its temporary credentials still come from the emulated account's
GetClusterCredentials (moto answers "IAM:<db_user>" and a random password; the stand-in accepts any), and
its privileges are exactly those sql/redshift-grants.sql gives the catalog's db_user: no seeded extras.

Until Sandbox applies `sandbox.extra_env` to the function's environment itself, attach_redshift puts
the variables into os.environ (the in-process function runner keeps them) and forces a cold start.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sandbox.redshift import RedshiftStandIn

ENV_KEYS = ("REDSHIFT_HOST", "REDSHIFT_PORT", "REDSHIFT_SSL")


def db_user(catalog: Any) -> str:
    """The database user GetClusterCredentials hands out for the catalog's db_user (AutoCreate false)."""
    return f"IAM:{catalog.redshift.db_user}"


def catalog_tables(catalog: Any) -> list[tuple[str, str]]:
    return [(t.schema_name, t.name) for t in catalog.redshift.tables]


def redshift_env(standin: RedshiftStandIn) -> dict[str, str]:
    """What the function needs to reach the stand-in: a host and port, and no TLS (the shim has none)."""
    return {"REDSHIFT_HOST": standin.host, "REDSHIFT_PORT": str(standin.port), "REDSHIFT_SSL": "false"}


def attach_redshift(sandbox: Any) -> RedshiftStandIn:
    """The sandbox's stand-in, started and seeded on first use (idempotent: later calls return it as is,
    injected faults included)."""
    standin: RedshiftStandIn | None = getattr(sandbox, "redshift", None)
    if standin is not None and standin.port:
        return standin
    standin = RedshiftStandIn(Path(sandbox.workdir) / "redshift", database=sandbox.catalog.redshift.database)
    standin.start()
    # The data directory outlives a stop (the next start is faster), and with it whatever an earlier run left:
    # a restored table's extra rows, a procedure's staging copy. A sandbox's cluster starts as seeded.
    _drop_catalog_tables(standin, sandbox.catalog)
    standin.seed(catalog_tables(sandbox.catalog))
    grant_service_user(standin, sandbox.catalog)
    sandbox.redshift = standin
    _apply_env(sandbox, redshift_env(standin))
    return standin


def reset_redshift(sandbox: Any) -> RedshiftStandIn:
    """Back to the freshly seeded cluster: injected sessions ended and forgotten, every table of the
    catalog's schemas dropped (faults add rows: tables would grow run after run) and the catalog's tables
    seeded again, with fresh statistics, and the monthly analysis's relations (sandbox.redshift_history) in place:
    a month of history seeds the same way run after run."""
    standin = attach_redshift(sandbox)
    standin.reset_faults()
    _drop_catalog_tables(standin, sandbox.catalog)
    standin.seed(catalog_tables(sandbox.catalog))
    grant_service_user(standin, sandbox.catalog)
    return standin


def _drop_catalog_tables(standin: RedshiftStandIn, catalog: Any) -> None:
    for schema in catalog.redshift.schemas:
        for (table,) in standin.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)):
            standin.execute(f"DROP TABLE {_ident(schema)}.{_ident(str(table))}")


def grant_service_user(standin: RedshiftStandIn, catalog: Any, grants: str | None = None) -> str | None:
    """The service user from scratch with exactly the grants file's privileges: sql/redshift-grants.sql
    rendered for the catalog, or `grants` (another version of the file: a test leaving a line out).
    Returns the session user GetClusterCredentials logs in as (None if the file creates no user)."""
    from remedy.redshift_grants import for_catalog
    from sandbox.redshift_history import install

    install(standin)  # the superuser-visible views the file grants SELECT on must exist
    user = catalog.redshift.db_user
    for role in (f"IAM:{user}", user):  # whatever an earlier file (or test) gave them goes
        if standin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
            standin.execute(f"DROP OWNED BY {_ident(role)}")
            standin.execute(f"DROP ROLE {_ident(role)}")
    standin.apply_grants(for_catalog(catalog, grants))
    return standin.add_iam_user(user)


def detach_redshift(sandbox: Any) -> None:
    standin: RedshiftStandIn | None = getattr(sandbox, "redshift", None)
    if standin is not None:
        standin.stop()
        sandbox.redshift = None
    extra = getattr(sandbox, "extra_env", None)
    for key in ENV_KEYS:
        if isinstance(extra, dict):
            extra.pop(key, None)
        os.environ.pop(key, None)
    _cold_start(sandbox)


def stats_off(standin: RedshiftStandIn, schema: str, table: str) -> float | None:
    """svv_table_info.stats_off of one table as the database reports it now (None: no row)."""
    rows = standin.execute('SELECT stats_off FROM svv_table_info WHERE "schema" = %s AND "table" = %s',
                           (schema, table))
    return float(rows[0][0]) if rows and rows[0][0] is not None else None


def running_pids(standin: RedshiftStandIn) -> list[int]:
    return [int(pid) for (pid,) in standin.execute("SELECT pid FROM stv_recents WHERE status = 'Running'")]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _apply_env(sandbox: Any, env: dict[str, str]) -> None:
    extra = getattr(sandbox, "extra_env", None)
    if isinstance(extra, dict):
        extra.update(env)
    else:
        os.environ.update(env)
    _cold_start(sandbox)


def _cold_start(sandbox: Any) -> None:
    """The function's configuration changed: the next invocation starts cold, as a new Lambda container."""
    from functions.core import runtime

    runtime.reset()
    if hasattr(sandbox, "_function_env"):
        sandbox._function_env = None
