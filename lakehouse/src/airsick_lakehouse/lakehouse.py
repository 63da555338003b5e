"""The DuckLake lakehouse: its catalog (SQLite or Postgres) and its data files in the lake."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import duckdb
from airsick_core import names
from airsick_core.lake import Lakehouse
from airsick_core.sqlite import sqlite_file, vacuum

from airsick_lakehouse.extensions import ensure_extensions

ALIAS = "lake"
# The extension files this process has loaded with their signatures checked. DuckDB checks
# a signature by hashing the whole file at every load (ducklake and sqlite_scanner are 70 MB
# together: a fifth of a second per connection, 28 connections in an evening); a file this
# process has checked once is not checked again (see ``connect``).
_checked: set[tuple[Path, str]] = set()


def prepare(lakehouse: Lakehouse) -> None:
    """Install the extensions and make the local folders the catalog and data need."""
    ensure_extensions(lakehouse.extension_dir)
    if lakehouse.catalog.startswith("sqlite:"):
        Path(lakehouse.catalog.removeprefix("sqlite:")).parent.mkdir(parents=True, exist_ok=True)
    if not lakehouse.on_s3:
        Path(lakehouse.data_path).mkdir(parents=True, exist_ok=True)


def has_raw(lakehouse: Lakehouse, table: str) -> bool:
    """Whether the raw zone holds any file of ``table`` yet."""
    if not lakehouse.on_s3:
        return any(Path(lakehouse.raw(table)).glob("*.parquet"))
    with connect(lakehouse, attach=False) as con:
        found = con.execute("select count(*) from glob(?)", [lakehouse.raw_files(table)])
        return found.fetchone()[0] > 0


@contextmanager
def connect(
    lakehouse: Lakehouse, read_only: bool = True, attach: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open DuckDB with the lakehouse attached as ``lake`` (read-only unless asked).

    ``attach=False`` gives DuckDB with the lake's S3 access only, to read raw files.

    A reader never takes a lock a build needs: the SQLite catalog runs in WAL mode and
    DuckLake reads a consistent snapshot.
    """
    prepare(lakehouse)
    config: dict = {"extension_directory": str(lakehouse.extension_dir)}
    if lakehouse.threads:
        config["threads"] = lakehouse.threads
    loads = {(lakehouse.extension_dir, name) for name in _extensions(lakehouse, attach)}
    checking = not (loads and loads <= _checked)
    if not checking:
        # This process has loaded these very files with their signatures checked.
        config["allow_unsigned_extensions"] = True
    con = duckdb.connect(config=config)
    try:
        secret = lakehouse.s3_secret_sql()
        if secret:
            con.execute(
                secret,
                {
                    "key": lakehouse.s3_key_id or "",
                    "secret": lakehouse.s3_secret or "",
                    "region": lakehouse.s3_region,
                },
            )
        if not attach:
            if checking:
                _remember_checked(con, lakehouse.extension_dir)
            yield con
            return
        options = [f"DATA_PATH {_literal(lakehouse.data_path)}"]
        if lakehouse.catalog.startswith("sqlite:"):
            options += ["META_JOURNAL_MODE 'WAL'", "META_BUSY_TIMEOUT 10000"]
        if read_only:
            options.append("READ_ONLY")
        if lakehouse.snapshot is not None:
            if not read_only:
                raise ValueError("A lakehouse read at a snapshot cannot be written.")
            options.append(f"SNAPSHOT_VERSION {int(lakehouse.snapshot)}")
        # ATTACH takes no bound parameters: quote the settings' paths as SQL literals.
        catalog = _literal(f"ducklake:{lakehouse.catalog}")
        con.execute(f"ATTACH {catalog} AS {ALIAS} ({', '.join(options)})")
        if checking:
            _remember_checked(con, lakehouse.extension_dir)
        yield con
    finally:
        con.close()


def _remember_checked(con: duckdb.DuckDBPyConnection, directory: Path) -> None:
    """Remember the extensions this connection loaded, their signatures checked."""
    loaded = con.execute("select extension_name from duckdb_extensions() where loaded")
    _checked.update((directory, name) for (name,) in loaded.fetchall())


def _extensions(lakehouse: Lakehouse, attach: bool) -> set[str]:
    """The extensions a connection loads: DuckLake and its catalog's scanner to attach the
    lakehouse, httpfs for a lake on S3."""
    needed = {"httpfs"} if lakehouse.on_s3 else set()
    if attach:
        scanner = (
            "sqlite_scanner" if lakehouse.catalog.startswith("sqlite:") else "postgres_scanner"
        )
        needed |= {"ducklake", scanner}
    return needed


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def count_rows(lakehouse: Lakehouse, table: str) -> int:
    """Return the row count of ``schema.table`` in the lakehouse (0 if it does not exist)."""
    with connect(lakehouse) as con:
        return _count(con, table)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    try:
        return int(con.execute(f"select count(*) from {ALIAS}.{table}").fetchone()[0])
    except duckdb.CatalogException:
        return 0


