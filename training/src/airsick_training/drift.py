"""Has the air moved away from what the champion learnt from? The retrain rule asks this.

The measure is the population stability index (PSI) of daily mean PM2.5: the days since the
champion's data ended (the last 28 at most) against the same season (within 30 days of the
year's day) in the champion's own data. The air always changes with the seasons, which is
not drift. Buckets are the quartiles of the champion's days; shares get add-one smoothing,
because 28 days are few.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from airsick_core import names
from airsick_lakehouse import Lakehouse, connect

DRIFT_THRESHOLD = 0.25  # PSI above this is drift (0.1-0.25 is the usual "moderate" band)
DRIFT_MIN_DAYS = 7  # fewer new days than this are too few to measure
RECENT_DAYS = 28
SEASON_DAYS = 30


@dataclass(frozen=True)
class Drift:
    """What the champion has not seen yet: labels, days, and how different their air is."""

    new_labels: int
    new_days: int
    psi: float | None  # None when there is no air to compare

    @property
    def measurable(self) -> bool:
        return self.new_days >= DRIFT_MIN_DAYS

    @property
    def drifted(self) -> bool:
        return self.measurable and self.psi is not None and self.psi > DRIFT_THRESHOLD


def population_stability(recent: np.ndarray, past: np.ndarray) -> float | None:
    """PSI of ``recent`` against ``past`` over the quartile buckets of ``past``."""
    recent, past = recent[~np.isnan(recent)], past[~np.isnan(past)]
    if not len(recent) or not len(past):
        return None
    edges = np.quantile(past, [0.25, 0.5, 0.75])
    counts_recent = np.bincount(np.searchsorted(edges, recent, side="left"), minlength=4)
    counts_past = np.bincount(np.searchsorted(edges, past, side="left"), minlength=4)
    used = (counts_recent + counts_past) > 0
    r = (counts_recent[used] + 1.0) / (len(recent) + 4)
    p = (counts_past[used] + 1.0) / (len(past) + 4)
    return float(np.sum((r - p) * np.log(r / p)))


def _season(days: np.ndarray, today: date) -> np.ndarray:
    """Whether each day is within SEASON_DAYS of today's day of the year (wrapping)."""
    day_of_year = np.array([d.timetuple().tm_yday for d in days])
    distance = np.abs(day_of_year - today.timetuple().tm_yday)
    return np.minimum(distance, 365 - distance) <= SEASON_DAYS


def measure(lakehouse: Lakehouse, person: str, trained_until: date, today: date) -> Drift:
    """Compare the days after ``trained_until`` with the champion's days of the same season."""
    return measure_each(lakehouse, {person: trained_until}, today)[person]


def measure_each(lakehouse: Lakehouse, trained_until: dict[str, date], today: date) -> dict:
    """:func:`measure` for each person of ``trained_until`` (one query for them all)."""
    import pandas as pd

    with connect(lakehouse) as con:
        con.register("wanted", pd.DataFrame({"person": list(trained_until)}))
        rows = con.execute(
            "select person, local_date, pm2_5_mean, sick_next_day is not null as labelled "
            f"from lake.{names.FEATURES} semi join wanted using (person) "
            "where local_date <= ? order by person, local_date",
            [today],
        ).df()
    found = {person: Drift(0, 0, None) for person in trained_until}
    for person, days in rows.groupby("person", sort=False):
        found[person] = _measure(
            days["local_date"].dt.date.to_numpy(),
            days["pm2_5_mean"].to_numpy(dtype=float, na_value=np.nan),
            days["labelled"].to_numpy(dtype=bool),
            trained_until[person],
            today,
        )
    return found


def _measure(
    days: np.ndarray, pm2_5: np.ndarray, labelled: np.ndarray, trained_until: date, today: date
) -> Drift:
    new = days > trained_until
    recent = new & (days > today - timedelta(days=RECENT_DAYS))
    past = ~new & _season(days, today)
    return Drift(  # days, not rows: each place has a row per day
        new_labels=len(np.unique(days[new & labelled])),
        new_days=len(np.unique(days[recent])),
        psi=population_stability(pm2_5[recent], pm2_5[past]),
    )
