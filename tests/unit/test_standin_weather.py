"""The stand-in's weather endpoints honour docs/open-meteo-weather-api.md, and the plan
sends each day to the endpoint that has it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from airsick_ingestion.open_meteo.client import validate_body
from airsick_ingestion.open_meteo.constants import WEATHER_UNITS, WEATHER_VARIABLES
from airsick_ingestion.open_meteo.source import FetchPlan
from airsick_ingestion.open_meteo.weather import WeatherPlan
from airsick_standin.server import ARCHIVE, FORECAST, StandIn

NOW = datetime(2026, 7, 20, 12, tzinfo=UTC)
HOURLY = ",".join(WEATHER_VARIABLES)


@pytest.fixture(scope="module")
def standin():
    return StandIn(now=NOW)  # answered directly, no socket served


def ask(standin, endpoint, **params):
    status, _, body = standin.answer(
        {k: [str(v)] for k, v in {"latitude": 24.71, "longitude": 46.68, **params}.items()},
        endpoint,
    )
    return status, json.loads(body)


def test_archive_answers_history_with_the_api_units(standin):
    status, body = ask(
        standin, ARCHIVE, hourly=HOURLY, start_date="2024-01-01", end_date="2024-01-31"
    )
    assert status == 200
    validate_body(body, WEATHER_VARIABLES)
    assert len(body["hourly"]["time"]) == 31 * 24
    assert body["hourly_units"] == {"time": "iso8601", **WEATHER_UNITS}
    temperature = np.array(body["hourly"]["temperature_2m"], dtype=float)
    assert 5 < temperature.min() < temperature.max() < 35  # Riyadh in January
    humidity = np.array(body["hourly"]["relative_humidity_2m"], dtype=float)
    assert (humidity >= 0).all() and (humidity <= 100).all()


def test_archive_is_null_for_the_days_era5_has_not_reached(standin):
    status, body = ask(
        standin, ARCHIVE, hourly="temperature_2m", start_date="2026-07-10", end_date="2026-07-20"
    )
    assert status == 200
    values = body["hourly"]["temperature_2m"]
    times = body["hourly"]["time"]
    reached = (NOW - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    assert all(v is not None for t, v in zip(times, values, strict=True) if t <= reached)
    assert all(v is None for t, v in zip(times, values, strict=True) if t > reached)


def test_forecast_covers_recent_days_and_sixteen_ahead_but_not_further_back(standin):
    status, body = ask(standin, FORECAST, hourly=HOURLY, past_days=7, forecast_days=16)
    assert status == 200
    assert len(body["hourly"]["time"]) == (7 + 16) * 24
    assert all(v is not None for v in body["hourly"]["temperature_2m"])
    status, body = ask(
        standin, FORECAST, hourly=HOURLY, start_date="2026-01-01", end_date="2026-07-21"
    )
    assert status == 400
    assert "out of allowed range" in body["reason"]


def test_weather_endpoints_refuse_air_variables_and_air_refuses_weather(standin):
    status, body = ask(
        standin, ARCHIVE, hourly="pm2_5", start_date="2024-01-01", end_date="2024-01-01"
    )
    assert status == 400 and "pm2_5" in body["reason"]
    status, _, _ = standin.answer(
        {"latitude": ["1"], "longitude": ["1"], "hourly": ["temperature_2m"]}
    )
    assert status == 400


def test_a_forecast_hour_is_revised_by_the_next_days_run_and_history_is_not(standin):
    later = StandIn(now=NOW + timedelta(days=1))
    params = {"hourly": "temperature_2m", "start_date": "2026-07-15", "end_date": "2026-07-23"}
    _, today = ask(standin, FORECAST, **params)
    _, tomorrow = ask(later, FORECAST, **params)
    a, b = (np.array(x["hourly"]["temperature_2m"], dtype=float) for x in (today, tomorrow))
    past = slice(0, 5 * 24)
    assert np.array_equal(a[past], b[past])
    assert not np.array_equal(a[-48:], b[-48:])


def test_the_plan_sends_history_to_the_archive_and_the_rest_to_the_forecast():
    plan = WeatherPlan(FetchPlan(today=date(2026, 7, 20), history_start=date(2025, 7, 20)))
    first = plan.archive_windows(None)
    assert first[0].start == date(2025, 7, 19)  # the UTC day before the first local day
    assert first[-1].end == date(2026, 7, 14)  # ERA5 is five days behind
    recent = plan.forecast_window()
    assert recent.start <= first[-1].end + timedelta(days=1)  # no day falls between them
    assert recent.end == date(2026, 7, 24)  # today + 4 forecast days
    # The next day asks the archive again only for the overlap and the newly final day.
    again = WeatherPlan(FetchPlan(today=date(2026, 7, 21), history_start=date(2025, 7, 20)))
    windows = again.archive_windows(date(2026, 7, 14))
    assert [(w.start, w.end) for w in windows] == [(date(2026, 7, 12), date(2026, 7, 15))]


def test_a_backfill_of_old_days_asks_only_the_archive():
    plan = WeatherPlan(
        FetchPlan(
            today=date(2026, 7, 20),
            history_start=date(2024, 1, 1),
            backfill=(date(2024, 3, 1), date(2024, 3, 31)),
        )
    )
    windows = plan.archive_windows(date(2026, 7, 14))
    assert (windows[0].start, windows[-1].end) == (date(2024, 2, 29), date(2024, 4, 1))
    assert plan.forecast_window() is None
