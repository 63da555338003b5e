"""Training from the feature mart to a registered version and the gate's decision."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from airsick_lakehouse import Lakehouse
from airsick_stores import Registry
from airsick_stores.registry import ModelRef

from airsick_training import learnt_prior, track, triggers
from airsick_training.data import Dataset, load_dataset, load_oracle
from airsick_training.drift import measure_each
from airsick_training.evaluate import (
    METRICS,
    backtest,
    folds_for,
    per_fold,
    score,
    window,
)
from airsick_training.explain import mean_effects
from airsick_training.features import INPUT_COLUMNS, inputs
from airsick_training.models import (
    BASELINES,
    MIN_DAYS,
    LogisticGLM,
    PersonalLogistic,
    PopulationPrior,
    default_specs,
    make_model,
)
from airsick_training.prior import LITERATURE, Prior
from airsick_training.promote import (
    Comparison,
    Decision,
    compare,
    decide,
    retrain,
    without_backtest,
)
from airsick_training.pyfunc import AirsickModel

log = logging.getLogger(__name__)
# Week-by-week backtests gate on their last 12 weeks (about the 3 months a monthly gate sees).
WEEKLY_GATE_FOLDS = 12


@dataclass(frozen=True)
class TrainReport:
    """What one training did: the score table, the decision and where to look."""

    table: pd.DataFrame  # one row per model (baselines, candidates, oracle): overall scores
    window_table: pd.DataFrame  # the same on the gate's most recent window
    challenger: str
    version: str
    promoted: bool
    reason: str
    run_id: str
    run_url: str
    rows: int
    folds: int
    fold_kind: str = "monthly"  # "monthly" or "weekly" (short diaries)
    labelled_days: int = 0  # the evidence about this person the model learnt from


def _oracle_predictions(oracle: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Score rows with the persona's true probability of being sick the next day."""
    truth = oracle.set_index("date")["probability"]
    p = truth.reindex(predictions["local_date"] + pd.Timedelta(days=1)).to_numpy()
    return predictions.assign(p=p).dropna(subset=["p"])


