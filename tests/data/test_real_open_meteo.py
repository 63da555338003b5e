"""Real recorded Open-Meteo series (../shared): replayed through the real ingestion code.

These tests skip cleanly when ../shared is absent.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pyarrow.compute as pc
import pytest
from airsick_core.places import Place
from airsick_ingestion.open_meteo.client import OpenMeteoClient, RateBudget
from airsick_ingestion.open_meteo.source import FetchPlan, load_air_quality
from airsick_standin.calibration import compare
from airsick_standin.replay import Replay
from airsick_standin.server import StandIn

from tests.helpers import read_raw

RIYADH = Place("riyadh", 24.7136, 46.6753, "Asia/Riyadh")
NOW = datetime(2026, 7, 26, 12, tzinfo=UTC)


def replay_ingest(files, tmp_path, backfill):
    with StandIn(replay=Replay(files), now=NOW) as server:
        return load_air_quality(
            [RIYADH],
            lake_url=str(tmp_path / "lake"),
            pipelines_dir=tmp_path / "dlt",
            client=OpenMeteoClient(server.url, budget=RateBudget(0)),
            plan=FetchPlan(today=NOW.date(), history_start=backfill[0], backfill=backfill),
            now=lambda: NOW,
        )


def recorded(path):
    body = json.loads(path.read_text())["air_quality"]
    offset = np.timedelta64(body["utc_offset_seconds"], "s")
    times = np.array(body["hourly"]["time"], dtype="datetime64[s]") - offset
    return times.astype("datetime64[us]"), body["hourly"]


def test_replaying_three_years_of_riyadh_lands_exactly_its_hours_and_values(shared_data, tmp_path):
    path = shared_data / "riyadh_2023-07-26_2026-07-25.json"
    times, hourly = recorded(path)
    result = replay_ingest([path], tmp_path, (date(2023, 7, 25), date(2026, 7, 25)))
    assert result.rows == len(times) == 26_304

    table = read_raw(tmp_path / "lake", "air_quality").sort_by("time")
    landed = table["time"].to_numpy().astype("datetime64[us]")
    np.testing.assert_array_equal(landed, times)
    assert table["pm10"].to_pylist() == hourly["pm10"]
    assert table["pm2_5"].to_pylist() == hourly["pm2_5"]
    assert table["pm10"].null_count == 51  # nulls are kept, not dropped or filled
    assert table["pm2_5"].null_count == 0
    null_hour = table.filter(pc.is_null(table["pm10"]))["time"].to_pylist()
    # 2024-11-25T23:00 in Riyadh (UTC+3) is 20:00 UTC.
    assert datetime(2024, 11, 25, 20, tzinfo=UTC) in null_hour
    # Variables the recording does not have are null, as the API would answer them.
    assert table["ozone"].null_count == table.num_rows
    assert max(table["pm10"].to_pylist(), key=lambda v: v or 0) > 3000  # dust storms


def test_overlapping_riyadh_windows_agree_hour_by_hour(shared_data, tmp_path):
    earlier = shared_data / "riyadh_2026-04-25_2026-07-24.json"
    later = shared_data / "riyadh_2026-04-26_2026-07-25.json"
    replay_ingest([earlier], tmp_path, (date(2026, 4, 24), date(2026, 7, 24)))
    replay_ingest([later], tmp_path, (date(2026, 4, 25), date(2026, 7, 25)))
    table = read_raw(tmp_path / "lake", "air_quality")
    per_hour = table.group_by("time").aggregate(
        [("pm10", "count_distinct"), ("pm2_5", "count_distinct"), ("fetched_at", "count")]
    )
    shared_hours = per_hour.filter(pc.equal(per_hour["fetched_at_count"], 2))
    assert shared_hours.num_rows == 90 * 24
    assert pc.max(shared_hours["pm2_5_count_distinct"]).as_py() == 1
    assert pc.max(shared_hours["pm10_count_distinct"]).as_py() <= 1
    nulls = table.filter(pc.is_null(table["pm10"]))["time"].to_pylist()
    assert datetime(2026, 5, 16, 18, tzinfo=UTC) in nulls  # 21:00 Riyadh time


@pytest.mark.parametrize("tolerance", [{"mean_factor": 1.7, "ac1": 0.05, "ac24": 0.2}])
def test_the_simulator_is_calibrated_against_real_series(shared_data, tolerance):
    """Levels within a factor (one model serves every European city), persistence closely."""
    for series, real, sim in compare(shared_data):
        what = f"{series.place} {series.variable}"
        assert abs(np.log(sim.mean / real.mean)) <= np.log(tolerance["mean_factor"]), what
        assert abs(sim.ac1 - real.ac1) <= tolerance["ac1"], what
        assert abs(sim.ac24 - real.ac24) <= tolerance["ac24"], what
