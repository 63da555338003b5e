"""What dbt built, checked against an independent recomputation from the raw zone in pandas.

If a feature used data from after its day, or the label were anything but the next day's
diary, these comparisons would disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from airsick_lakehouse import connect

from tests.helpers import read_raw


@pytest.fixture(scope="module")
def features(built_demo) -> pd.DataFrame:
    with connect(built_demo.lakehouse) as con:
        return con.execute("select * from lake.marts.fct_daily_features").df()


@pytest.fixture(scope="module")
def expected(built_demo) -> pd.DataFrame:
    raw = read_raw(built_demo.lake, "air_quality").to_pandas()
    latest = raw.sort_values("fetched_at").groupby(["place", "time"]).tail(1)
    tz = built_demo.place_list[0].timezone
    latest["local_date"] = latest["time"].dt.tz_convert(tz).dt.date
    # The hours of the local day before the first whole one (they come with the UTC day
    # fetched to make the first local day whole) are not a day of history.
    hours = latest.groupby("local_date").size()
    day = pd.Timestamp(hours.index[0]).tz_localize(tz)
    in_day = (day + pd.DateOffset(days=1) - day) / pd.Timedelta(hours=1)  # 23, 24 or 25
    if hours.iloc[0] < in_day:
        latest = latest[latest["local_date"] != hours.index[0]]
    daily = latest.groupby("local_date").agg(
        pm2_5_mean=("pm2_5", "mean"), ozone_max=("ozone", "max")
    )
    daily.index = pd.to_datetime(daily.index)
    daily = daily.asfreq("D")
    out = pd.DataFrame(index=daily.index)
    out["pm2_5_mean"] = daily["pm2_5_mean"]
    out["pm2_5_mean_lag1"] = daily["pm2_5_mean"].shift(1)
    out["pm2_5_mean_lag3"] = daily["pm2_5_mean"].shift(3)
    out["pm2_5_mean_roll7"] = daily["pm2_5_mean"].rolling(7, min_periods=1).mean()
    out["ozone_max_change1"] = daily["ozone_max"].diff()
    diary = read_raw(built_demo.lake, "diary").to_pandas()
    diary = diary.sort_values("recorded_at").groupby("date").tail(1).set_index("date")["sick"]
    diary.index = pd.to_datetime(diary.index)
    out["sick_next_day"] = diary.reindex(out.index + pd.Timedelta(days=1)).to_numpy()
    return out


def test_daily_values_lags_and_rolling_means_match(features, expected):
    got = features.assign(local_date=pd.to_datetime(features["local_date"])).set_index("local_date")
    joined = got.join(expected.add_suffix("_expected"), how="inner")
    assert len(joined) == len(got)
    for column in (
        "pm2_5_mean",
        "pm2_5_mean_lag1",
        "pm2_5_mean_lag3",
        "pm2_5_mean_roll7",
        "ozone_max_change1",
    ):
        np.testing.assert_allclose(
            joined[column].astype(float),
            joined[f"{column}_expected"].astype(float),
            rtol=1e-9,
            equal_nan=True,
            err_msg=column,
        )


def test_the_label_is_the_next_days_diary_and_nothing_else(features, expected):
    got = features.assign(local_date=pd.to_datetime(features["local_date"])).set_index("local_date")
    label = got["sick_next_day"].astype("boolean")
    truth = expected["sick_next_day"].reindex(got.index).astype("boolean")
    assert label.equals(truth)
    # No feature is the label in disguise.
    numeric = got.select_dtypes("number").astype(float)
    known = label.notna()
    for column in numeric:
        values = numeric.loc[known, column]
        if values.nunique() > 1:
            corr = abs(np.corrcoef(values.fillna(values.mean()), label[known].astype(int))[0, 1])
            assert corr < 0.9, column


def test_features_stop_at_today_and_scoring_starts_there(built_demo, features):
    today = pd.Timestamp(built_demo.today())
    assert features["local_date"].max() == today
    with connect(built_demo.lakehouse) as con:
        scoring = con.execute("select * from lake.marts.fct_scoring_features").df()
    assert scoring["local_date"].min() == today
    assert (scoring["predicts_date"] == scoring["local_date"] + pd.Timedelta(days=1)).all()
    assert (scoring.loc[scoring["local_date"] > today, "forecast_share"] == 1).all()
    assert scoring["sick_next_day"].isna().all()


def test_weather_reaches_the_mart_as_recomputed_from_raw(built_demo, features):
    """The day's weather from the stand-in, recomputed in pandas: the archive's value of an
    hour where it has one, else the latest forecast fetch."""
    raw = read_raw(built_demo.lake, "weather").to_pandas()
    raw = raw[raw["temperature_2m"].notna()]
    raw["archive"] = raw["source"] == "archive"
    kept = raw.sort_values(["archive", "fetched_at"]).groupby(["place", "time"]).tail(1)
    tz = built_demo.place_list[0].timezone
    kept["local_date"] = pd.to_datetime(kept["time"].dt.tz_convert(tz).dt.date)
    daily = kept.groupby("local_date").agg(
        hours=("temperature_2m", "size"),
        temperature_max=("temperature_2m", "max"),
        precipitation_sum=("precipitation", "sum"),
    )
    mart = features.assign(local_date=pd.to_datetime(features["local_date"])).set_index(
        "local_date"
    )
    joined = mart[["temperature_max", "precipitation_sum"]].merge(
        daily, left_index=True, right_index=True, suffixes=("", "_raw")
    )
    whole = joined[joined["hours"] >= 23]
    assert len(whole) >= len(mart) - 2
    assert np.allclose(whole["temperature_max"], whole["temperature_max_raw"])
    assert np.allclose(whole["precipitation_sum"], whole["precipitation_sum_raw"])
    change = mart["temperature_mean"].diff()
    consecutive = mart.index.to_series().diff() == pd.Timedelta(days=1)
    assert np.allclose(
        change[consecutive].dropna(), mart["temperature_change1"][consecutive].dropna()
    )
