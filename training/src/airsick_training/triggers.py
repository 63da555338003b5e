"""My triggers: how much each factor moves this person's risk, and how sure that is.

Read from the personal model (``PersonalLogistic``: the population prior updated by the
diary), whichever model serves the predictions: it is the one whose slopes mean something
a person can read, and its Laplace intervals say how sure each one is.

For each factor (a prior term, ``prior.TERMS``): the odds ratio of being sick the next day
for a *typical change* of it at this person's places (from the lower to the upper quartile
of the days they have, so "typical" is theirs: a dust storm in Riyadh, a grass-pollen day
in Madrid), with its 95 % interval; and the *evidence*, the share of the prior's
uncertainty the diary has removed (0: the prior alone, 1: the diary alone). The verdict:

- "not enough evidence yet" while the diary has removed under a quarter of it,
- "raises your risk" / "lowers your risk" when the interval leaves out 1,
- "no clear effect" otherwise, and "no data here" where the place has no value for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from airsick_training import prior
from airsick_training.features import INDEX

ENOUGH_EVIDENCE = 0.25
# The calendar is not a trigger a person can act on; the season terms are left out.
SKIPPED = frozenset({"season_sin", "season_cos"})
UNITS = {
    "pm2_5": "μg/m³",
    "pm2_5_lag1": "μg/m³",
    "pm10": "μg/m³",
    "nitrogen_dioxide": "μg/m³",
    "ozone": "μg/m³",
    "pollen": "grains/m³",
    "temperature_max": "°C",
    "temperature_change": "°C",
    "humidity": "%",
    "rain": "mm",
}
LABELS = {
    "pm2_5": "PM2.5 that day",
    "pm2_5_lag1": "PM2.5 the day before",
    "pm10": "PM10",
    "nitrogen_dioxide": "nitrogen dioxide",
    "ozone": "ozone (daily peak)",
    "pollen": "pollen",
    "sick_today": "being sick today",
    "sick_share_last_7": "sick days in the last week",
    "temperature_max": "warmest hour",
    "temperature_change": "temperature change from the day before",
    "humidity": "humidity",
    "rain": "rain",
}


@dataclass(frozen=True)
class Trigger:
    """One factor's estimated effect on this person."""

    term: str
    label: str
    factor: str
    change: str  # the typical change, in words: "from 8 to 21 μg/m³"
    odds_ratio: float
    low: float
    high: float
    evidence: float  # 0..1: how much of the prior's uncertainty the diary removed
    verdict: str

    def as_dict(self) -> dict:
        return asdict(self)


def _level(term: prior.Term, t: float) -> float:
    """The variable's level at which the term's transform is ``t``."""
    if term.transform == "log_ratio":
        return term.reference * float(np.exp(t))
    if term.transform == "linear":
        return term.reference + t * term.scale
    if term.transform == "log1p":
        return float(np.expm1(t))
    return t


def _change(term: prior.Term, low: float, high: float) -> str:
    unit = UNITS.get(term.name, "")
    if term.transform == "signed_flag":
        return "sick today rather than well"
    if term.name == "sick_share_last_7":
        a, b = low + term.reference, high + term.reference
        return f"from {a:.0%} to {b:.0%} of logged days"
    if term.name == "temperature_change":
        a, b = low * term.scale, high * term.scale
        return f"a change of {a:+.1f} to {b:+.1f} {unit} since the day before"
    a, b = _level(term, low), _level(term, high)
    digits = 1 if max(abs(a), abs(b)) < 10 else 0
    return f"from {a:.{digits}f} to {b:.{digits}f} {unit}".strip()


def _heat(x: np.ndarray, low: float, high: float) -> str:
    """The typical change of heat in °C: the term reads it against the place's climate."""
    celsius = x[:, INDEX["temperature_max"]]
    celsius = celsius[~np.isnan(celsius)]
    if len(celsius) < 2:
        return f"from {low:+.1f} to {high:+.1f} standard deviations of your climate"
    a, b = np.quantile(celsius, [0.25, 0.75])
    return f"from {a:.0f} to {b:.0f} °C"


def triggers(model, x: np.ndarray) -> list[Trigger]:
    """Each factor's effect for the fitted personal model ``model`` on this person's days ``x``."""
    names = list(model.names)
    design = prior.design(x, names)
    sd = np.sqrt(np.diag(model.covariance))
    out = []
    for term in prior.TERMS:
        if term.name in SKIPPED or term.name not in names:
            continue
        i = names.index(term.name)
        values = x[:, INDEX[term.column]]
        present = design[~np.isnan(values), i]
        if term.transform == "signed_flag":
            low, high = -0.5, 0.5
        elif len(present) >= 2:
            low, high = (float(q) for q in np.quantile(present, [0.25, 0.75]))
        else:
            low = high = 0.0
        step = high - low
        beta, spread = float(model.coefficients[i]), float(sd[i])
        evidence = float(np.clip(1.0 - spread / prior.SDS[prior.NAMES.index(term.name)], 0, 1))
        odds, lo, hi = (
            float(np.exp(v * step)) for v in (beta, beta - 1.96 * spread, beta + 1.96 * spread)
        )
        if len(x) and step <= 0:
            verdict = "no data here"
        elif evidence < ENOUGH_EVIDENCE or not len(x):
            verdict = "not enough evidence yet"
        elif lo > 1:
            verdict = "raises your risk"
        elif hi < 1:
            verdict = "lowers your risk"
        else:
            verdict = "no clear effect"
        change = _change(term, low, high) if step > 0 else "no values yet"
        if term.name == "temperature_max" and step > 0:
            change = _heat(x, low, high)
        out.append(
            Trigger(
                term=term.name,
                label=LABELS.get(term.name, term.name),
                factor=term.factor,
                change=change,
                odds_ratio=round(odds, 3),
                low=round(lo, 3),
                high=round(hi, 3),
                evidence=round(evidence, 3),
                verdict=verdict,
            )
        )
    order = {"raises your risk": 0, "lowers your risk": 1, "no clear effect": 2}
    return sorted(out, key=lambda t: (order.get(t.verdict, 3), -abs(np.log(t.odds_ratio))))


def in_words(trigger: Trigger) -> str:
    """One line: 'PM2.5 that day raises your risk: odds ×1.4 (1.1 to 1.8) from 8 to 21 μg/m³'."""
    if trigger.verdict in ("no data here", "not enough evidence yet"):
        return f"{trigger.label}: {trigger.verdict}"
    return (
        f"{trigger.label} {trigger.verdict}: odds ×{trigger.odds_ratio:.2f} "
        f"({trigger.low:.2f} to {trigger.high:.2f}) {trigger.change}"
    )


def for_person(x: np.ndarray, y: np.ndarray) -> list[Trigger]:
    """Fit the personal model on the person's labelled days and read its triggers."""
    from airsick_training.models import PersonalLogistic, PopulationPrior

    model = PersonalLogistic().fit(x, y) if len(y) else PopulationPrior().fit(x, y)
    return triggers(model, x)
