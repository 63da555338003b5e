"""The names the components share, spelled once.

Python reads them from here; dbt reads the variable lists through the ``airsick`` var that
``airsick transform`` passes (see ``dbt_vars``), and its model files carry the table names
(``tests/unit/test_names.py`` checks that the two agree).
"""

from __future__ import annotations

# The raw zone's tables (``Lakehouse.raw(table)``): what dlt and batch scoring append to.
AIR_QUALITY = "air_quality"
WEATHER = "weather"
DIARY = "diary"
PREDICTIONS = "predictions"
PERSONA_TRUTH = "persona_truth"  # the demo persona's true daily probabilities (the oracle)
PEOPLE = "people"  # who the home serves and their places (airsick_stores.people)
# Tables holding one person's data, removed by `airsick forget`.
PERSONAL_TABLES = (DIARY, PREDICTIONS, PERSONA_TRUTH, PEOPLE)

# The lakehouse tables dbt builds that other components read (schema.table).
FEATURES = "marts.fct_daily_features"
SCORING = "marts.fct_scoring_features"
HINDCAST = "hindcast.fct_hindcast"
HINDCAST_MONTHLY = "hindcast.fct_hindcast_monthly"
QUARANTINED = "intermediate.int_quarantined_values"

# The registered models and their aliases: one registered model per person, named
# ``airsick-<person>`` and tagged ``person`` (``model_name``).
MODEL_NAME = "airsick"
CHAMPION = "champion"
CHALLENGER = "challenger"


# The prior learnt from everyone's diaries: a registered model of its own (a name no person
# can have: theirs take no dots), its current version under ``CURRENT``.
PRIOR_MODEL = "airsick.population-prior"
PRIOR_SUMS = "prior-sums.json"  # the version's run artifact: the population's sums
CURRENT = "current"

# The one served model for everyone (``airsick_training.router``): it routes each request
# to the named person's champion. A version per version of airsick's code, ``CURRENT``
# the one `airsick serve` serves.
ROUTER_MODEL = "airsick.everyone"


def model_name(person: str) -> str:
    """The person's registered model: their versions, their gate's decisions, their
    ``@champion``."""
    return f"{MODEL_NAME}-{person}"


# The hourly variables asked of Open-Meteo (../shared/open-meteo-api.md and
# docs/open-meteo-weather-api.md).
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
AIR_VARIABLES = POLLUTANTS + INDICES + POLLENS
WEATHER_VARIABLES = (
    "temperature_2m",
    "relative_humidity_2m",
    "precipitation",
    "wind_speed_10m",
)

# What a person reads for each hourly variable: the factors the model's reasons name.
FACTOR_NAMES = {
    "pm2_5": "PM2.5",
    "pm10": "PM10",
    "nitrogen_dioxide": "nitrogen dioxide",
    "ozone": "ozone",
    "sulphur_dioxide": "sulphur dioxide",
    "dust": "dust",
    "uv_index": "UV",
    "pollen": "pollen",  # the sum of the pollens
    "temperature_2m": "temperature",
    "relative_humidity_2m": "humidity",
    "precipitation": "rain",
    "wind_speed_10m": "wind",
}


def dbt_vars() -> dict[str, dict[str, list[str]]]:
    """The names dbt's macros read, as the ``airsick`` var (``macros/air_quality.sql``)."""
    return {
        "airsick": {
            "pollutants": list(POLLUTANTS),
            "indices": list(INDICES),
            "pollens": list(POLLENS),
            "weather": list(WEATHER_VARIABLES),
        }
    }
