"""What the air-quality API offers and what airsick asks of it, in one place."""

from __future__ import annotations

API_PATH = "/v1/air-quality"

# The hourly variables airsick loads for every place (issue: foundation and ingestion).
POLLUTANTS = (
    "pm10",
    "pm2_5",
    "carbon_monoxide",
    "nitrogen_dioxide",
    "sulphur_dioxide",
    "ozone",
    "dust",
)
INDICES = ("uv_index", "european_aqi", "us_aqi")
POLLENS = (
    "alder_pollen",
    "birch_pollen",
    "grass_pollen",
    "mugwort_pollen",
    "olive_pollen",
    "ragweed_pollen",
)
HOURLY_VARIABLES = POLLUTANTS + INDICES + POLLENS

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
