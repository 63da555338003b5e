"""A prior learnt from everyone else's diaries: how strongly people react, and how they differ.

Empirical Bayes, by the method of moments of a random-effects meta-analysis (DerSimonian and
Laird's), term by term. Each person with at least ``MIN_DAYS`` labelled days gets their own
fit (the personal model on a vague version of the literature's prior: its precision times
``VAGUE``, so a term the person's place lacks stays finite), giving a slope ``b_i`` and its
variance ``v_i`` for every term. With weights ``w_i = 1 / v_i`` (a person whose place lacks
pollen says nothing of pollen: a vast ``v_i``, no weight), over the ``n`` people,

    mean    m  = sum w_i b_i / sum w_i
    Q          = sum w_i (b_i - m)^2
    spread  t2 = max(FLOOR^2, (Q - (n - 1)) / (sum w_i - sum w_i^2 / sum w_i))

the weighted spread of the slopes less the part their own noise explains: how much people
really differ. The learnt prior is Normal(m, sqrt(t2)) per term. Why this and not a full
hierarchical model (PyMC, Stan): the same answer for Gaussian random effects at these sizes,
closed-form, milliseconds for a thousand people, nothing new to install; and what it keeps
is four sums per term, not any one person's numbers.

Each person's own prior leaves them out (their own sums subtracted): a prior must not have
seen the diary it is the prior for. A newcomer starts from the learnt prior once at least
``MIN_PEOPLE`` other people have ``MIN_DAYS`` each, else from the literature's; every answer
says which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from airsick_training import prior
from airsick_training.data import LABEL
from airsick_training.features import INPUT_COLUMNS, inputs
from airsick_training.models import PersonalLogistic

MIN_PEOPLE = 20  # other people a learnt prior needs...
MIN_DAYS = 60  # ...each with this many labelled days
VAGUE = 0.05  # each person's own fit: the literature's precision times this
FLOOR = 0.1  # the narrowest a learnt prior's sd may be
TERMS = prior.NAMES


@dataclass(frozen=True)
class Sums:
    """The population's sufficient statistics: sums over people, no one person's numbers."""

    people: int
    weight: np.ndarray  # sum of w_i = 1 / v_i, per term
    total: np.ndarray  # sum of w_i b_i
    squares: np.ndarray  # sum of w_i b_i^2
    weight_squares: np.ndarray  # sum of w_i^2
    data_to: str  # the last labelled day the fits saw

    def prior(self, leaving_out: Contribution | None = None) -> prior.Prior:
        """The learnt prior, without ``leaving_out``'s own contribution; the literature's
        when fewer than MIN_PEOPLE people remain."""
        n, w, wb, wb2, w2 = (
            self.people,
            self.weight,
            self.total,
            self.squares,
            self.weight_squares,
        )
        if leaving_out is not None:
            own = leaving_out.sums()
            n, w, wb, wb2, w2 = n - 1, w - own[0], wb - own[1], wb2 - own[2], w2 - own[3]
        if n < MIN_PEOPLE:
            return prior.LITERATURE
        mean = wb / w
        q = wb2 - w * mean**2
        spread = (q - (n - 1)) / np.maximum(w - w2 / w, 1e-12)
        return prior.Prior(mean, np.sqrt(np.maximum(spread, FLOOR**2)), n)

    def as_dict(self) -> dict:
        return {
            "people": self.people,
            "terms": list(TERMS),
            "weight": self.weight.tolist(),
            "total": self.total.tolist(),
            "squares": self.squares.tolist(),
            "weight_squares": self.weight_squares.tolist(),
            "data_to": self.data_to,
        }

    @classmethod
    def from_dict(cls, found: dict) -> Sums | None:
        """The sums as logged; None when they were learnt over other terms (an older
        airsick's), which this version cannot use."""
        if found["terms"] != list(TERMS):
            return None
        return cls(
            found["people"],
            *(np.array(found[k]) for k in ("weight", "total", "squares", "weight_squares")),
            found["data_to"],
        )


@dataclass(frozen=True)
class Contribution:
    """One person's slopes and their variances, as the sums got them."""

    slope: np.ndarray
    variance: np.ndarray

    def sums(self) -> tuple[np.ndarray, ...]:
        """This person's part of each sum: w, w b, w b^2, w^2."""
        w = 1.0 / self.variance
        return w, w * self.slope, w * self.slope**2, w**2


def contribution(frame: pd.DataFrame, data_to: str | None = None) -> Contribution | None:
    """One person's own fit from their feature rows (labelled days up to ``data_to``), or
    None with fewer than MIN_DAYS labelled days."""
    labelled = frame[frame[LABEL].notna()]
    if data_to is not None:
        labelled = labelled[pd.to_datetime(labelled["local_date"]) <= pd.Timestamp(data_to)]
    if len(labelled) < MIN_DAYS:
        return None
    x = inputs(labelled)
    y = labelled[LABEL].astype(int).to_numpy()
    fitted = PersonalLogistic(strength=VAGUE).fit(x, y)
    return Contribution(fitted.coefficients, np.diag(fitted.covariance))


def learn(frames: dict[str, pd.DataFrame]) -> Sums:
    """The sums over everyone with enough labelled days (``frames``: each person's rows)."""
    found = [c for c in map(contribution, frames.values()) if c is not None]
    last = [
        pd.to_datetime(f.loc[f[LABEL].notna(), "local_date"]).max()
        for f in frames.values()
        if f[LABEL].notna().any()
    ]
    parts = [c.sums() for c in found]
    totals = [sum((p[i] for p in parts), np.zeros(len(TERMS))) for i in range(4)]
    return Sums(len(found), *totals, str(max(last).date()) if last else "")


def for_person(sums: Sums | None, frame: pd.DataFrame) -> prior.Prior:
    """The prior a person starts from: the learnt one without them (the literature's while
    too few others have enough days)."""
    if sums is None:
        return prior.LITERATURE
    own = contribution(frame, sums.data_to) if sums.data_to else None
    return sums.prior(leaving_out=own)


def current(registry) -> Sums | None:
    """The sums of the current learnt prior in the registry, if one was learnt."""
    found = registry.learnt_prior()
    return Sums.from_dict(found) if found else None


@dataclass(frozen=True)
class Learnt:
    """What a learning of the prior did."""

    people: int  # with enough labelled days to contribute
    everyone: int
    version: str | None  # the registered version, None when too few people
    prior: prior.Prior
    seconds: float


EXPERIMENT = "airsick-population-prior"
COLUMNS = ("person", "place", "local_date", LABEL)


def read_everyone(lakehouse, homes: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Everyone's labelled feature rows at their home place (only the model's inputs)."""
    from airsick_core import names
    from airsick_lakehouse import connect

    columns = ", ".join(f'"{c}"' for c in (*COLUMNS, *INPUT_COLUMNS))
    with connect(lakehouse) as con:
        frame = con.execute(
            f"select {columns} from lake.{names.FEATURES} where {LABEL} is not null "
            "order by person, local_date"
        ).df()
    frame["local_date"] = pd.to_datetime(frame["local_date"])
    home = frame["place"] == frame["person"].map(homes).fillna(frame["place"])
    return {person: rows for person, rows in frame[home].groupby("person", sort=True)}


def learn_and_track(
    lakehouse,
    registry,
    homes: dict[str, str],
    *,
    artifact_location: str | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> Learnt:
    """Learn the prior from everyone's diaries; when enough people have enough days, log it
    to MLflow (experiment ``airsick-population-prior``) and register it as the current
    version of its own model, for the evening's trainings to start from."""
    from airsick_training import track
    from airsick_training.models import PopulationPrior
    from airsick_training.pyfunc import AirsickModel

    started = datetime.now(UTC)
    frames = read_everyone(lakehouse, homes)
    sums = learn(frames)
    learnt = sums.prior()
    say(f"{sums.people} of {len(frames)} people have {MIN_DAYS}+ labelled days")
    if not learnt.people:
        seconds = (datetime.now(UTC) - started).total_seconds()
        return Learnt(sums.people, len(frames), None, learnt, seconds)
    experiment_id = track.use(registry.tracking_uri, EXPERIMENT, artifact_location)
    served = AirsickModel(PopulationPrior(learnt).fit(None, None), _zero_reference(), {}, 0)
    metrics = {
        f"{stat}.{name}": float(values[i])
        for stat, values in (("mean", learnt.means), ("sd", learnt.sds))
        for i, name in enumerate(TERMS)
    }
    params = {
        "people": sums.people,
        "everyone": len(frames),
        "min_days": MIN_DAYS,
        "min_people": MIN_PEOPLE,
        "vague": VAGUE,
        "data_to": sums.data_to,
    }
    run_id, uri = track.log_learnt_prior(experiment_id, sums.as_dict(), served, params, metrics)
    version = track.register_learnt_prior(registry.client, uri, run_id, sums.people)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return Learnt(sums.people, len(frames), version, learnt, seconds)


def _zero_reference() -> np.ndarray:
    """The reference day the prior's reasons are read against: nothing known (the prior's
    own reference levels)."""
    return np.full(len(INPUT_COLUMNS), np.nan)
