"""My triggers: each factor's effect read from the personal model, said honestly."""

from __future__ import annotations

import numpy as np
from airsick_training.features import INDEX
from airsick_training.triggers import Trigger, for_person, in_words

from tests.unit.test_personal_model import days, person


def by_term(found: list[Trigger]) -> dict[str, Trigger]:
    return {t.term: t for t in found}


def test_a_clear_trigger_is_named_with_its_interval_and_the_unknown_is_said():
    x, y = person(1500, slope=1.2)
    found = by_term(for_person(x, y))
    pm = found["pm2_5"]
    assert pm.verdict == "raises your risk"
    assert 1 < pm.low < pm.odds_ratio < pm.high
    assert pm.change.startswith("from ") and pm.change.endswith("μg/m³")
    assert pm.evidence > 0.5
    # Pollen and weather have no value in these days: nothing is claimed about them.
    assert found["pollen"].verdict == "no data here"
    assert found["temperature_max"].verdict == "no data here"
    assert "raises your risk: odds ×" in in_words(pm)


def test_day_zero_and_a_short_diary_have_not_enough_evidence_yet():
    zero = for_person(days(0), np.array([], dtype=int))
    assert zero and all(t.verdict == "not enough evidence yet" for t in zero)
    assert all(t.evidence == 0 for t in zero)
    x, y = person(10)
    x[:, INDEX["temperature_max"]] = np.linspace(10, 30, 10)
    x[:, INDEX["temperature_max_z"]] = np.linspace(-1.5, 1.5, 10)
    short = by_term(for_person(x, y))
    assert short["temperature_max"].verdict == "not enough evidence yet"
    assert in_words(short["temperature_max"]).endswith("not enough evidence yet")


def test_a_weather_trigger_is_learnt_from_the_diary():
    rng = np.random.default_rng(3)
    n = 1500
    x = days(n)
    heat = rng.normal(25, 7, n)
    x[:, INDEX["temperature_max"]] = heat
    x[:, INDEX["temperature_max_z"]] = (heat - 25) / 7  # the place's own climate
    logit = np.log(0.2 / 0.8) + 0.9 * (heat - 25) / 10
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    found = by_term(for_person(x, y))
    assert found["temperature_max"].verdict == "raises your risk"
    assert found["temperature_max"].change.endswith("°C")
    assert found["humidity"].verdict == "no data here"


def test_heat_is_found_within_half_a_year_in_a_narrow_hot_climate():
    """Singapore's daily maximum: 30.0 °C on average, sd 1.4 °C. A person whose odds double
    with each standard deviation of it (2^(1/1.4) per °C) is found within 180 logged days,
    as in a city with wide swings: heat is read against the place's own climate."""
    rng = np.random.default_rng(5)
    for mean, sd in ((30.0, 1.4), (22.0, 8.0)):
        n = 180
        z = rng.normal(0, 1, n)
        x = days(n)
        x[:, INDEX["temperature_max"]] = mean + sd * z
        x[:, INDEX["temperature_max_z"]] = z
        logit = np.log(0.15 / 0.85) + np.log(2.0) * z
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
        heat = by_term(for_person(x, y))["temperature_max"]
        assert heat.verdict == "raises your risk", (mean, sd, heat)
        assert heat.change.endswith("°C")
