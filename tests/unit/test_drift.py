"""The drift half of the retrain rule: PSI of PM2.5, new days against the same season."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from airsick_training.drift import DRIFT_MIN_DAYS, Drift, _season, population_stability


def test_the_same_air_does_not_drift():
    rng = np.random.default_rng(0)
    past = rng.lognormal(2.5, 0.5, 700)
    recent = rng.lognormal(2.5, 0.5, 28)
    assert population_stability(recent, past) < 0.1


def test_much_dirtier_air_drifts():
    rng = np.random.default_rng(1)
    past = rng.lognormal(2.0, 0.4, 700)
    recent = rng.lognormal(3.5, 0.4, 28)  # every new day above the old upper quartile
    assert population_stability(recent, past) > 0.25


def test_the_index_matches_its_formula_by_hand():
    past = np.arange(1.0, 101.0)  # quartile edges 25.75, 50.5, 75.25: 25 days per bucket
    recent = np.array([10.0, 90.0, 95.0, 99.0])  # one low day, three high
    r = (np.array([1, 0, 0, 3]) + 1.0) / (4 + 4)
    p = (np.array([25, 25, 25, 25]) + 1.0) / (100 + 4)
    assert population_stability(recent, past) == pytest.approx(np.sum((r - p) * np.log(r / p)))


def test_missing_air_is_left_out_and_no_air_measures_nothing():
    past = np.arange(1.0, 101.0)
    with_gaps = np.array([10.0, np.nan, 90.0, 95.0, np.nan, 99.0])
    assert population_stability(with_gaps, past) == population_stability(
        with_gaps[~np.isnan(with_gaps)], past
    )
    assert population_stability(np.array([np.nan]), past) is None
    assert population_stability(np.array([1.0]), np.array([])) is None


def test_the_season_wraps_round_the_new_year():
    days = np.array([date(2025, 12, 20), date(2025, 6, 1), date(2026, 1, 25)])
    assert _season(days, date(2026, 1, 5)).tolist() == [True, False, True]


def test_drift_needs_enough_new_days_and_an_index_over_the_threshold():
    assert not Drift(0, DRIFT_MIN_DAYS - 1, 3.0).drifted
    assert Drift(0, DRIFT_MIN_DAYS, 0.3).drifted
    assert not Drift(0, DRIFT_MIN_DAYS, 0.2).drifted
    assert not Drift(0, DRIFT_MIN_DAYS, None).drifted
    assert Drift(0, DRIFT_MIN_DAYS, 0.26).measurable
