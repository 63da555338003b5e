"""The demo persona: deterministic, air-driven by its documented law, with a realistic rate."""

from datetime import date

import numpy as np
from airsick_core.places import Place
from airsick_standin import persona

HOME = Place("home", 40.4168, -3.7038, "Europe/Madrid")


def test_same_seed_same_diary_other_seed_other_diary():
    a = persona.simulate(HOME, date(2025, 1, 1), date(2025, 6, 30), seed=7)
    b = persona.simulate(HOME, date(2025, 1, 1), date(2025, 6, 30), seed=7)
    c = persona.simulate(HOME, date(2025, 1, 1), date(2025, 6, 30), seed=8)
    assert a == b
    assert [d.sick for d in a] != [d.sick for d in c]
    # The true probability depends on the air and on yesterday, not on the seed alone.
    assert len({round(d.probability, 6) for d in a}) > 100


def test_prevalence_and_calibration_of_the_truth():
    days = persona.simulate(HOME, date(2023, 6, 1), date(2026, 5, 31), seed=7)
    p = np.array([d.probability for d in days])
    sick = np.array([d.sick for d in days])
    assert 0.08 < sick.mean() < 0.30
    # The draws follow the probabilities: sick days had a higher true risk.
    assert p[sick].mean() > 2 * p[~sick].mean()
    assert abs(p.mean() - sick.mean()) < 0.03


def test_more_pollution_the_day_before_raises_the_risk():
    first, last = date(2024, 1, 1), date(2025, 12, 31)
    air = persona.daily_air(HOME, first, last)
    days = persona.simulate(HOME, date(2024, 1, 3), last, seed=7)
    p = np.array([d.probability for d in days])
    pm_lag1 = air["pm2_5_mean"][1:-1]
    well_before = np.array([not d.sick for d in days[:-1]] + [True])
    low = p[(pm_lag1 < np.percentile(pm_lag1, 25)) & well_before]
    high = p[(pm_lag1 > np.percentile(pm_lag1, 75)) & well_before]
    assert high.mean() > 1.5 * low.mean()


def test_diary_events_match_the_days():
    days = persona.simulate(HOME, date(2025, 1, 1), date(2025, 1, 31), seed=7)
    events = persona.diary_events("demo", days, seed=7)
    assert [e.date for e in events] == [d.date for d in days]
    assert all((e.severity is not None) == e.sick for e in events)
    assert all(e.symptoms for e in events if e.sick)


def test_an_entry_is_never_recorded_in_the_future():
    from datetime import UTC, datetime

    days = persona.simulate(HOME, date(2025, 1, 30), date(2025, 1, 31), seed=7)
    now = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)
    events = persona.diary_events("demo", days, seed=7, now=now)
    assert events[0].recorded_at == datetime(2025, 1, 30, 20, 0, tzinfo=UTC)
    assert events[1].recorded_at == now  # today's evening has not come yet
