"""The population prior and the personal model: day zero, short diaries, missing inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from airsick_training import prior
from airsick_training.evaluate import folds_for, weekly_folds
from airsick_training.features import INDEX, INPUT_COLUMNS
from airsick_training.models import (
    GradientBoosting,
    LogisticGLM,
    PersonalLogistic,
    PopulationPrior,
    default_specs,
    make_model,
)
from airsick_training.promote import without_backtest

# Each test draws from its own generator, so its data does not depend on which ran before.
SEED = 7


def days(n: int, pm2_5: np.ndarray | None = None) -> np.ndarray:
    """Model inputs for ``n`` days: PM2.5 as given (else typical), the rest missing."""
    x = np.full((n, len(INPUT_COLUMNS)), np.nan)
    x[:, INDEX["pm2_5_mean"]] = 15.0 if pm2_5 is None else pm2_5
    x[:, INDEX["day_of_year"]] = np.arange(n) % 365 + 1
    return x


def person(n: int, slope: float = 1.2, base: float = 0.25, seed: int = SEED):
    """A person whose risk rises with log PM2.5 (and nothing else), with their diary."""
    rng = np.random.default_rng(seed)
    pm = np.exp(rng.normal(np.log(15), 0.6, n))
    logit = np.log(base / (1 - base)) + slope * np.log(pm / 15)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return days(n, pm), y


def test_day_zero_answers_from_the_prior_and_the_base_rate():
    model = PopulationPrior().fit(days(0), np.array([]))
    p = model.predict_proba(days(1))
    # At the reference levels (and a missing rest) the answer is the population base rate,
    # give or take the season.
    assert abs(p[0] - prior.BASE_RATE) < 0.03
    assert model.evidence_days == 0


def test_every_prior_term_has_a_stated_source_direction_and_width():
    assert len(prior.NAMES) == len(prior.MEANS) == len(prior.SDS)
    for term in prior.TERMS:
        assert term.column in INDEX
        assert term.sd > 0
    pollutants = [t for t in prior.TERMS if t.factor in ("PM2.5", "PM10", "nitrogen dioxide")]
    assert all(t.mean > 0 for t in pollutants)  # published associations are harmful


def test_missing_inputs_contribute_nothing_so_pollen_outside_europe_is_simply_absent():
    model = PopulationPrior().fit(days(0), np.array([]))
    x = days(3)
    with_pollen = x.copy()
    with_pollen[:, INDEX["pollen_total"]] = 0.0  # log1p(0) = 0: the reference
    np.testing.assert_allclose(model.predict_proba(x), model.predict_proba(with_pollen))


def test_the_personal_model_moves_from_the_prior_with_the_evidence():
    x, y = person(2000)
    few = PersonalLogistic().fit(x[:20], y[:20])
    many = PersonalLogistic().fit(x, y)
    slope = prior.NAMES.index("pm2_5")
    start = prior.MEANS[slope]
    # With 20 days the slope has moved little and is unsure; with 2,000 it is near the truth.
    assert abs(few.coefficients[slope] - start) < abs(many.coefficients[slope] - start)
    assert abs(many.coefficients[slope] - 1.2) < 0.25
    widths = [m.table.loc["pm2_5", "high"] - m.table.loc["pm2_5", "low"] for m in (few, many)]
    assert widths[1] < widths[0] / 3
    assert many.evidence_days == 2000


def test_a_short_diary_of_one_outcome_still_fits():
    x, _ = person(10)
    model = PersonalLogistic().fit(x, np.zeros(10, dtype=int))
    p = model.predict_proba(x)
    assert np.isfinite(p).all() and (p < prior.BASE_RATE).all()


def test_candidates_follow_the_evidence():
    assert set(default_specs(0, labelled_days=30)) == {
        "base_rate",
        "persistence",
        "prior",
        "personal_level",
        "personal",
        "personal_air",
    }
    assert "glm" in default_specs(0, labelled_days=200)
    assert "gbm" in default_specs(0, labelled_days=400)
    spec = PersonalLogistic().spec()
    assert make_model(spec).spec() == spec
    level = PersonalLogistic(learns="level").spec()
    assert make_model(level).spec() == level
    air_only = default_specs(0, labelled_days=30)["personal_air"]
    assert not set(air_only["inputs"]) & prior.WEATHER_TERMS
    assert set(spec["inputs"]) >= prior.WEATHER_TERMS


def test_the_air_only_variant_ignores_the_weather():
    x, y = person(400)
    x[:, INDEX["temperature_max"]] = np.linspace(0, 40, len(x))
    x[:, INDEX["temperature_max_z"]] = np.linspace(-2, 2, len(x))
    air = PersonalLogistic(weather=False).fit(x, y)
    hotter = x.copy()
    hotter[:, INDEX["temperature_max"]] += 15
    hotter[:, INDEX["temperature_max_z"]] += 1.5
    assert np.allclose(air.predict_proba(x), air.predict_proba(hotter))
    assert "temperature_max" not in air.table.index


def test_models_that_learn_from_scratch_drop_inputs_with_no_value_at_all():
    x, y = person(400)
    x[:, INDEX["sick_today"]] = np.random.default_rng(SEED + 1).integers(0, 2, 400)
    # pollen_total and every other column but PM2.5, the calendar and the diary are all null.
    for model in (LogisticGLM(), GradientBoosting(max_iter=20)):
        p = model.fit(x, y).predict_proba(x)
        assert np.isfinite(p).all()


def test_weekly_folds_for_short_diaries_leave_the_future_out():
    dates = pd.Series(pd.date_range("2025-01-01", periods=60, freq="D"))
    folds = weekly_folds(dates)
    assert folds and len(folds) <= 7
    for fold in folds:
        assert (dates <= fold.train_end).sum() >= 14
        assert fold.train_end + pd.Timedelta(days=1) < fold.test_start
        assert (fold.test_end - fold.test_start).days <= 6
    for before, after in itertools.pairwise(folds):
        assert before.test_end < after.test_start
    assert folds[-1].test_end == dates.max()
    assert weekly_folds(dates.head(15)) == []  # two weeks are too few to test anything
    assert folds_for(dates)[0] == "weekly"
    long = pd.Series(pd.date_range("2023-01-01", periods=900, freq="D"))
    assert folds_for(long)[0] == "monthly"


def test_a_gappy_diary_still_gets_folds():
    dates = pd.Series(pd.date_range("2025-01-01", periods=120, freq="2D"))  # every other day
    assert len(weekly_folds(dates)) >= 10


def test_rule_zero_the_prior_answers_on_day_zero_and_its_update_from_the_first_day():
    first = without_backtest(0, champion_kind=None)
    assert first.promote and "not personal yet" in first.reason
    updated = without_backtest(1, champion_kind="prior")
    assert updated.promote and "updated by 1 labelled days" in updated.reason
    assert without_backtest(9, champion_kind="personal").promote
    kept = without_backtest(9, champion_kind="gbm")
    assert not kept.promote and "stays" in kept.reason


def test_seven_sick_days_of_seven_move_the_base_rate_most_of_the_way():
    """The first week of someone who is often sick: the answer leaves the prior's 12 %."""
    x = days(7)
    x[1:, INDEX["sick_today"]] = 1.0  # each day's "sick today" is the day before's entry
    fitted = PersonalLogistic(learns="level").fit(x, np.ones(7))
    prior_only = PopulationPrior().fit(x, np.ones(7))
    typical = days(1)  # a day with no diary features: the person's level itself
    assert prior_only.predict_proba(typical)[0] < 0.15
    assert fitted.predict_proba(typical)[0] > 0.4
    after_sick = days(1)
    after_sick[:, INDEX["sick_today"]] = 1.0
    assert fitted.predict_proba(after_sick)[0] > prior_only.predict_proba(after_sick)[0] + 0.2


