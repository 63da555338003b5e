"""The simulated population (airsick_standin.population) and how people's places are named."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest
from airsick_core.places import Place
from airsick_standin import population
from airsick_stores.people import PersonError, _placed, check_name

FIRST, LAST = date(2024, 1, 1), date(2026, 11, 30)


def test_the_same_seed_draws_the_same_people_and_they_differ():
    one, again = population.draw(200, FIRST, LAST, 7), population.draw(200, FIRST, LAST, 7)
    assert one == again
    assert one != population.draw(200, FIRST, LAST, 8)
    kinds = Counter(m.kind for m in one)
    assert set(kinds) == {"air", "pollen", "heat", "nothing"}
    assert 0.3 < kinds["air"] / 200 < 0.5
    assert len({m.place.name for m in one}) >= 15  # spread over the cities
    bases = np.array([m.base for m in one])
    assert 0.1 < np.median(bases) < 0.2 and bases.std() > 0.04
    assert all(FIRST <= m.joined <= LAST for m in one)
    assert all((m.air != 0) == (m.kind == "air") for m in one)


def test_a_member_logs_a_share_of_their_days_from_the_day_they_joined():
    member = population.draw(1, FIRST, LAST, 3)[0]
    inputs = population.daily_inputs(member.place, FIRST, LAST)
    days = population.simulate(member, inputs, date(2024, 1, 2), 3)
    logged = population.logged(member, days, 3)
    assert logged and min(d.date for d in logged) >= member.joined
    since = [d for d in days if d.date >= member.joined]
    assert abs(len(logged) / len(since) - member.share) < 0.1
    assert 0 < np.mean([d.probability for d in days]) < 0.6


def test_an_air_sensitive_member_is_sicker_on_dirtier_days():
    members = [m for m in population.draw(60, FIRST, LAST, 5) if m.kind == "air"]
    member = max(members, key=lambda m: m.air)
    inputs = population.daily_inputs(member.place, FIRST, LAST)
    days = population.simulate(member, inputs, date(2024, 1, 2), 5)
    pm = inputs["pm2_5_mean"][: len(days)]  # the day before each day
    p = np.array([d.probability for d in days])
    assert np.corrcoef(np.log(pm), p)[0, 1] > 0.3


def test_places_at_one_point_share_one_name_and_names_mean_one_point():
    home = Place("home", 40.4168, -3.7038, "Europe/Madrid")
    stored, shared = _placed("cy", [Place("flat", 40.4169, -3.7037, "Europe/Madrid")], [home])
    assert stored == [home] and shared == ["flat shares home's air (the same point)"]
    with pytest.raises(PersonError, match=r"already at 40\.4168,-3\.7038"):
        _placed("dee", [Place("home", 10, 10)], [home])
    stored, shared = _placed("eve", [Place("work", 41.0, 2.0)], [home])
    assert stored == [Place("work", 41.0, 2.0)] and not shared
    with pytest.raises(PersonError, match="not valid"):
        check_name("Bad Name")
