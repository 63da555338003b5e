"""Newcomers to a home of many: how good are their first weeks, from which prior?

Used by ``tests/data/test_learnt_prior.py`` and ``benchmarks/prior.py``. A home is filled
with the simulated population (``airsick demo --people N``'s: documented law, twenty
cities), its air ingested from the stand-in and built by dbt, as the product does. Every
member whose diary is long enough is then taken as a newcomer in turn: their first ``k``
logged days (7, 14, 30, 60) fit the model the product would serve at that point (rule 0's,
the person's level from the prior, while no backtest is possible; the personal model after),
once from the literature's prior and once from the prior learnt from everyone else
(leaving them out), and the next 90 days are scored against their truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

DAYS = (7, 14, 30, 60)
SCORED_DAYS = 90
RULE_ZERO_UNTIL = 14  # no backtest fold this early: rule 0 serves the person's level


@dataclass(frozen=True)
class Newcomer:
    person: str
    kind: str
    days: int
    brier_literature: float
    brier_learnt: float
    brier_base_rate: float
    brier_truth: float

    def skill(self, brier: float) -> float:
        return (self.brier_base_rate - brier) / (self.brier_base_rate - self.brier_truth)


def population_home(home: Path, people: int, history_days: int = 730):
    """A home of ``people`` simulated people, ingested and built; return its settings."""
    from airsick_core.settings import Settings
    from airsick_orchestration import optional, steps

    settings = Settings(home=home, standin_port=0, open_meteo_calls_per_minute=0)
    settings = settings.model_copy(
        update={"history_start": settings.today() - timedelta(days=history_days)}
    )
    with optional.standin_serving(settings) as pointed:
        steps.create_persona(pointed, people)
        steps.ingest(pointed)
    steps.transform(settings, unit_tests=False)
    return settings


def newcomers(settings, days=DAYS) -> list[Newcomer]:
    """Every long-enough member as a newcomer, for each number of logged days."""
    from airsick_core import names
    from airsick_orchestration import steps
    from airsick_standin import population
    from airsick_stores.reading import query
    from airsick_training import learnt_prior
    from airsick_training.data import LABEL, load_oracle
    from airsick_training.features import inputs
    from airsick_training.models import PersonalLogistic
    from airsick_training.prior import LITERATURE

    home = steps.stores(settings)
    homes = {p.name: p.places[0].name for p in home.people.everyone()}
    # Everyone's features in one read (a lakehouse connection costs a third of a second).
    features = query(
        settings.lakehouse, f"select * from lake.{names.FEATURES} order by person, local_date", []
    )
    features = dict(list(features.groupby("person", sort=False)))
    frames = learnt_prior.read_everyone(settings.lakehouse, homes)
    sums = learnt_prior.learn(frames)
    first = settings.history_first_day()
    drawn = population.draw(len(homes), first, settings.today(), settings.persona_seed)
    kinds = {m.name: m.kind for m in drawn}
    found = []
    for person, labelled in frames.items():
        truth = load_oracle(settings.lakehouse, person)
        if truth is None or person not in kinds:
            continue
        rows = features[person]
        rows = rows[rows["place"] == homes[person]].sort_values("local_date")
        rows["local_date"] = pd.to_datetime(rows["local_date"])
        truth = truth.set_index("date")["probability"]
        learnt = learnt_prior.for_person(sums, labelled)
        for k in days:
            if len(labelled) < k + 20:
                continue
            trained = labelled.iloc[:k]
            end = trained["local_date"].iloc[-1]
            scored = rows[
                (rows["local_date"] > end)
                & (rows["local_date"] <= end + pd.Timedelta(days=SCORED_DAYS))
            ]
            next_day = scored["local_date"] + pd.Timedelta(days=1)
            keep = next_day.isin(truth.index).to_numpy()
            scored, next_day = scored[keep], next_day[keep]
            if len(scored) < 30:
                continue
            p_true = truth.loc[next_day].to_numpy()
            outcome = _outcomes(settings, person, next_day)
            x, y = inputs(trained), trained[LABEL].astype(int).to_numpy()
            learns = "level" if k <= RULE_ZERO_UNTIL else "all"
            briers = {}
            for name, start in (("literature", LITERATURE), ("learnt", learnt)):
                model = PersonalLogistic(learns=learns, start=start).fit(x, y)
                p = model.predict_proba(inputs(scored))
                briers[name] = float(np.mean((p - outcome) ** 2))
            base = float(y.mean())
            found.append(
                Newcomer(
                    person,
                    kinds[person],
                    k,
                    briers["literature"],
                    briers["learnt"],
                    float(np.mean((base - outcome) ** 2)),
                    float(np.mean((p_true - outcome) ** 2)),
                )
            )
    return found


def _outcomes(settings, person: str, days: pd.Series) -> np.ndarray:
    """Whether ``person`` was sick on each of ``days`` (their simulated truth's draw)."""
    import duckdb

    truth = duckdb.sql(
        "select date, sick from read_parquet(?) where person = ?",
        params=[settings.lakehouse.raw_files("persona_truth"), person],
    ).df()
    sick = truth.assign(date=pd.to_datetime(truth["date"])).set_index("date")["sick"]
    return sick.loc[days].astype(float).to_numpy()


def summary(found: list[Newcomer]) -> pd.DataFrame:
    """Mean skill captured by days logged, from each prior (people whose truth beats their
    base rate clearly on the scored days: else a ratio of skills is noise)."""
    rows = [
        {
            "days": n.days,
            "literature": n.skill(n.brier_literature),
            "learnt": n.skill(n.brier_learnt),
            "brier_literature": n.brier_literature,
            "brier_learnt": n.brier_learnt,
        }
        for n in found
        if n.brier_base_rate - n.brier_truth >= 0.01
    ]
    frame = pd.DataFrame(rows)
    table = frame.groupby("days").mean()
    table["people"] = frame.groupby("days").size()
    return table
