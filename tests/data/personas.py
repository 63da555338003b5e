"""A persona set for real recorded air and weather: documented laws, each a kind of person.

Beside the real-air persona of ``airsick_standin.persona.simulate_real_air`` (every
pollutant the place has, a little), these are the people a first fortnight, a thin diary
and a climate unlike Europe's must serve. On day d, with the day before's inputs:

    logit p(d) = logit(BASE)
                 + HEAT  * z(warmest hour of d-1)       z: in sd of the place's daily maxima
                 + POLLEN * (log1p pollen(d-1) - its median over the series)
                 + AIR    * sum over PM2.5, PM10, NO2, ozone the place has of
                            (log level(d-1) - its median over the series)
                 + 0.9 * ([sick on d-1] - BASE)

| persona     | BASE | HEAT      | POLLEN | AIR |
|-------------|------|-----------|--------|-----|
| heat        | 0.25 | ln 2.5    | 0      | 0   |  odds x2.5 per sd of the local climate's heat
| pollen_only | 0.15 | 0         | 0.8    | 0   |  nothing where no pollen is recorded
| nothing     | 0.15 | 0         | 0      | 0   |  only spells of being sick
| high_base   | 0.45 | 0         | 0      | 0.5 |  often sick, a little from the air

As with the real-air persona there is no unseen frailty: p(d) is the best any model that sees
the day's inputs and the diary could reach. Draws are seeded per day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from airsick_standin.persona import PersonaDay, in_spells
from airsick_standin.simulator import named_seed, uniform

PERSISTENCE = 0.9
AIR = ("pm2_5_mean", "pm10_mean", "nitrogen_dioxide_mean", "ozone_max")


@dataclass(frozen=True)
class Law:
    base: float
    heat: float = 0.0
    pollen: float = 0.0
    air: float = 0.0


PERSONAS = {
    "heat": Law(base=0.25, heat=float(np.log(2.5))),
    "pollen_only": Law(base=0.15, pollen=0.8),
    "nothing": Law(base=0.15),
    "high_base": Law(base=0.45, air=0.5),
}


def _centred(values: np.ndarray | None, transform) -> np.ndarray | None:
    if values is None or np.all(np.isnan(values)):
        return None  # the place has no such variable: it plays no part
    level = transform(values)
    return np.nan_to_num(level - np.nanmedian(level))


def simulate(name: str):
    """The persona ``name`` as a simulator: (daily inputs, first day, seed) -> its days."""
    law = PERSONAS[name]

    def days(daily: dict[str, np.ndarray], first: date, seed: int) -> list[PersonaDay]:
        n = len(next(iter(daily.values())))
        ordinals = np.arange(first.toordinal() - 1, first.toordinal() - 1 + n)
        draws = uniform(named_seed(f"persona-{name}", seed, "draw"), ordinals)
        terms = []
        tmax = daily.get("temperature_2m_max")
        if law.heat and tmax is not None and not np.all(np.isnan(tmax)):
            z = (tmax - np.nanmean(tmax)) / np.nanstd(tmax)
            terms.append(law.heat * np.nan_to_num(z))
        pollen = _centred(daily.get("pollen_mean"), lambda v: np.log1p(np.clip(v, 0, None)))
        if law.pollen and pollen is not None:
            terms.append(law.pollen * pollen)
        for column in AIR if law.air else ():
            level = _centred(daily.get(column), lambda v: np.log(np.clip(v, 0.1, None)))
            if level is not None:
                terms.append(law.air * level)
        effect = np.sum(terms, axis=0) if terms else np.zeros(n)
        return in_spells(effect, law.base, first, draws, PERSISTENCE)

    return days
