"""DuckDB extensions from their PyPI packages: installed on first use, with no network."""

from __future__ import annotations

from pathlib import Path

import duckdb
from duckdb_extensions import import_extension

# DuckDB's own name for each extension the project uses.
REQUIRED = ("ducklake", "sqlite_scanner", "httpfs", "postgres_scanner")
_PACKAGE_NAME = {"sqlite_scanner": "sqlite", "postgres_scanner": "postgres"}


def ensure_extensions(directory: Path, names: tuple[str, ...] = REQUIRED) -> list[str]:
    """Install into ``directory`` the extensions it lacks; return the ones installed now."""
    directory.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(config={"extension_directory": str(directory)}) as con:
        installed = {
            name
            for (name,) in con.execute(
                "select extension_name from duckdb_extensions() where installed"
            ).fetchall()
        }
        missing = [name for name in names if name not in installed]
        for name in missing:
            import_extension(_PACKAGE_NAME.get(name, name), con=con)
    return missing
