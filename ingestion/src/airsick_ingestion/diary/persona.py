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

from airsick_ingestion.diary.events import DiaryEvent
from airsick_ingestion.places import Place
from airsick_ingestion.standin.simulator import Simulator, _seed, normal, uniform

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
    hours = np.arange(first_hour, last_hour + 1)
    local_dates = np.array(
        [datetime.fromtimestamp(h * 3600, zone).date().toordinal() for h in hours]
    )
    day_index = local_dates - first.toordinal()
    n_days = (last - first).days + 1

    def per_day(values: np.ndarray, how: str) -> np.ndarray:
        valid = ~np.isnan(values)
        if how == "max":
            out = np.full(n_days, -np.inf)
            np.maximum.at(out, day_index[valid], values[valid])
            return np.where(np.isinf(out), np.nan, out)
        total = np.bincount(day_index[valid], values[valid], minlength=n_days)
        count = np.bincount(day_index[valid], minlength=n_days)
        with np.errstate(invalid="ignore"):
            return total / count

    pollen = np.nansum(
        [np.nan_to_num(hourly[n]) for n in ("grass_pollen", "birch_pollen", "olive_pollen")],
        axis=0,
    )
    return {
        "pm2_5_mean": per_day(hourly["pm2_5"], "mean"),
        "nitrogen_dioxide_mean": per_day(hourly["nitrogen_dioxide"], "mean"),
        "ozone_max": per_day(hourly["ozone"], "max"),
        "pollen_mean": per_day(pollen, "mean"),
    }


def simulate(place: Place, first: date, last: date, seed: int) -> list[PersonaDay]:
    """Return the persona's days from ``first`` to ``last``, with their true probabilities.

    Two days of air before ``first`` are simulated too, so the lags of the first day exist.
    """
    warm = first - timedelta(days=2)
    air = daily_air(place, warm, last)
    ordinals = np.arange(warm.toordinal(), last.toordinal() + 1)
    frailty = FRAILTY_SD * normal(_seed("persona", seed, "frailty"), ordinals)
    draws = uniform(_seed("persona", seed, "draw"), ordinals)
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
            pick = uniform(_seed("persona", seed, "symptoms"), index)
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
