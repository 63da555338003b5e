"""The real Riyadh weather recording, replayed as the API would answer, reaches the
feature mart through the product's own ingestion and dbt build, value for value."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
from airsick_core.settings import Settings
from airsick_lakehouse import connect
from airsick_orchestration import steps

from tests.real_people import SERIES, Replay, StandIn, local_days, recording

pytestmark = [pytest.mark.data, pytest.mark.integration]


def recorded_days(path) -> pd.DataFrame:
    """Daily minimum, maximum and humidity of the recording, by Riyadh's local day."""
    body = json.loads(path.read_text())["weather"]
    hourly = pd.DataFrame(body["hourly"])
    # The recording's times are local (Asia/Riyadh, UTC+3 all year).
    hourly["local_date"] = pd.to_datetime(hourly["time"]).dt.date
    return hourly.groupby("local_date").agg(
        hours=("temperature_2m", "count"),
        temperature_min=("temperature_2m", "min"),
        temperature_max=("temperature_2m", "max"),
        relative_humidity_mean=("relative_humidity_2m", "mean"),
        wind_speed_mean=("wind_speed_10m", "mean"),
    )


def test_the_real_recording_reaches_the_feature_mart(shared_data, tmp_path):
    series = SERIES["riyadh"]
    rec = recording(shared_data, series)
    place = series.place
    _, last = local_days(rec, place)
    settings = Settings(
        home=tmp_path,
        person="riyadh",
        places=f"{place.name}={place.latitude},{place.longitude},{place.timezone}",
        history_start=last - timedelta(days=120),
        as_of=last,
        forecast_days=0,
        open_meteo_calls_per_minute=0,
    )
    now = datetime.combine(last + timedelta(days=1), time(12), UTC)
    with StandIn(replay=Replay([rec]), now=now) as server:
        pointed = settings.model_copy(update={"open_meteo_url": server.url})
        _, weather = steps.ingest(pointed)
    assert weather.rows > 120 * 24
    steps.transform(settings, unit_tests=False)
    with connect(settings.lakehouse) as con:
        mart = con.execute(
            "select local_date, temperature_min, temperature_max, relative_humidity_mean, "
            "wind_speed_mean, precipitation_sum, temperature_change1 "
            "from lake.marts.fct_daily_features order by local_date"
        ).df()
    expected = recorded_days(shared_data / series.file)
    mart["local_date"] = pd.to_datetime(mart["local_date"]).dt.date
    joined = mart.merge(
        expected, left_on="local_date", right_index=True, suffixes=("", "_recorded")
    )
    assert len(joined) >= 120 and (joined["hours"] == 24).all()
    for name in ("temperature_min", "temperature_max", "relative_humidity_mean", "wind_speed_mean"):
        assert np.allclose(joined[name], joined[f"{name}_recorded"]), name
    # The recording has no rain: the mart says unknown, not dry.
    assert mart["precipitation_sum"].isna().all()
    # Riyadh's summer: the days are hot and dry, as recorded.
    assert joined["temperature_max"].max() > 40 and joined["relative_humidity_mean"].min() < 20
    assert mart["temperature_change1"].iloc[1:].notna().all()
