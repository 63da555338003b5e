"""Training's pure parts: folds, scores, baselines, the gate's rule and reasons."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from airsick_training.evaluate import calibration_error, score, walk_forward_folds
from airsick_training.explain import reasons
from airsick_training.features import (
    INDEX,
    INPUT_COLUMNS,
    REASON_GROUPS,
    inputs,
    monotone_constraints,
)
from airsick_training.models import BaseRate, LogisticGLM, Persistence, make_model
from airsick_training.promote import compare, decide

DATES = pd.Series(pd.date_range("2023-01-01", "2025-06-20", freq="D"))


def test_folds_are_monthly_in_time_order_with_a_gap():
    folds = walk_forward_folds(DATES, months=12, gap_days=1)
    assert len(folds) == 12
    assert folds[-1].test_end == DATES.max()
    for fold in folds:
        assert fold.test_start.day == 1
        # A training row's label is the next day's diary: it must end before the test month.
        assert fold.train_end + pd.Timedelta(days=1) < fold.test_start
    for before, after in itertools.pairwise(folds):
        assert before.test_end < after.test_start
        assert before.train_end < after.train_end  # expanding window


def test_folds_need_enough_history():
    short = pd.Series(pd.date_range("2025-01-01", "2025-06-20", freq="D"))
    assert walk_forward_folds(short, months=12, min_train_days=180) == []


def test_scores_of_perfect_and_constant_predictions():
    y = np.array([0, 0, 1, 1])
    perfect = score(y, np.array([0.0, 0.0, 1.0, 1.0]))
    assert perfect["roc_auc"] == 1 and perfect["brier"] == pytest.approx(0, abs=1e-9)
    constant = score(y, np.full(4, 0.5))
    assert constant["roc_auc"] == 0.5
    assert constant["log_loss"] == pytest.approx(np.log(2))
    assert calibration_error(y, np.full(4, 0.5)) == pytest.approx(0)
    assert calibration_error(np.array([0, 0]), np.array([0.9, 0.9])) == pytest.approx(0.9)


def frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, len(INPUT_COLUMNS))), columns=list(INPUT_COLUMNS))
    x["sick_today"] = rng.integers(0, 2, n).astype(float)
    x["day_of_year"] = rng.integers(1, 366, n).astype(float)
    logit = -1.5 + 1.2 * x["pm2_5_mean"] + 1.0 * x["sick_today"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return inputs(x), y.to_numpy()


def test_baselines():
    x, y = frame()
    assert np.allclose(BaseRate().fit(x, y).predict_proba(x), y.mean())
    persistence = Persistence(strength=0).fit(x, y)
    sick = x[:, INDEX["sick_today"]] == 1
    assert persistence.predict_proba(x)[sick][0] == pytest.approx(y[sick].mean())


def test_glm_learns_the_direction_and_reasons_agree_with_it():
    x, y = frame(2000)
    glm = LogisticGLM().fit(x, y)
    assert glm.table.loc["pm2_5_mean", "coefficient"] > 0
    assert glm.table.loc["pm2_5_mean", "low"] > 0  # its interval excludes zero
    reference = np.nanmedian(x, axis=0)
    row = x[[0]].copy()
    row[0, INDEX["pm2_5_mean"]] = reference[INDEX["pm2_5_mean"]] + 3  # much dirtier air
    (why,) = reasons(glm, row, reference)
    assert why[0]["factor"] == "PM2.5" and why[0]["effect"] > 0


def test_recipes_round_trip():
    for spec in (BaseRate().spec(), Persistence().spec(), LogisticGLM().spec()):
        assert make_model(spec).spec() == spec
    with pytest.raises(ValueError, match="Unknown model kind"):
        make_model({"kind": "crystal_ball"})


def test_monotone_on_levels_only_and_every_input_has_a_reason_group():
    columns = ["pm2_5_mean", "pm2_5_mean_change1", "weekday", "pollen_total_roll7"]
    assert monotone_constraints(columns) == [1, 0, 0, 1]
    grouped = {c for cols in REASON_GROUPS.values() for c in cols}
    assert grouped == set(INPUT_COLUMNS)


SCORES = {
    "base_rate": {"log_loss": 0.40, "brier": 0.12},
    "persistence": {"log_loss": 0.35, "brier": 0.10},
    "glm": {"log_loss": 0.30, "brier": 0.09},
    "bad": {"log_loss": 0.36, "brier": 0.095},
}


def _days(n: int = 300, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes of ``n`` days whose true chance varies, and that chance."""
    rng = np.random.default_rng(seed)
    truth = np.clip(0.15 + 0.12 * np.sin(np.arange(n) / 9) + rng.normal(0, 0.05, n), 0.02, 0.9)
    return (rng.random(n) < truth).astype(int), truth


