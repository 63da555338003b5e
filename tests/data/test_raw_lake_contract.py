"""Contracts on what the demo's ingestion actually wrote to the raw zone of the lake."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow.compute as pc
import pytest
from airsick_ingestion.open_meteo.constants import (
    HOURLY_VARIABLES,
    POLLENS,
    POLLUTANTS,
    WEATHER_VARIABLES,
)
from airsick_orchestration import optional, steps

from tests.helpers import read_raw


@pytest.fixture(scope="module")
def demo_lake(demo_settings):
    """The session's demo home, ingested once more: a rerun must not change any contract."""
    with optional.standin_serving(demo_settings) as pointed:
        steps.ingest(pointed)
    return demo_settings


@pytest.fixture(scope="module")
def air(demo_lake):
    return read_raw(demo_lake.lake, "air_quality")


@pytest.fixture(scope="module")
def diary(demo_lake):
    return read_raw(demo_lake.lake, "diary")


def test_air_quality_keys_are_complete_and_unique(air):
    for column in ("place", "time", "fetched_at", "is_forecast", "latitude", "timezone"):
        assert air[column].null_count == 0, column
    keys = air.group_by(["place", "time", "fetched_at"]).aggregate([([], "count_all")])
    assert pc.max(keys["count_all"]).as_py() == 1


def test_every_hour_from_history_start_to_the_forecast_end_is_there(air, demo_lake):
    times = np.unique(air["time"].to_numpy().astype("datetime64[h]"))
    assert (np.diff(times) == np.timedelta64(1, "h")).all(), "a gap in the hours"
    # The UTC day before the first local day is fetched too, so the first local day is whole.
    first = demo_lake.history_first_day() - timedelta(days=1)
    assert str(times[0])[:10] == first.isoformat()
    last = demo_lake.today() + timedelta(days=demo_lake.forecast_days)
    assert str(times[-1]) == f"{last.isoformat()}T23"


def test_forecast_flag_says_whether_the_hour_was_ahead_of_the_fetch(air):
    ahead = pc.greater(air["time"], air["fetched_at"])
    assert pc.all(pc.equal(ahead, air["is_forecast"])).as_py()


def test_values_are_in_the_api_ranges(air):
    for name in POLLUTANTS:
        assert pc.min(air[name]).as_py() >= 0, name
        assert pc.max(air[name]).as_py() < 5000, name
    for name in ("european_aqi", "us_aqi"):
        assert pc.min(air[name]).as_py() >= 0 and pc.max(air[name]).as_py() <= 500
    assert pc.min(air["uv_index"]).as_py() >= 0 and pc.max(air["uv_index"]).as_py() < 13
    # Madrid is in CAMS Europe: pollen is present (zero out of season), missing only where
    # the API sends null hours and days (a few per thousand), as it does for every variable.
    for name in POLLENS:
        assert air[name].null_count < 0.01 * len(air), name
    assert set(HOURLY_VARIABLES) <= set(air.column_names)


def test_diary_has_one_event_per_day_up_to_today(diary, demo_lake):
    dates = diary["date"].to_pylist()
    assert len(dates) == len(set(dates)), "the rerun doubled diary events"
    assert max(dates) == demo_lake.today()
    assert min(dates) == demo_lake.history_first_day()
    assert len(dates) == (max(dates) - min(dates)).days + 1


def test_diary_values_are_consistent(diary):
    rows = diary.to_pylist()
    assert all((r["severity"] is not None) == r["sick"] for r in rows)
    assert all(r["source"] == "persona" for r in rows)
    rate = np.mean([r["sick"] for r in rows])
    assert 0.05 < rate < 0.4


def test_persona_truth_matches_the_diary(demo_lake, diary):
    truth = read_raw(demo_lake.lake, "persona_truth")
    assert truth.num_rows == diary.num_rows
    p = truth["probability"].to_numpy()
    assert ((p > 0) & (p < 1)).all()
    by_date = dict(zip(truth["date"].to_pylist(), truth["sick"].to_pylist(), strict=True))
    assert all(
        by_date[d] == s
        for d, s in zip(diary["date"].to_pylist(), diary["sick"].to_pylist(), strict=True)
    )


@pytest.fixture(scope="module")
def weather(demo_lake):
    return read_raw(demo_lake.lake, "weather")


def test_weather_covers_every_hour_from_the_archive_or_the_forecast(weather, demo_lake):
    keys = weather.group_by(["place", "time", "fetched_at", "source"]).aggregate(
        [([], "count_all")]
    )
    assert pc.max(keys["count_all"]).as_py() == 1, "a rerun doubled weather rows"
    assert set(weather["source"].to_pylist()) == {"archive", "forecast"}
    has_value = pc.is_valid(weather["temperature_2m"])
    times = np.unique(weather.filter(has_value)["time"].to_numpy().astype("datetime64[h]"))
    assert (np.diff(times) == np.timedelta64(1, "h")).all(), "an hour has no weather"
    first = demo_lake.history_first_day() - timedelta(days=1)
    assert str(times[0])[:10] == first.isoformat()
    last = demo_lake.today() + timedelta(days=demo_lake.forecast_days)
    assert str(times[-1]) == f"{last.isoformat()}T23"


def test_the_archive_is_asked_only_for_days_it_has(weather, demo_lake):
    archive = weather.filter(pc.equal(weather["source"], "archive"))
    newest = pc.max(archive["time"]).as_py().date()
    assert newest <= demo_lake.today() - timedelta(days=6)
    for name in WEATHER_VARIABLES:
        assert archive[name].null_count < 0.001 * len(archive), name
