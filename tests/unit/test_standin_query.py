"""The stand-in's request validation and answer shape, without HTTP."""

import json
from datetime import UTC, datetime

import pytest
from airsick_standin.server import BadRequest, StandIn, parse_query

NOW = datetime(2026, 5, 20, 18, tzinfo=UTC)


def q(**params):
    return {k: [str(v)] for k, v in params.items()}


def test_default_window_is_today_and_five_forecast_days():
    query = parse_query(q(latitude=52.5, longitude=13.4, hourly="pm10"), NOW)
    assert query.last_hour - query.first_hour + 1 == 5 * 24


def test_past_and_forecast_days():
    query = parse_query(q(latitude=1, longitude=1, past_days=2, forecast_days=1), NOW)
    assert query.last_hour - query.first_hour + 1 == 3 * 24


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (q(latitude=91, longitude=0), "Latitude must be in range of -90 to 90°. Given: 91.0."),
        (q(latitude=0, longitude=200), "Longitude must be in range of -180 to 180°. Given: 200.0."),
        (q(latitude="1,2", longitude=1), "must have the same number of elements"),
        (
            q(latitude=1, longitude=1, start_date="2024-02-02", end_date="2024-02-01"),
            "End-date must be larger or equals than start-date",
        ),
        (
            q(latitude=1, longitude=1, start_date="2024-02-01", end_date="2024-02-02", past_days=3),
            "Parameter 'past_days' is mutually exclusive with 'start_date' and 'end_date'",
        ),
        (
            q(latitude=1, longitude=1, start_date="2012-12-31", end_date="2013-01-02"),
            "Parameter 'start_date' is out of allowed range from 2013-01-01 to 2026-05-27",
        ),
        (
            q(latitude=1, longitude=1, forecast_days=8),
            "Forecast days is invalid. Allowed range 0 to 7.",
        ),
        (q(latitude=1, longitude=1, hourly="pm10,sunshine"), "invalid String value sunshine"),
        (q(latitude=1, longitude=1, timezone="Mars/Base"), "Invalid timezone"),
        (q(latitude=1, longitude=1, start_date="2024-1-1", end_date="2024-01-02"), "YYYY-MM-DD"),
    ],
)
def test_bad_requests_get_the_api_reason(params, reason):
    with pytest.raises(BadRequest) as error:
        parse_query(params, NOW)
    assert reason in str(error.value)


def test_too_much_data_is_refused():
    params = q(
        latitude=",".join(["1"] * 100),
        longitude=",".join(["1"] * 100),
        hourly="pm10,pm2_5,ozone,dust,uv_index,us_aqi,european_aqi,sulphur_dioxide,"
        "nitrogen_dioxide,carbon_monoxide,grass_pollen",
        start_date="2014-01-01",
        end_date="2024-01-01",
    )
    with pytest.raises(BadRequest, match="requests too much data"):
        parse_query(params, NOW)


def test_answer_shape_keys_units_and_nulls():
    server = StandIn(now=NOW)
    try:
        status, content_type, raw = server.answer(
            q(
                latitude=24.7136,
                longitude=46.6753,
                hourly="pm10,grass_pollen,us_aqi",
                start_date="2026-05-01",
                end_date="2026-05-02",
            )
        )
    finally:
        server.stop()
    assert status == 200 and content_type == "application/json; charset=utf-8"
    body = json.loads(raw)
    assert list(body)[:7] == [
        "latitude",
        "longitude",
        "generationtime_ms",
        "utc_offset_seconds",
        "timezone",
        "timezone_abbreviation",
        "elevation",
    ]
    assert body["hourly_units"] == {
        "time": "iso8601",
        "pm10": "μg/m³",
        "grass_pollen": "grains/m³",
        "us_aqi": "USAQI",
    }
    assert "μ" in raw.decode()
    assert body["hourly"]["time"][:2] == ["2026-05-01T00:00", "2026-05-01T01:00"]
    assert len(body["hourly"]["time"]) == 48
    assert body["hourly"]["grass_pollen"] == [None] * 48  # Europe-only, Riyadh is not
    assert all(isinstance(v, int) for v in body["hourly"]["us_aqi"])


def test_several_places_timezone_and_unixtime():
    server = StandIn(now=NOW)
    try:
        _, _, raw = server.answer(
            q(
                latitude="52.52,40.42",
                longitude="13.41,-3.70",
                hourly="pm10",
                timezone="Europe/Berlin",
                start_date="2026-01-10",
                end_date="2026-01-10",
            )
        )
        _, _, unix = server.answer(
            q(
                latitude=52.52,
                longitude=13.41,
                hourly="pm10",
                timeformat="unixtime",
                start_date="2026-01-10",
                end_date="2026-01-10",
            )
        )
        _, content_type, csv_body = server.answer(
            q(
                latitude=52.52,
                longitude=13.41,
                hourly="pm10",
                format="csv",
                start_date="2026-01-10",
                end_date="2026-01-10",
            )
        )
    finally:
        server.stop()
    berlin, madrid = json.loads(raw)
    assert "location_id" not in berlin and madrid["location_id"] == 1
    assert berlin["utc_offset_seconds"] == 3600 and berlin["timezone"] == "Europe/Berlin"
    assert berlin["hourly"]["time"][0] == "2026-01-10T00:00"
    assert json.loads(unix)["hourly"]["time"][0] == 1768003200
    # The same UTC hour has the same value in both answers: 2026-01-10T01:00 Berlin = 00:00 UTC.
    utc_first = json.loads(unix)["hourly"]["pm10"][0]
    assert berlin["hourly"]["pm10"][1] == utc_first
    lines = csv_body.decode().splitlines()
    assert (
        content_type.startswith("text/csv") and lines[2] == "" and lines[3] == "time,pm10 (μg/m³)"
    )
