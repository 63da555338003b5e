"""DuckDB extensions from their PyPI packages: installed on first use, with no network."""

from __future__ import annotations

import duckdb
from duckdb_extensions import import_extension

# DuckDB's own name for each extension the project uses.
REQUIRED = ("ducklake", "sqlite_scanner", "httpfs", "postgres_scanner")
_PACKAGE_NAME = {"sqlite_scanner": "sqlite", "postgres_scanner": "postgres"}


def ensure_extensions(names: tuple[str, ...] = REQUIRED) -> list[str]:
    """Install the extensions DuckDB does not have yet; return the ones installed now."""
    with duckdb.connect() as con:
        installed = {
            name
            for (name,) in con.execute(
                "select extension_name from duckdb_extensions() where installed"
            ).fetchall()
        }
    missing = [name for name in names if name not in installed]
    for name in missing:
        import_extension(_PACKAGE_NAME.get(name, name))
    return missing
