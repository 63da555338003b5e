"""What Open-Meteo's APIs offer and what airsick asks of them, in one place.

Air quality: ``../shared/open-meteo-api.md``. Weather: ``docs/open-meteo-weather-api.md``.
"""

from __future__ import annotations

from airsick_core.names import AIR_VARIABLES, INDICES, POLLENS, POLLUTANTS, WEATHER_VARIABLES

__all__ = ["INDICES", "POLLENS", "POLLUTANTS", "WEATHER_VARIABLES"]

API_PATH = "/v1/air-quality"

# The hourly variables airsick loads for every place are named once, in airsick_core.names.
HOURLY_VARIABLES = AIR_VARIABLES

# Units as the API writes them (the μ is U+03BC, as in the API's JSON).
UNITS = {
    **{name: "μg/m³" for name in POLLUTANTS},
    "uv_index": "",
    "european_aqi": "EAQI",
    "us_aqi": "USAQI",
    **{name: "grains/m³" for name in POLLENS},
}

# The API's free tier and the weight of one request (open-meteo-api.md, "Errors and limits").
CALLS_PER_MINUTE = 600
MAX_FORECAST_DAYS = 7
FIRST_DATE = "2013-01-01"


def request_weight(n_variables: int, n_days: int, n_places: int = 1) -> float:
    """Return how many calls the API counts for one request."""
    return n_places * max(1.0, n_variables / 10 * max(1.0, n_days / 14))


# Weather (docs/open-meteo-weather-api.md): ERA5 history from the archive API, which runs
# about five days behind (its newest days are null), and the recent past and the forecast
# from the forecast API, which looks back at most 92 days and ahead at most 16.
ARCHIVE_PATH = "/v1/archive"
FORECAST_PATH = "/v1/forecast"
WEATHER_UNITS = {
    "temperature_2m": "°C",
    "relative_humidity_2m": "%",
    "precipitation": "mm",
    "wind_speed_10m": "km/h",
}
ARCHIVE_LAG_DAYS = 5
ARCHIVE_FIRST_DATE = "1940-01-01"
WEATHER_PAST_DAYS = 92
WEATHER_MAX_FORECAST_DAYS = 16
