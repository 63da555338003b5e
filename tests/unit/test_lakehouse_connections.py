"""A lakehouse connection checks its extensions' signatures once per process, not each time.

DuckDB hashes a whole extension file to check its signature at every load (70 MB for
DuckLake and the SQLite scanner); the first connection of a process checks them, the later
ones load the files already checked.
"""

from __future__ import annotations

import duckdb
import pytest
from airsick_core.settings import Settings
from airsick_lakehouse import connect
from airsick_lakehouse import lakehouse as module


def unsigned_allowed(con) -> bool:
    return con.execute("select current_setting('allow_unsigned_extensions')").fetchone()[0]


def test_the_first_connection_checks_signatures_and_the_next_do_not(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "_checked", set())
    lakehouse = Settings(home=tmp_path).lakehouse
    with connect(lakehouse, read_only=False) as con:
        assert not unsigned_allowed(con)
        con.execute("create table lake.t as select 1 as x")
    assert {"ducklake", "sqlite_scanner"} <= {name for _, name in module._checked}
    with connect(lakehouse) as con:
        assert unsigned_allowed(con)
        assert con.execute("select x from lake.t").fetchall() == [(1,)]


def test_a_failed_first_connection_leaves_the_next_checking(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "_checked", set())
    broken = Settings(home=tmp_path).lakehouse
    # A folder where the catalog file should be: ATTACH fails.
    broken = type(broken)(lake_url=broken.lake_url, catalog=f"sqlite:{tmp_path}")
    with pytest.raises(duckdb.Error), connect(broken):
        pass
    assert not module._checked