def after_build(lakehouse: Lakehouse, person: str, notes: bool = True) -> tuple[int, int, list]:
    """What a build made, read through one connection (each costs a third of a second):
    the rows of the feature and scoring marts, and ``data_report``'s notes if asked."""
    with connect(lakehouse) as con:
        return (
            _count(con, names.FEATURES),
            _count(con, names.SCORING),
            _report(con, person) if notes else [],
        )


def snapshots(lakehouse: Lakehouse) -> list[tuple[int, object]]:
    """Return (snapshot id, time) of every snapshot the catalog keeps."""
    with connect(lakehouse) as con:
        return con.execute(
            f"select snapshot_id, snapshot_time from {ALIAS}.snapshots() order by snapshot_id"
        ).fetchall()


def current_snapshot(lakehouse: Lakehouse) -> int:
    """The id of the lakehouse's latest snapshot (what a reader sees now)."""
    with connect(lakehouse) as con:
        return int(con.execute(f"select id from {ALIAS}.current_snapshot()").fetchone()[0])


def maintain(lakehouse: Lakehouse, retention: timedelta) -> dict[str, int]:
    """Expire snapshots older than ``retention`` and delete the files nothing refers to.

    Every build writes new files and a new snapshot; without this the lake grows forever.
    """
    older_than = f"now() - INTERVAL '{int(retention.total_seconds())} seconds'"
    with connect(lakehouse, read_only=False) as con:
        before = con.execute(f"select count(*) from {ALIAS}.snapshots()").fetchone()[0]
        con.execute(f"CALL ducklake_expire_snapshots('{ALIAS}', older_than => {older_than})")
        cleaned = con.execute(
            f"CALL ducklake_cleanup_old_files('{ALIAS}', older_than => {older_than})"
        ).fetchall()
        after = con.execute(f"select count(*) from {ALIAS}.snapshots()").fetchone()[0]
    return {"snapshots_expired": int(before - after), "files_deleted": len(cleaned)}


def data_report(lakehouse: Lakehouse, person: str) -> list[str]:
    """Say, one sentence each, what the build set aside or found missing in the data.

    The build does not fail on data as the API sends it (null hours and days, variables a
    place lacks, implausible values) nor on a patchy diary: this is where that is reported.
    """
    with connect(lakehouse) as con:
        return _report(con, person)


def _report(con: duckdb.DuckDBPyConnection, person: str) -> list[str]:
    quarantined = con.execute(
        "select count(*), string_agg(distinct variable, ', ' order by variable) "
        f"from {ALIAS}.{names.QUARANTINED}"
    ).fetchone()
    days = con.execute(
        f"""
        select place, count(*) as days,
               count(*) filter (where not has_enough_data) as thin,
               count(pm2_5_mean) as with_pm2_5, count(pollen_total) as with_pollen,
               count(sick_next_day) as labelled
        from {ALIAS}.{names.FEATURES} where person = ?
        group by place order by place
        """,
        [person],
    ).fetchall()
    notes = []
    if quarantined[0]:
        notes.append(
            f"{quarantined[0]:,} implausible hourly values ({quarantined[1]}) were quarantined "
            "(kept in raw, left out of the features; see int_quarantined_values)"
        )
    for place, total, thin, with_pm2_5, with_pollen, _labelled in days:
        if thin:
            notes.append(f"{place}: {thin} of {total} days have under 3/4 of their hours")
        if with_pm2_5 == 0:
            notes.append(f"{place}: the API sends no PM2.5 here; models do without it")
        if with_pollen == 0:
            notes.append(f"{place}: no pollen data (CAMS pollen covers Europe only)")
    if days:
        total, labelled = days[0][1], days[0][5]
        if labelled * 2 < total:
            notes.append(
                f"the diary labels {labelled} of {total} days; days not logged are unknown, "
                "not well"
            )
    return notes


def forget_person(lakehouse: Lakehouse, person: str) -> dict[str, int]:
    """Remove ``person``'s rows from every table the lakehouse holds; return rows per table.

    Each table with a ``person`` column is rewritten without them (a DuckLake delete alone
    would only mark the rows in a delete file), then every older snapshot is expired and
    the files nothing refers to any more are deleted: no copy of their rows is left. A
    SQLite catalog is then vacuumed, as its free pages still hold the old statistics.
    """
    removed = {}
    with connect(lakehouse, read_only=False) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.columns "
            "join information_schema.tables using (table_catalog, table_schema, table_name) "
            "where table_catalog = ? and column_name = 'person' and table_type = 'BASE TABLE'",
            [ALIAS],
        ).fetchall()
        for schema, table in tables:
            name = f'{ALIAS}."{schema}"."{table}"'
            count = con.execute(
                f"select count(*) from {name} where person = ?", [person]
            ).fetchone()[0]
            if not count:
                continue
            con.execute(
                "create or replace temp table kept as select * from "
                + name
                + " where person is distinct from ?",
                [person],
            )
            con.execute(f"create or replace table {name} as select * from kept")
            removed[f"{schema}.{table}"] = int(count)
    maintain(lakehouse, timedelta(0))
    catalog = sqlite_file(lakehouse.catalog)
    if catalog is not None:
        vacuum(catalog)
    return removed
