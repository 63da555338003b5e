"""The demo persona: a simulated person whose sickness depends on the air, by a known law.

The persona lives at their first place. On each local day ``d`` the chance of being sick is

    logit p(d) = -1.7
                 + 0.9 * log(PM2.5 daily mean on d-1 / 10 μg/m³)
                 + 0.5 * log(PM2.5 daily mean on d-2 / 10 μg/m³)
                 + 0.6 * log(NO2 daily mean on d-1 / 20 μg/m³)
                 + 0.015 * (ozone daily max on d-1 - 100 μg/m³)
                 + 0.35 * log(1 + grass + birch + olive pollen daily mean on d-1)
                 + 1.4 * [sick on d-1]
                 + frailty(d),   frailty(d) ~ Normal(0, 0.4), drawn per day

and whether they are sick is one Bernoulli draw from ``p(d)``. The air is the simulator's
truth (what the stand-in serves for past hours), the draws are hashes of the persona's
seed and the date, so the same seed gives the same diary. No threshold on any one variable
decides a label: the risk rises smoothly with several lagged pollutants.

``p(d)`` is kept as the persona's truth so that a backtest can be read against the best
score any model could reach (the oracle): no model sees the frailty or the draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from airsick_core.places import Place
from airsick_ingestion.diary.events import DiaryEvent

from airsick_standin.simulator import Simulator, named_seed, normal, uniform

INTERCEPT = -1.7
EFFECTS = {
    "pm2_5_mean_lag1": 0.9,
    "pm2_5_mean_lag2": 0.5,
    "nitrogen_dioxide_mean_lag1": 0.6,
    "ozone_max_lag1": 0.015,
    "pollen_mean_lag1": 0.35,
    "sick_lag1": 1.4,
}
FRAILTY_SD = 0.4
SYMPTOMS_WHEN_SICK = ("cough", "wheeze", "sore_throat", "runny_nose", "itchy_eyes", "headache")


@dataclass(frozen=True)
class PersonaDay:
    """One simulated day: the true probability and what the persona wrote."""

    date: date
    probability: float
    sick: bool


def daily_air(place: Place, first: date, last: date) -> dict[str, np.ndarray]:
    """Return local-day means and maxima of the simulated true air at ``place``."""
    zone = ZoneInfo(place.timezone)
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    first_hour, last_hour = int(start.timestamp() // 3600), int(end.timestamp() // 3600) - 1
    names = ["pm2_5", "nitrogen_dioxide", "ozone", "grass_pollen", "birch_pollen", "olive_pollen"]
    hourly = Simulator().hourly(place.latitude, place.longitude, first_hour, last_hour, names)
    hourly["pollen"] = np.nansum(
        [np.nan_to_num(hourly[n]) for n in ("grass_pollen", "birch_pollen", "olive_pollen")],
        axis=0,
    )
    hours = np.arange(first_hour, last_hour + 1)
    daily = daily_from_hours(hours, hourly, place.timezone, first, last)
    return {
        "pm2_5_mean": daily["pm2_5_mean"],
        "nitrogen_dioxide_mean": daily["nitrogen_dioxide_mean"],
        "ozone_max": daily["ozone_max"],
        "pollen_mean": daily["pollen_mean"],
    }


def daily_from_hours(
    hours: np.ndarray, hourly: dict[str, np.ndarray], timezone: str, first: date, last: date
) -> dict[str, np.ndarray]:
    """Return each variable's mean and max per local day from ``first`` to ``last``.

    ``hours`` are UTC hours since 1970; a day with no value of a variable gets NaN.
    """
    zone = ZoneInfo(timezone)
    local_dates = np.array(
        [datetime.fromtimestamp(int(h) * 3600, zone).date().toordinal() for h in hours]
    )
    day_index = local_dates - first.toordinal()
    n_days = (last - first).days + 1
    inside = (day_index >= 0) & (day_index < n_days)
    out = {}
    for name, values in hourly.items():
        valid = inside & ~np.isnan(values)
        total = np.bincount(day_index[valid], values[valid], minlength=n_days)
        count = np.bincount(day_index[valid], minlength=n_days)
        peak = np.full(n_days, -np.inf)
        np.maximum.at(peak, day_index[valid], values[valid])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_mean"] = total / count
        out[f"{name}_max"] = np.where(np.isinf(peak), np.nan, peak)
    return out


# A persona for real recorded air, where places lack some variables (Riyadh has only PM,
# Vigo no PM at all). On day d:
#
#     logit p(d) = logit(0.22)
#                  + sum over the variables the place has of
#                    effect * (log level(d-1) - median over the series of log level)
#                  + 0.9 * ([sick on d-1] - 0.22)
#
# Centring on the series' own medians keeps about one day in five sick in any climate.
# Unlike the demo persona there is no unseen daily frailty: p(d) is the best any model
# that sees the day's air and diary could reach, so "skill captured" is measured against
# an attainable truth (with a frailty, part of the truth's skill is out of every model's
# reach, and how much depends on how strong the air's signal is at the place).
REAL_AIR_BASE_RATE = 0.22
REAL_AIR_EFFECTS = {
    "pm2_5_mean": 0.8,
    "pm10_mean": 0.4,
    "nitrogen_dioxide_mean": 0.5,
    "ozone_max": 0.6,
}
REAL_AIR_PERSISTENCE = 0.9


def in_spells(
    effect: np.ndarray, base: float, first: date, draws: np.ndarray, persistence: float
) -> list[PersonaDay]:
    """The days from ``first`` of a person at ``base`` whose log-odds move by yesterday's
    ``effect`` (arrays start the day before ``first``) and by ``persistence`` after a sick
    day: logit p(d) = logit(base) + effect(d-1) + persistence * ([sick d-1] - base)."""
    ordinals = np.arange(first.toordinal() - 1, first.toordinal() - 1 + len(effect))
    intercept = float(np.log(base / (1 - base)))
    days, sick_yesterday = [], False
    for i in range(1, len(effect)):
        logit = intercept + effect[i - 1] + persistence * (float(sick_yesterday) - base)
        probability = float(1.0 / (1.0 + np.exp(-logit)))
        sick = bool(draws[i] < probability)
        days.append(PersonaDay(date.fromordinal(int(ordinals[i])), probability, sick))
        sick_yesterday = sick
    return days


def simulate_real_air(daily: dict[str, np.ndarray], first: date, seed: int) -> list[PersonaDay]:
    """Return the real-air persona's days from ``first`` on, given local-day air from the day
    before ``first`` (``daily`` arrays start one day before ``first``)."""
    n = len(next(iter(daily.values())))
    ordinals = np.arange(first.toordinal() - 1, first.toordinal() - 1 + n)
    draws = uniform(named_seed("real-air", seed, "draw"), ordinals)
    effect = np.zeros(n)
    for name, size in REAL_AIR_EFFECTS.items():
        level = daily.get(name)
        if level is None or np.all(np.isnan(level)):
            continue  # the place has no such variable: it plays no part
        logged = np.log(np.clip(level, 0.1, None))
        effect += size * np.nan_to_num(logged - np.nanmedian(logged))
    return in_spells(effect, REAL_AIR_BASE_RATE, first, draws, REAL_AIR_PERSISTENCE)


def simulate(place: Place, first: date, last: date, seed: int) -> list[PersonaDay]:
    """Return the persona's days from ``first`` to ``last``, with their true probabilities.

    Two days of air before ``first`` are simulated too, so the lags of the first day exist.
    """
    warm = first - timedelta(days=2)
    air = daily_air(place, warm, last)
    ordinals = np.arange(warm.toordinal(), last.toordinal() + 1)
    frailty = FRAILTY_SD * normal(named_seed("persona", seed, "frailty"), ordinals)
    draws = uniform(named_seed("persona", seed, "draw"), ordinals)
    days: list[PersonaDay] = []
    sick_yesterday = False
    for i in range(2, len(ordinals)):
        logit = (
            INTERCEPT
            + EFFECTS["pm2_5_mean_lag1"] * np.log(air["pm2_5_mean"][i - 1] / 10.0)
            + EFFECTS["pm2_5_mean_lag2"] * np.log(air["pm2_5_mean"][i - 2] / 10.0)
            + EFFECTS["nitrogen_dioxide_mean_lag1"]
            * np.log(air["nitrogen_dioxide_mean"][i - 1] / 20.0)
            + EFFECTS["ozone_max_lag1"] * (air["ozone_max"][i - 1] - 100.0)
            + EFFECTS["pollen_mean_lag1"] * np.log1p(air["pollen_mean"][i - 1])
            + EFFECTS["sick_lag1"] * sick_yesterday
            + frailty[i]
        )
        probability = float(1.0 / (1.0 + np.exp(-logit)))
        sick = bool(draws[i] < probability)
        days.append(PersonaDay(date.fromordinal(int(ordinals[i])), probability, sick))
        sick_yesterday = sick
    return days


def diary_events(
    person: str, days: list[PersonaDay], seed: int, now: datetime | None = None
) -> list[DiaryEvent]:
    """Write the persona's diary: one event per day, recorded that evening (or now, for a
    day whose evening has not come: an entry is never recorded in the future, so a person
    correcting today in the app or the CLI has the latest word)."""
    now = now or datetime.now(UTC)
    events = []
    for day in days:
        symptoms: tuple[str, ...] = ()
        severity = None
        if day.sick:
            first = day.date.toordinal() * 8
            index = np.arange(first, first + len(SYMPTOMS_WHEN_SICK))
            pick = uniform(named_seed("persona", seed, "symptoms"), index)
            chosen = [s for s, u in zip(SYMPTOMS_WHEN_SICK, pick, strict=True) if u < 0.35]
            symptoms = tuple(chosen) or ("cough",)
            severity = 1 + int(day.probability > 0.4) + int(day.probability > 0.7)
        events.append(
            DiaryEvent(
                person=person,
                date=day.date,
                sick=day.sick,
                symptoms=symptoms,
                severity=severity,
                recorded_at=min(datetime.combine(day.date, time(20, 0), UTC), now),
                source="persona",
            )
        )
    return events
