"""The simulator: deterministic, window-independent, plausible, nulls where the API has them."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from airsick_ingestion.open_meteo.constants import HOURLY_VARIABLES
from airsick_standin.simulator import Simulator, dust_belt, grid_cell, in_europe

H0 = int(np.datetime64("2025-01-01T00", "h").astype(np.int64))
MADRID = (40.4168, -3.7038)
RIYADH = (24.7136, 46.6753)


def test_same_place_and_hour_give_the_same_value_whatever_the_window():
    sim = Simulator()
    whole = sim.hourly(*MADRID, H0, H0 + 24 * 60 - 1, HOURLY_VARIABLES)
    part = sim.hourly(*MADRID, H0 + 24 * 30, H0 + 24 * 31 - 1, HOURLY_VARIABLES)
    for name in HOURLY_VARIABLES:
        np.testing.assert_array_equal(part[name], whole[name][24 * 30 : 24 * 31])
    again = Simulator().hourly(*MADRID, H0, H0 + 24 * 60 - 1, HOURLY_VARIABLES)
    for name in HOURLY_VARIABLES:
        np.testing.assert_array_equal(again[name], whole[name])


def test_places_differ_and_values_are_in_the_api_ranges():
    sim = Simulator()
    madrid = sim.hourly(*MADRID, H0, H0 + 24 * 365 - 1, HOURLY_VARIABLES)
    riyadh = sim.hourly(*RIYADH, H0, H0 + 24 * 365 - 1, HOURLY_VARIABLES)
    assert np.nanmean(riyadh["pm10"]) > 10 * np.nanmean(madrid["pm10"])
    for name in ("pm10", "pm2_5", "carbon_monoxide", "nitrogen_dioxide", "ozone", "dust"):
        assert np.nanmin(madrid[name]) >= 0
    assert np.nanmin(madrid["european_aqi"]) >= 0 and np.nanmax(madrid["us_aqi"]) <= 500
    assert np.nanmax(madrid["uv_index"]) < 13
    assert np.nanmin(madrid["uv_index"]) == 0  # nights
    # Rounded as the API rounds: one decimal for μg/m³, integers for the indices.
    np.testing.assert_array_equal(madrid["pm10"], np.round(madrid["pm10"], 1))
    np.testing.assert_array_equal(madrid["us_aqi"], np.round(madrid["us_aqi"]))


def test_pollen_exists_in_europe_only_and_in_season():
    sim = Simulator()
    madrid = sim.hourly(*MADRID, H0, H0 + 24 * 365 - 1, ["grass_pollen", "birch_pollen"])
    riyadh = sim.hourly(*RIYADH, H0, H0 + 24 * 365 - 1, ["grass_pollen"])
    assert np.isnan(riyadh["grass_pollen"]).all()
    grass = madrid["grass_pollen"]
    may_june = grass[24 * 130 : 24 * 175]
    december = grass[24 * 335 : 24 * 365]
    assert np.nanmean(may_june) > 10 * max(np.nanmean(december), 0.01)


def test_series_persist_like_real_air():
    pm = pd.Series(Simulator().hourly(*MADRID, H0, H0 + 24 * 365 - 1, ["pm2_5"])["pm2_5"])
    lag1 = pm.autocorr(1)  # pairs with a null hour are left out, as the API sends nulls
    lag168 = pm.autocorr(168)
    assert lag1 > 0.9
    assert 0 < lag168 < lag1


def test_the_api_sends_null_hours_and_null_days_at_a_realistic_rate():
    pm = Simulator().hourly(*RIYADH, H0, H0 + 24 * 3 * 365 - 1, ["pm10", "pm2_5"])
    null = np.isnan(pm["pm10"])
    # The Riyadh recording: 51 null PM10 hours in 26,304 (0.2 %); here hours and whole days.
    assert 0.001 < null.mean() < 0.01
    whole_days = np.isnan(pm["pm10"].reshape(-1, 24)).all(axis=1) & np.isnan(
        pm["pm2_5"].reshape(-1, 24)
    ).all(axis=1)
    assert 0 < whole_days.sum() < 10


def test_dust_storms_stay_within_what_cams_sends():
    pm10 = Simulator().hourly(*RIYADH, H0, H0 + 24 * 3 * 365 - 1, ["pm10"])["pm10"]
    # The Riyadh recording peaks at 3,271 μg/m³ (99th percentile 3,114), median 471.
    assert np.nanmax(pm10) < 3500
    assert 2500 < np.nanquantile(pm10, 0.99) < 3400
    assert 300 < np.nanmedian(pm10) < 700


def test_forecast_hours_are_revised_and_become_truth_once_past():
    sim = Simulator()
    hour = H0 + 24 * 10 + 12
    truth = sim.hourly(*MADRID, hour, hour, ["pm2_5"])["pm2_5"][0]
    day1 = datetime.fromtimestamp((hour - 48) * 3600, UTC)
    day2 = datetime.fromtimestamp((hour - 24) * 3600, UTC)
    later = datetime.fromtimestamp((hour + 1) * 3600, UTC)
    first = sim.hourly(*MADRID, hour, hour, ["pm2_5"], issued_at=day1)["pm2_5"][0]
    second = sim.hourly(*MADRID, hour, hour, ["pm2_5"], issued_at=day2)["pm2_5"][0]
    past = sim.hourly(*MADRID, hour, hour, ["pm2_5"], issued_at=later)["pm2_5"][0]
    assert first != second
    assert past == truth


def test_geography_helpers():
    assert in_europe(*MADRID) and not in_europe(*RIYADH)
    assert dust_belt(*RIYADH) > 0.5 > dust_belt(*MADRID)
    lat, lon = grid_cell(*RIYADH)
    assert lat == pytest.approx(24.8, abs=0.01) and lon == pytest.approx(46.8, abs=0.01)


def test_seasons_turn_south_of_the_equator():
    sydney, madrid = (-33.87, 151.21), (40.42, -3.70)
    year = H0 + np.arange(0, 24 * 365)

    def winter_to_summer(place):
        no2 = Simulator().hourly(*place, int(year[0]), int(year[-1]), ["nitrogen_dioxide"])
        by_day = np.nanmean(no2["nitrogen_dioxide"].reshape(-1, 24), axis=1)
        return np.nanmean(by_day[:59]) / np.nanmean(by_day[152:243])  # Jan-Feb over Jun-Aug

    # NO2 peaks in winter: January in Madrid, July in Sydney.
    assert winter_to_summer(madrid) > 1.1
    assert winter_to_summer(sydney) < 1 / 1.1
