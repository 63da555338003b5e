"""The prior learnt from everyone's diaries (airsick_training.learnt_prior)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from airsick_serving.words import personal
from airsick_training import learnt_prior, prior
from airsick_training.data import LABEL
from airsick_training.features import INDEX, INPUT_COLUMNS
from airsick_training.models import PersonalLogistic, PopulationPrior, make_model

PM = prior.NAMES.index("pm2_5")


def person(seed: int, days: int = 400, slope: float | None = None) -> pd.DataFrame:
    """One person's labelled rows: their PM2.5 slope drawn from Normal(0.8, 0.3)."""
    rng = np.random.default_rng(seed)
    slope = rng.normal(0.8, 0.3) if slope is None else slope
    base = rng.normal(np.log(0.15 / 0.85), 0.5)
    x = np.full((days, len(INPUT_COLUMNS)), np.nan)
    x[:, INDEX["pm2_5_mean"]] = np.exp(rng.normal(np.log(15), 0.7, days))
    x[:, INDEX["day_of_year"]] = np.arange(days) % 365 + 1
    logit = base + slope * np.log(x[:, INDEX["pm2_5_mean"]] / 15)
    y = rng.uniform(size=days) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(x, columns=list(INPUT_COLUMNS))
    return frame.assign(
        person=f"p{seed}",
        place="home",
        local_date=pd.date_range("2024-01-01", periods=days),
        **{LABEL: y.astype(float)},
    )


def test_the_learnt_prior_finds_how_strongly_people_react_and_how_much_they_differ():
    frames = {f"p{i}": person(i) for i in range(60)}
    sums = learnt_prior.learn(frames)
    assert sums.people == 60
    learnt = sums.prior()
    assert learnt.people == 60
    assert abs(learnt.means[PM] - 0.8) < 0.2  # the literature's is 0.034
    assert 0.1 < learnt.sds[PM] < 0.5  # the true spread is 0.3
    rain = prior.NAMES.index("rain")  # nobody's rows have rain: nothing learnt, floor width
    assert abs(learnt.means[rain]) < 0.05 and learnt.sds[rain] <= 0.1


def test_a_persons_own_prior_leaves_them_out_exactly():
    frames = {f"p{i}": person(i) for i in range(30)}
    sums = learnt_prior.learn(frames)
    others = learnt_prior.learn({k: v for k, v in frames.items() if k != "p3"}).prior()
    mine = learnt_prior.for_person(sums, frames["p3"])
    assert mine.people == 29
    assert np.allclose(mine.means, others.means) and np.allclose(mine.sds, others.sds)


def test_too_few_people_with_enough_days_keep_the_literatures_prior():
    frames = {f"p{i}": person(i) for i in range(10)}
    frames |= {f"q{i}": person(100 + i, days=20) for i in range(30)}  # too few days each
    sums = learnt_prior.learn(frames)
    assert sums.people == 10
    assert sums.prior() is prior.LITERATURE
    assert learnt_prior.for_person(None, frames["p1"]) is prior.LITERATURE


def test_a_recipe_keeps_the_prior_it_started_from():
    learnt = learnt_prior.learn({f"p{i}": person(i) for i in range(25)}).prior()
    for model in (PersonalLogistic(start=learnt), PopulationPrior(learnt)):
        rebuilt = make_model(model.spec())
        assert rebuilt.spec() == model.spec()
        assert rebuilt.prior_people == 25
    assert PopulationPrior().spec()["params"] == {}  # the literature's: as before
    day = np.full((1, len(INPUT_COLUMNS)), np.nan)
    day[0, INDEX["pm2_5_mean"]] = 60.0
    dirty = PopulationPrior(learnt).fit(None, None).predict_proba(day)[0]
    assert dirty > PopulationPrior().fit(None, None).predict_proba(day)[0]


def test_every_answer_says_which_prior_it_started_from():
    assert personal(0) == "not personal yet: from what is known about people in general"
    assert personal(0, 48) == "not personal yet: from what 48 other people's diaries taught"
    assert personal(12, 48) == (
        "personal, from your 12 logged days, starting from what 48 other people's diaries taught"
    )
    assert personal(12) == "personal, from your 12 logged days"
