"""`remedy redshift grants --env <env>`: the SQL a DBA runs for the service user, rendered from the catalog."""

from __future__ import annotations

from typing import Annotated

import typer

redshift_app = typer.Typer(no_args_is_help=True, help="The Redshift cluster's side of the setup.")


@redshift_app.command("grants")
def grants(env: Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")] = "dev") -> None:
    """Print sql/redshift-grants.sql for the catalog's redshift.db_user and schemas (run it as a superuser)."""
    from functions.core.catalog import load_catalog
    from remedy.cli import _catalog_for_env
    from remedy.redshift_grants import GRANTS_PATH, for_catalog

    catalog = load_catalog(_catalog_for_env(env))
    print(f"-- {GRANTS_PATH} for {catalog.redshift.cluster_id} (database {catalog.redshift.database}), "
          f"catalog config/{env}.yaml")
    print(for_catalog(catalog), end="")
