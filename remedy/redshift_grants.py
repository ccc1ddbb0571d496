"""The grants a DBA runs for the Redshift service user: sql/redshift-grants.sql, rendered from a catalog.

The file is Redshift SQL with two psql variables: `:"db_user"` (an identifier) and `:schemas` (quoted schema
names, comma-separated). `render` substitutes them the way psql would, so the printed file and
`psql -v db_user=... -v schemas=... -f sql/redshift-grants.sql` run the same statements. The sandbox applies
the rendered file to its Redshift stand-in (sandbox.redshift.RedshiftStandIn.apply_grants).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

GRANTS_FILE = Path(__file__).resolve().parents[1] / "sql" / "redshift-grants.sql"
GRANTS_PATH = "sql/redshift-grants.sql"  # as people are told to find it
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")  # the catalog's SqlIdentifier


def _quoted(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name[:60]!r} is not a catalog SQL identifier")
    return f'"{name}"'


def render(text: str, db_user: str, schemas: Iterable[str]) -> str:
    """The file's text with its psql variables filled in (identifiers double-quoted)."""
    names = sorted(set(schemas))
    if not names:
        raise ValueError("no schema to grant USAGE on")
    return text.replace(':"db_user"', _quoted(db_user)).replace(":schemas", ", ".join(_quoted(s) for s in names))


def for_catalog(catalog: Any, text: str | None = None) -> str:
    """The grants for a catalog's redshift.db_user and schemas (`text`: another version of the file, for tests)."""
    source = GRANTS_FILE.read_text(encoding="utf-8") if text is None else text
    return render(source, catalog.redshift.db_user, catalog.redshift.schemas)