def test_the_comparison_is_paired_and_its_interval_covers_no_difference_for_a_copy():
    y, truth = _days()
    flat = np.full(len(y), y.mean())
    better = compare(y, truth, flat)
    assert better.days == len(y) and better.gain > 0 and better.low > 0 and better.high > better.low
    same = compare(y, flat, flat)
    assert same.gain == 0 and same.low == 0 == same.high
    worse = compare(y, flat, truth)
    assert worse.high < 0  # the mirror image: confidently worse
    assert compare(y, truth, flat, seed=1).low == pytest.approx(better.low, abs=0.01)


def test_a_new_recipe_must_win_with_confidence_and_a_learnt_one_beat_the_baselines():
    y, truth = _days()
    flat = np.full(len(y), y.mean())
    confident = compare(y, truth, flat)
    assert decide("glm", "glm", SCORES, confident, False, 0.01).promote
    refused = decide("bad", "glm", SCORES, confident, False, 0.01)
    assert not refused.promote and "persistence baseline" in refused.reason
    # A gain that a few lucky days could give: the incumbent stays.
    rng = np.random.default_rng(5)
    lucky = compare(y[:40], np.clip(flat[:40] + rng.normal(0, 0.02, 40), 0.01, 0.99), flat[:40])
    assert lucky.low < 0
    kept = decide("glm", "glm", SCORES, lucky, False, 0.01)
    assert not kept.promote and "95 % confidence" in kept.reason and "stays" in kept.reason
    # The champion's own recipe on newer data replaces it; the prior needs no baseline.
    assert decide("glm", "glm", SCORES, lucky, True, 0.01).promote
    assert decide("bad", "personal", SCORES, confident, False, 0.01).promote
    # The prior's own update answers from the first day: against the prior, a backtest
    # keeps it unless it is worse with confidence.
    assert decide(
        "personal", "personal", SCORES, lucky, False, 0.01, incumbent_kind="prior"
    ).promote
    worse = compare(y, flat, truth)
    out = decide("personal", "personal", SCORES, worse, False, 0.01, "the prior", "prior")
    assert not out.promote and "worse than the prior" in out.reason


def _drift(new_labels: int, new_days: int = 0, psi: float | None = None):
    from airsick_training.drift import Drift

    return Drift(new_labels=new_labels, new_days=new_days, psi=psi)


def test_the_retrain_rule_trains_when_something_new_is_known():
    from airsick_training.promote import RETRAIN_AFTER_NEW_LABELS, retrain

    enough = RETRAIN_AFTER_NEW_LABELS
    first = retrain(has_champion=False, same_inputs=True, champion_days=400, drift=None)
    assert first.promote and "no champion" in first.reason
    other = retrain(has_champion=True, same_inputs=False, champion_days=400, drift=None)
    assert other.promote and "other inputs" in other.reason
    labels = retrain(has_champion=True, same_inputs=True, champion_days=400, drift=_drift(enough))
    assert labels.promote and f"{enough} days got a label" in labels.reason
    drifted = _drift(enough - 1, new_days=20, psi=0.9)
    assert retrain(has_champion=True, same_inputs=True, champion_days=400, drift=drifted).promote


def test_the_retrain_rule_waits_when_nothing_new_is_known():
    from airsick_training.promote import RETRAIN_AFTER_NEW_LABELS, retrain

    few = RETRAIN_AFTER_NEW_LABELS - 1
    calm = retrain(
        has_champion=True, same_inputs=True, champion_days=400, drift=_drift(few, 20, 0.01)
    )
    assert not calm.promote and "no drift" in calm.reason
    short = retrain(has_champion=True, same_inputs=True, champion_days=400, drift=_drift(few, 3))
    assert not short.promote and "too few to measure drift" in short.reason
    # While the answer rests on few days, each new labelled day retrains, and only that.
    prior = retrain(has_champion=True, same_inputs=True, champion_days=0, drift=_drift(0, 20, 0.9))
    assert not prior.promote and "no new labelled day" in prior.reason
    moved = retrain(has_champion=True, same_inputs=True, champion_days=9, drift=_drift(1))
    assert moved.promote and "rests on 9 labelled days" in moved.reason