def reference_of(model, x: np.ndarray) -> np.ndarray:
    """The typical day that reasons are measured against (see ``explain``).

    The prior and the personal model take a missing value as their reference level, so an
    input this person has no value for stays missing; the others take training medians.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns: NaN is meant
        median = np.nanmedian(x, axis=0) if len(x) else np.full(len(INPUT_COLUMNS), np.nan)
    return median if isinstance(model, PopulationPrior) else np.nan_to_num(median)


def _table(scores: dict[str, dict[str, float]], names: list[str]) -> pd.DataFrame:
    order = [*BASELINES, *names, "champion", "oracle"]
    rows = [{"model": n, **scores[n]} for n in order if n in scores]
    return pd.DataFrame(rows, columns=["model", *METRICS]).set_index("model")


@dataclass(frozen=True)
class Session:
    """One training of one person: where it logs, and what it says as it goes."""

    registry: Registry
    experiment_id: str
    dataset: Dataset
    person: str
    ui_url: str
    tags: dict[str, str]
    say: Callable[[str], None]
    start: Prior = LITERATURE  # the prior the Bayesian candidates start from

    def record(self, specs: dict, params: dict, x, y, **more) -> track.RunRecord:
        """The run's record: lineage tags, this person's triggers, and ``more``."""
        commit = track.git_commit()
        tags = {
            "mlflow.source.git.commit": commit,
            "git_commit": commit,
            **self.tags,
            "person": self.person,
            "dataset_digest": self.dataset.digest,
            "prior": self.start.words,
        }
        found = [t.as_dict() for t in triggers.for_person(x, y)]
        return track.RunRecord(specs, params, tags, triggers=found, **more)

    def register(
        self, model_uri: str, recipe: dict, run_id: str, evidence: int, decision, comparison=None
    ):
        client = self.registry.client
        version = track.register(client, model_uri, recipe, run_id, self.person, evidence)
        tags = {"prior_people": str(self.start.people)}
        if comparison is not None and comparison.days:
            tags |= {
                "gate_gain": f"{comparison.gain:.4f}",
                "gate_interval": f"{comparison.low:+.4f} to {comparison.high:+.4f}",
                "gate_days": str(comparison.days),
            }
        track.record_decision(client, self.person, version, decision.promote, decision.reason, tags)
        return version


@dataclass(frozen=True)
class Backtested:
    """Every candidate and baseline backtested on the same folds, and the best candidate."""

    specs: dict[str, dict]
    names: list[str]  # the candidates (not the baselines)
    folds: list
    fold_kind: str
    gate_folds: int
    predictions: dict[str, pd.DataFrame]
    overall: dict[str, dict[str, float]]
    window_scores: dict[str, dict[str, float]]
    challenger: str


def train(
    lakehouse: Lakehouse,
    registry: Registry,
    *,
    person: str,
    ui_url: str,
    artifact_location: str | None = None,
    seed: int = 0,
    margin: float = 0.01,
    backtest_months: int = 12,
    gate_folds: int = 3,
    tags: dict[str, str] | None = None,
    candidates: dict[str, dict] | None = None,
    progress: Callable[[str], None] | None = None,
    home: str | None = None,
) -> TrainReport:
    """Backtest baselines and candidates, log and register the best, and apply the gate.

    Works with the evidence there is: on day zero it registers the population prior; with a
    short diary it backtests week by week; with over a year and a half, month by month.
    ``candidates`` replaces the default candidate recipes (the baselines always run);
    ``home`` is the place whose air the diary is learnt with (the person's first place).
    """
    say = progress or (lambda message: log.info(message))
    dataset: Dataset = load_dataset(lakehouse, person, home)
    experiment_id = track.use(registry.tracking_uri, registry.experiment, artifact_location)
    start = learnt_prior.for_person(learnt_prior.current(registry), dataset.frame)
    session = Session(registry, experiment_id, dataset, person, ui_url, tags or {}, say, start)
    say(f"starting from {start.words}")
    for left in track.settle_interrupted(registry.client, experiment_id, person):
        say(f"settled {left}, left open by an interrupted training")
    champion = registry.champion(person)
    fold_kind, folds = folds_for(dataset.frame["local_date"], months=backtest_months)
    if not folds:
        return _without_backtest(session, champion)
    # A week-by-week gate looks at the last 12 weeks; a month-by-month one at gate_folds.
    gate_folds = gate_folds if fold_kind == "monthly" else WEEKLY_GATE_FOLDS
    tested = _backtest_candidates(
        session, lakehouse, folds, fold_kind, gate_folds, seed, candidates
    )
    params = {
        "seed": seed,
        "margin": margin,
        "backtest_months": backtest_months,
        "gate_folds": gate_folds,
    }
    return _fit_gate_and_register(session, tested, champion, margin, params)


def _backtest_candidates(
    session: Session, lakehouse, folds, fold_kind, gate_folds, seed, candidates
) -> Backtested:
    """Backtest the baselines and every candidate (and the demo persona's oracle)."""
    dataset, days = session.dataset, session.dataset.labelled_days
    specs = default_specs(seed, days if dataset.both_outcomes else 0, session.start)
    if candidates is not None:
        specs = {name: specs[name] for name in BASELINES} | candidates
    predictions = {}
    for name, spec in specs.items():
        session.say(
            f"backtesting {name} over {len(folds)} {fold_kind} folds ({days} labelled days)"
        )
        predictions[name] = backtest(spec, dataset.frame, folds)
    oracle = load_oracle(lakehouse, session.person)
    if oracle is not None:
        predictions["oracle"] = _oracle_predictions(oracle, predictions["base_rate"])
    overall = {n: score(p["y"].to_numpy(), p["p"].to_numpy()) for n, p in predictions.items()}
    recent = {n: window(p, folds, gate_folds) for n, p in predictions.items()}
    window_scores = {n: score(p["y"].to_numpy(), p["p"].to_numpy()) for n, p in recent.items()}
    names = [name for name in specs if name not in BASELINES]
    challenger = min(names, key=lambda n: overall[n]["log_loss"])
    return Backtested(
        specs, names, folds, fold_kind, gate_folds, predictions, overall, window_scores, challenger
    )


def _gate(
    session: Session, tested: Backtested, champion, margin: float
) -> tuple[Decision, Comparison]:
    """Compare the challenger with the incumbent on every out-of-sample day and apply
    ``promote.decide``. The incumbent is the champion's recipe, backtested again on the same
    folds and data, or the population prior while there is no champion."""
    recipe = champion.recipe if champion is not None else PopulationPrior(session.start).spec()
    incumbent = "the champion" if champion is not None else "the population prior"
    tested_already = [n for n, spec in tested.specs.items() if spec == recipe]
    if tested_already:
        again = tested.predictions[tested_already[0]]
    else:
        session.say(f"backtesting the champion's recipe ({recipe['kind']}) on the same folds")
        again = backtest(recipe, session.dataset.frame, tested.folds)
    tested.overall["champion"] = score(again["y"].to_numpy(), again["p"].to_numpy())
    recent = window(again, tested.folds, tested.gate_folds)
    tested.window_scores["champion"] = score(recent["y"].to_numpy(), recent["p"].to_numpy())
    keys = ["local_date", "place"]
    paired = (
        tested.predictions[tested.challenger]
        .merge(again[[*keys, "p"]], on=keys, suffixes=("", "_incumbent"))
        .sort_values(keys)
    )
    comparison = compare(
        paired["y"].to_numpy(), paired["p"].to_numpy(), paired["p_incumbent"].to_numpy()
    )
    challenger_spec = tested.specs[tested.challenger]
    decision = decide(
        tested.challenger,
        challenger_spec["kind"],
        tested.overall,
        comparison,
        recipe == challenger_spec,
        margin,
        incumbent,
        recipe["kind"],
    )
    return decision, comparison


def _fit_gate_and_register(
    session: Session, tested: Backtested, champion, margin: float, params: dict
) -> TrainReport:
    """Fit the challenger on every labelled row, gate it, log and register it; if it is
    refused while nobody answers yet, register the population prior to answer meanwhile."""
    dataset, days, challenger = session.dataset, session.dataset.labelled_days, tested.challenger
    session.say(f"fitting {challenger} on all {len(dataset.frame)} labelled rows")
    x, y = inputs(dataset.frame), dataset.label.to_numpy()
    fitted = make_model(tested.specs[challenger]).fit(x, y)
    evidence = 0 if fitted.kind == "prior" else days
    served = AirsickModel(fitted, reference_of(fitted, x), tested.specs[challenger], evidence)
    decision, comparison = _gate(session, tested, champion, margin)
    record = session.record(
        tested.specs,
        {
            **params,
            "challenger": challenger,
            "fold_kind": tested.fold_kind,
            "folds": len(tested.folds),
            "gap_days": 1,
            "labelled_days": days,
            "snapshot_id": dataset.snapshot_id,
        },
        x,
        y,
        overall={**tested.overall, "gate": comparison.as_metrics()},
        window_scores=tested.window_scores,
        fold_scores={n: per_fold(p) for n, p in tested.predictions.items()},
        figures=_figures(tested, fitted, served, x, y, days),
        backtest=pd.concat(
            [tested.predictions[n].assign(model=n) for n in (challenger, "base_rate")],
            ignore_index=True,
        ),
    )
    run_id, model_uri = track.log_training(session.experiment_id, dataset, served, record)
    version = session.register(
        model_uri, tested.specs[challenger], run_id, evidence, decision, comparison
    )
    reason = decision.reason
    if champion is None and not decision.promote:
        # Nobody answers yet: the population prior does until a personal model wins.
        fallback = Decision(True, f"{challenger} was refused ({reason}); the prior answers")
        prior_version, _ = _register_simple(session, PopulationPrior(session.start), fallback)
        reason += f"; the population prior (version {prior_version}) answers meanwhile"
    return TrainReport(
        table=_table(tested.overall, tested.names),
        window_table=_table(tested.window_scores, tested.names),
        challenger=challenger,
        version=version,
        promoted=decision.promote,
        reason=reason,
        run_id=run_id,
        run_url=track.run_url(session.ui_url, session.experiment_id, run_id),
        rows=len(dataset.frame),
        folds=len(tested.folds),
        fold_kind=tested.fold_kind,
        labelled_days=days,
    )


def _figures(tested: Backtested, fitted, served, x, y, days: int) -> dict:
    from airsick_training import plots  # matplotlib and scikit-learn: only when training

    predictions = tested.predictions
    return {
        "roc": plots.roc({n: p for n, p in predictions.items() if p["y"].nunique() == 2}),
        "reliability": plots.reliability(
            {n: predictions[n] for n in (*tested.names, "oracle") if n in predictions}
        ),
        "feature_effects": plots.effects(
            _coefficient_table(fitted, x, y, days), mean_effects(fitted, x, served.reference)
        ),
    }


def _effects_figure(table) -> object:
    from airsick_training import plots

    return plots.effects(table, pd.Series(dtype=float))


def retrain_decision(
    lakehouse: Lakehouse, registry: Registry, person: str, today: date
) -> Decision:
    """Whether to train this evening (``promote.retrain``, the rule), from the registry's
    champion and what the lakehouse has seen since its data ended."""
    champion = registry.champion(person)
    champions = {} if champion is None else {person: champion}
    columns = {} if champion is None else {person: registry.input_columns(champion)}
    return retrain_decisions(lakehouse, registry, [person], today, champions, columns)[person]


def retrain_decisions(
    lakehouse: Lakehouse,
    registry: Registry,
    people: list[str],
    today: date,
    champions: dict[str, ModelRef],
    columns: dict[str, list[str]],
) -> dict[str, Decision]:
    """:func:`retrain_decision` for everyone at once: their ``champions`` and each
    champion's input ``columns`` (read from the loaded models) are given, and the drift of
    all of them is one query."""
    learnt_to = registry.trained_to_each(list(champions.values()))
    since = {}
    for person, ref in champions.items():
        if columns.get(person) == list(INPUT_COLUMNS):
            day = learnt_to.get(ref.run_id, "none")
            since[person] = date.min if day == "none" else date.fromisoformat(day)
    drifts = measure_each(lakehouse, since, today) if since else {}
    return {
        person: retrain(
            has_champion=person in champions,
            same_inputs=person not in champions or person in since,
            champion_days=champions[person].evidence_days if person in champions else 0,
            drift=drifts.get(person),
        )
        for person in people
    }


def _coefficient_table(fitted, x: np.ndarray, y: np.ndarray, days: int) -> pd.DataFrame | None:
    """The slopes with intervals to plot: the fitted model's own, or a GLM's on long diaries."""
    if hasattr(fitted, "table"):
        return fitted.table
    if days >= MIN_DAYS["glm"]:
        return make_model(LogisticGLM().spec()).fit(x, y).table
    return None


def _without_backtest(session: Session, champion) -> TrainReport:
    """Rule 0 of the gate: too little diary for a backtest (day zero, the first weeks).

    With no labelled day the population prior is registered and answers, labelled as not
    personal; from the first day the personal model (the prior updated by the days) does,
    with only the person's level learnt: the slopes move once a backtest can judge them.
    """
    days = session.dataset.labelled_days
    model = (
        PopulationPrior(session.start)
        if days == 0
        else PersonalLogistic(learns="level", start=session.start)
    )
    session.say(f"{days} labelled days: too few to backtest; fitting the {model.kind} model")
    decision = without_backtest(days, champion.recipe.get("kind") if champion else None)
    version, run_id = _register_simple(session, model, decision)
    empty = _table({}, [])
    return TrainReport(
        table=empty,
        window_table=empty,
        challenger=model.kind,
        version=version,
        promoted=decision.promote,
        reason=decision.reason,
        run_id=run_id,
        run_url=track.run_url(session.ui_url, session.experiment_id, run_id),
        rows=len(session.dataset.frame),
        folds=0,
        fold_kind="none",
        labelled_days=days,
    )


def _register_simple(session: Session, model, decision: Decision) -> tuple[str, str]:
    """Fit, log and register a model without a backtest (the prior, or a first few days)."""
    dataset = session.dataset
    x, y = inputs(dataset.frame), dataset.label.to_numpy()
    fitted = model.fit(x, y)
    evidence = 0 if fitted.kind == "prior" else dataset.labelled_days
    served = AirsickModel(fitted, reference_of(fitted, x), fitted.spec(), evidence)
    record = session.record(
        {fitted.kind: fitted.spec()},
        {
            "challenger": fitted.kind,
            "fold_kind": "none",
            "folds": 0,
            "labelled_days": dataset.labelled_days,
            "snapshot_id": dataset.snapshot_id,
        },
        x,
        y,
        figures={"feature_effects": _effects_figure(fitted.table)},
    )
    run_id, model_uri = track.log_training(session.experiment_id, dataset, served, record)
    return session.register(model_uri, fitted.spec(), run_id, evidence, decision), run_id
