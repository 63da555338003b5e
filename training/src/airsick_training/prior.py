"""The population prior: what is known about people in general, before a diary says more.

Every term is a fixed transform of one feature-mart column (so the prior means the same
thing for every person and place) with a prior mean and standard deviation on the log-odds
scale. ``docs/population-prior.md`` gives the sources and the arithmetic; in short:

* base rate: 12 % of days with respiratory symptoms for the people who use an app like
  this (adults and children with asthma or hay fever keep symptom diaries at roughly one
  day in six to one in ten); a wide prior (sd 1 on the logit), so a diary moves it fast.
* PM2.5, PM10, NO2, ozone: odds ratios per 10 μg/m³ from meta-analyses of panel and
  time-series studies (Weinmayr et al. 2010, EHP 118:449; Orellano et al. 2017, PLoS One
  12:e0174050), turned into slopes on the transform below at the WHO 2021 guideline
  levels. They are small: the population effect of a day's air on one person is small.
* pollen: grass pollen and asthma presentations (Erbas et al. 2018, Allergy 73:1632),
  about +1.9 % per 10 grains/m³.
* sick today, and the share of sick days among the logged days of the last week: symptoms
  run in spells, so a sick day makes the next one likelier (a prior odds ratio of about
  4.5), uncertain enough to be learnt per person.
* season: no prior direction (mean 0) and a narrow width (sd 0.1): most of the seasons'
  risk comes through the air and pollen the model sees; what remains (colds in winter)
  needs several years of one person's diary to tell apart from the air, and a wide
  prior let one or two years of diary mistake the air's seasons for the calendar's.

* weather (the day's maximum temperature against the place's own climate, its change from
  the day before, humidity and rain): no population direction (mean 0). Cold air and heat
  both set off asthma, damp and thunderstorm rain raise and wash out pollen: which way a
  person's symptoms go with the weather differs from person to person and place to place
  (AirRater, Jones et al. 2018), so the prior only bounds the size (sd 0.3 on the
  log-odds per step: an odds ratio between 0.55 and 1.8 per step, 95 %) and the diary
  says which way. Heat is read
  as people acclimatise: in standard deviations of the place's own daily maxima (sd 0.5
  per standard deviation: people differ much in how heat affects them, Bobb et al. 2014,
  and a narrow tropical climate must not make a heat-sensitive person implausible).

The standard deviations are wide on purpose: people differ far more than the population
averages, and the prior is there to give an honest answer on day zero and to keep a
short diary from over-fitting, not to hold a person to the average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from airsick_training.features import INDEX

BASE_RATE = 0.12


@dataclass(frozen=True)
class Term:
    """One input of the personal model: its column, transform, and prior on the slope."""

    name: str
    column: str
    transform: str  # "log_ratio", "linear", "log1p", "signed_flag", "centered", "season"
    reference: float  # the level at which the term is zero
    scale: float  # units of one step of the term (e.g. 10 μg/m³ for a linear term)
    mean: float
    sd: float
    factor: str  # the reason group a person reads ("PM2.5", "pollen", ...)


# ln(OR per 10 μg/m³) / 10 × reference level is the slope per unit of log(level/reference).
TERMS = (
    Term("pm2_5", "pm2_5_mean", "log_ratio", 15.0, 1.0, np.log(1.023) / 10 * 15, 0.5, "PM2.5"),
    Term(
        "pm2_5_lag1",
        "pm2_5_mean_lag1",
        "log_ratio",
        15.0,
        1.0,
        np.log(1.023) / 10 * 15,
        0.5,
        "PM2.5",
    ),
    Term("pm10", "pm10_mean", "log_ratio", 45.0, 1.0, np.log(1.028) / 10 * 45, 0.5, "PM10"),
    Term(
        "nitrogen_dioxide",
        "nitrogen_dioxide_mean",
        "log_ratio",
        25.0,
        1.0,
        np.log(1.031) / 10 * 25,
        0.5,
        "nitrogen dioxide",
    ),
    Term("ozone", "ozone_max", "linear", 100.0, 10.0, np.log(1.009), 0.15, "ozone"),
    Term("pollen", "pollen_total", "log1p", 0.0, 1.0, np.log(1.0188) / 10 * 11, 0.4, "pollen"),
    Term("sick_today", "sick_today", "signed_flag", 0.0, 1.0, 1.5, 1.0, "being sick lately"),
    Term(
        "sick_share_last_7",
        "sick_share_last_7",
        "centered",
        BASE_RATE,
        1.0,
        1.0,
        1.0,
        "being sick lately",
    ),
    Term("season_sin", "day_of_year", "season", 0.0, 1.0, 0.0, 0.1, "time of year"),
    Term("season_cos", "day_of_year", "season", 1.0, 1.0, 0.0, 0.1, "time of year"),
    # Weather. Heat is read against the place's own climate (``temperature_max_z``: standard
    # deviations of its daily maxima), with a prior as wide as people differ: a person whose
    # odds double over 2.6 °C in Singapore (sd 1.4 °C) is 0.75 prior sd from the mean, not
    # nine. Then steps of 5 °C of change, 20 % humidity; rain on log1p(mm).
    Term("temperature_max", "temperature_max_z", "linear", 0.0, 1.0, 0.0, 0.5, "temperature"),
    Term(
        "temperature_change",
        "temperature_change1",
        "linear",
        0.0,
        5.0,
        0.0,
        0.3,
        "temperature",
    ),
    Term("humidity", "relative_humidity_mean", "linear", 60.0, 20.0, 0.0, 0.3, "humidity"),
    Term("rain", "precipitation_sum", "log1p", 0.0, 1.0, 0.0, 0.3, "rain"),
)
INTERCEPT_MEAN = float(np.log(BASE_RATE / (1 - BASE_RATE)))
INTERCEPT_SD = 1.0
NAMES = ("intercept", *(t.name for t in TERMS))
WEATHER_TERMS = frozenset(t.name for t in TERMS if t.factor in ("temperature", "humidity", "rain"))
MEANS = np.array([INTERCEPT_MEAN, *(t.mean for t in TERMS)])
SDS = np.array([INTERCEPT_SD, *(t.sd for t in TERMS)])


def design(x: np.ndarray, names: tuple[str, ...] | list[str] = NAMES) -> np.ndarray:
    """Return the personal model's design matrix (intercept first) for model inputs ``x``.

    ``names`` are the terms a fitted model knows (a model fitted before a term existed
    keeps its own, shorter list).

    A missing value contributes nothing (its term is 0, as at the reference level): a day
    not logged is unknown, and a variable a place lacks (pollen outside Europe) is absent.
    """
    columns = [np.ones(len(x))]
    for term in (t for t in TERMS if t.name in names):
        v = x[:, INDEX[term.column]]
        if term.transform == "log_ratio":
            t = np.log(np.clip(v, 1.0, None) / term.reference)
        elif term.transform == "linear":
            t = (v - term.reference) / term.scale
        elif term.transform == "log1p":
            t = np.log1p(np.clip(v, 0.0, None))
        elif term.transform == "signed_flag":  # sick +1/2, well -1/2, not logged 0
            t = v - 0.5
        elif term.transform == "centered":
            t = v - term.reference
        else:  # season: sin for reference 0, cos for reference 1
            angle = 2 * np.pi * (v - 1) / 365.25
            t = np.cos(angle) if term.reference else np.sin(angle)
        columns.append(np.where(np.isnan(t), 0.0, t))
    return np.column_stack(columns)


def factor_of(name: str) -> str:
    return "intercept" if name == "intercept" else next(t.factor for t in TERMS if t.name == name)


def selected(names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Where ``names`` sit in NAMES (to take their prior means and sds)."""
    return np.array([NAMES.index(name) for name in names])


@dataclass(frozen=True)
class Prior:
    """A prior over every term (NAMES order): the literature's, or one learnt from other
    people's diaries (``airsick_training.learnt_prior``), with how many people it rests on
    (0 for the literature's). Every answer says which it started from."""

    means: np.ndarray
    sds: np.ndarray
    people: int = 0

    @property
    def words(self) -> str:
        if not self.people:
            return "what is known about people in general"
        return f"what {self.people} other people's diaries taught"

    def as_params(self) -> dict:
        """The prior as a recipe's parameters (empty for the literature's)."""
        if not self.people:
            return {}
        return {
            "prior_people": self.people,
            "prior_means": [round(float(v), 6) for v in self.means],
            "prior_sds": [round(float(v), 6) for v in self.sds],
        }

    @classmethod
    def from_params(cls, params: dict) -> Prior:
        if not params.get("prior_people"):
            return LITERATURE
        return cls(
            np.array(params["prior_means"]), np.array(params["prior_sds"]), params["prior_people"]
        )


LITERATURE = Prior(MEANS, SDS)
