"""sql/redshift-grants.sql, rendered for a catalog: what `remedy redshift grants` prints and the sandbox applies."""

from __future__ import annotations

import subprocess
import sys

import pytest

from functions.core.catalog import Catalog
from remedy.redshift_grants import GRANTS_FILE, render
from sandbox.redshift import _statements

ROOT = GRANTS_FILE.parents[1]


def test_the_file_renders_to_redshift_statements_for_the_catalogs_user_and_schemas(catalog: Catalog) -> None:
    rendered = render(GRANTS_FILE.read_text(encoding="utf-8"), catalog.redshift.db_user, catalog.redshift.schemas)

    assert _statements(rendered) == [
        'CREATE USER "remedy" PASSWORD DISABLE',
        'GRANT USAGE ON SCHEMA "analytics" TO "remedy"',
        'ALTER USER "remedy" SYSLOG ACCESS UNRESTRICTED',
        'GRANT ROLE sys:operator TO "remedy"',
        'GRANT SELECT ON svv_table_info TO "remedy"',
        'GRANT SELECT ON stv_wlm_service_class_config TO "remedy"',
        'GRANT SELECT ON stv_partitions TO "remedy"',
    ]


def test_rendering_refuses_a_name_that_is_not_a_catalog_identifier() -> None:
    with pytest.raises(ValueError, match="not a catalog SQL identifier"):
        render(GRANTS_FILE.read_text(encoding="utf-8"), 'remedy"; DROP USER admin; --', ["analytics"])


def test_remedy_redshift_grants_prints_the_rendered_file() -> None:
    done = subprocess.run([sys.executable, "-m", "remedy.cli", "redshift", "grants", "--env", "prod"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert 'GRANT SELECT ON svv_table_info TO "remedy";' in done.stdout
    assert ':"db_user"' not in done.stdout and ":schemas" not in done.stdout
