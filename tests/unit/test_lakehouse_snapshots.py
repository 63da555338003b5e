"""A lakehouse read at a snapshot sees that build, whatever is committed after it: the
evening's trainings on a cluster all read the build they follow."""

from __future__ import annotations

from dataclasses import replace

import pytest
from airsick_core.settings import Settings
from airsick_lakehouse import connect, current_snapshot


def test_a_reader_at_a_snapshot_sees_that_build_and_not_what_came_after(tmp_path):
    lakehouse = Settings(home=tmp_path).lakehouse
    with connect(lakehouse, read_only=False) as con:
        con.execute("create table lake.t as select 1 as x")
    built = current_snapshot(lakehouse)
    with connect(lakehouse, read_only=False) as con:
        con.execute("insert into lake.t values (2)")
    assert current_snapshot(lakehouse) > built
    with connect(replace(lakehouse, snapshot=built)) as con:
        assert con.execute("select x from lake.t").fetchall() == [(1,)]
    with connect(lakehouse) as con:
        assert sorted(con.execute("select x from lake.t").fetchall()) == [(1,), (2,)]
    pinned = replace(lakehouse, snapshot=built)
    with pytest.raises(ValueError, match="cannot be written"), connect(pinned, read_only=False):
        pass