def test_a_single_day_moves_the_level_and_no_slope():
    """Rule 0's model from one logged day: one well day in a dust storm with high ozone
    lowers the person's level a little; what each pollutant does to them stays the prior's
    (with the prior's uncertainty), so that one day cannot halve the next months' answers."""
    x = days(1, np.array([80.0]))
    x[:, INDEX["pm10_mean"]] = 600.0
    x[:, INDEX["ozone_max"]] = 190.0
    x[:, INDEX["sick_today"]] = 0.0
    level = PersonalLogistic(learns="level").fit(x, np.zeros(1))
    table = level.table
    slopes = [n for n in level.names if n not in PersonalLogistic.LEVEL]
    assert np.allclose(table.loc[slopes, "coefficient"], table.loc[slopes, "prior_mean"])
    assert np.allclose(
        table.loc[slopes, "high"] - table.loc[slopes, "low"],
        2 * 1.96 * table.loc[slopes, "prior_sd"],
    )
    assert table.loc["intercept", "coefficient"] < prior.MEANS[0]
    prior_only = PopulationPrior().fit(x, np.zeros(1))
    dusty = days(30, np.full(30, 80.0))
    dusty[:, INDEX["pm10_mean"]] = 600.0
    dusty[:, INDEX["ozone_max"]] = 190.0
    moved = level.predict_proba(dusty) / prior_only.predict_proba(dusty)
    assert (moved > 0.75).all() and (moved < 1).all()
    everything = PersonalLogistic().fit(x, np.zeros(1))
    assert (everything.predict_proba(dusty) < level.predict_proba(dusty)).all()
