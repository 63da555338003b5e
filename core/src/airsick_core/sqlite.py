"""SQLite files the embedded default keeps (the DuckLake catalog, MLflow's and Prefect's
stores): deleting rows leaves their bytes in free pages and the write-ahead log."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def vacuum(database: Path) -> None:
    """Rewrite ``database`` without its free pages and empty its write-ahead log, so that
    deleted rows are gone from the disk and not only from the tables."""
    if not database.is_file():
        return
    # VACUUM cannot run inside a transaction: autocommit (isolation_level=None).
    con = sqlite3.connect(database, timeout=60, isolation_level=None)
    try:
        con.execute("pragma wal_checkpoint(truncate)")
        con.execute("vacuum")
        con.execute("pragma wal_checkpoint(truncate)")
    finally:
        con.close()


def sqlite_file(uri: str) -> Path | None:
    """The file of a ``sqlite:<file>`` or ``sqlite:///<file>`` location, else None."""
    if not uri.startswith("sqlite:"):
        return None
    return Path(uri.removeprefix("sqlite:").removeprefix("///").removeprefix("//") or ".")
