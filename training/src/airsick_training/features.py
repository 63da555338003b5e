"""What each model sees: columns of the feature mart, and the few derived in the model.

Callers send rows of the mart (``fct_scoring_features``); the models derive the rest, so
serving needs no feature code of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = (
    "pm2_5_mean",
    "pm10_mean",
    "nitrogen_dioxide_mean",
    "ozone_max",
    "sulphur_dioxide_mean",
    "carbon_monoxide_mean",
    "dust_mean",
    "uv_index_max",
    "european_aqi_max",
    "us_aqi_max",
    "pollen_total",
)
SUFFIXES = ("", "_lag1", "_lag2", "_lag3", "_roll3", "_roll7", "_change1")
WHO_HOURS = (
    "pm2_5_hours_above_who",
    "pm10_hours_above_who",
    "nitrogen_dioxide_hours_above_who",
    "ozone_hours_above_who",
)
HISTORY = ("sick_today", "sick_days_last_7", "logged_days_last_7", "sick_share_last_7")
CALENDAR = ("weekday", "is_weekend", "day_of_year")
# The day's weather (docs/open-meteo-weather-api.md): AirRater's study of 12,396 symptom
# reports found maximum temperature, humidity and rainfall among the strongest predictors.
WEATHER = (
    "temperature_min",
    "temperature_max",
    "temperature_max_z",  # the day's maximum against the place's own climate (sd)
    "temperature_change1",
    "relative_humidity_mean",
    "precipitation_sum",
    "wind_speed_mean",
)

# The model's inputs: mart columns, all numbers (booleans as 0/1, null as NaN).
INPUT_COLUMNS = (
    *(m + s for m in MEASURES for s in SUFFIXES),
    *WHO_HOURS,
    *HISTORY,
    *CALENDAR,
    *WEATHER,
)

# The interpretable GLM's few inputs: the lagged levels a physician would name first.
GLM_COLUMNS = (
    "pm2_5_mean",
    "pm2_5_mean_lag1",
    "nitrogen_dioxide_mean",
    "ozone_max",
    "pollen_total",
    "sick_today",
    "season_sin",
    "season_cos",
)
LOG_SCALED = frozenset({"pm2_5_mean", "pm2_5_mean_lag1", "nitrogen_dioxide_mean", "pollen_total"})

# Groups of inputs a person understands, for reasons ("PM2.5 raised your risk").
REASON_GROUPS = {
    "PM2.5": tuple(c for c in INPUT_COLUMNS if c.startswith("pm2_5_")),
    "PM10": tuple(c for c in INPUT_COLUMNS if c.startswith("pm10_")),
    "nitrogen dioxide": tuple(c for c in INPUT_COLUMNS if c.startswith("nitrogen_dioxide_")),
    "ozone": tuple(c for c in INPUT_COLUMNS if c.startswith("ozone_")),
    "sulphur dioxide": tuple(c for c in INPUT_COLUMNS if c.startswith("sulphur_dioxide_")),
    "carbon monoxide": tuple(c for c in INPUT_COLUMNS if c.startswith("carbon_monoxide_")),
    "dust": tuple(c for c in INPUT_COLUMNS if c.startswith("dust_")),
    "UV": tuple(c for c in INPUT_COLUMNS if c.startswith("uv_index_")),
    "air-quality index": tuple(
        c for c in INPUT_COLUMNS if c.endswith("aqi_max") or "_aqi_max_" in c
    ),
    "pollen": tuple(c for c in INPUT_COLUMNS if c.startswith("pollen_total")),
    "temperature": (
        "temperature_min",
        "temperature_max",
        "temperature_max_z",
        "temperature_change1",
    ),
    "humidity": ("relative_humidity_mean",),
    "rain": ("precipitation_sum",),
    "wind": ("wind_speed_mean",),
    "being sick lately": HISTORY,
    "time of year": CALENDAR,
}


INDEX = {name: i for i, name in enumerate(INPUT_COLUMNS)}
DERIVED = ("season_sin", "season_cos")


def inputs(frame: pd.DataFrame) -> np.ndarray:
    """Return the model inputs of mart rows as one float matrix, in INPUT_COLUMNS order.

    Models work on this matrix, never on a DataFrame: a served row costs microseconds.
    """
    return frame.loc[:, list(INPUT_COLUMNS)].to_numpy(dtype="float64", na_value=np.nan)


def derived(x: np.ndarray) -> np.ndarray:
    """Append the features models compute themselves: the season as a point on a circle."""
    angle = 2 * np.pi * (x[:, INDEX["day_of_year"]] - 1) / 365.25
    return np.column_stack([x, np.sin(angle), np.cos(angle)])


def positions(columns: list[str] | tuple[str, ...]) -> np.ndarray:
    """Return where ``columns`` sit in ``derived(x)``."""
    extended = {**INDEX, **{n: len(INPUT_COLUMNS) + i for i, n in enumerate(DERIVED)}}
    return np.array([extended[c] for c in columns])


def monotone_constraints(columns: list[str]) -> list[int]:
    """+1 for pollutant and pollen levels (more never lowers the risk), 0 elsewhere."""
    return [
        1
        if any(c.startswith(m) for m in MEASURES)
        and c not in WEATHER
        and not c.endswith("_change1")
        and not c.startswith("uv_index")
        else 0
        for c in columns
    ]
