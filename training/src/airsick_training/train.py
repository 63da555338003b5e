"""Training from the feature mart to a registered version and the gate's decision."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from airsick_lakehouse import Lakehouse

from airsick_training import plots, track
from airsick_training.data import Dataset, load_dataset, load_oracle
from airsick_training.evaluate import backtest, per_fold, score, walk_forward_folds, window
from airsick_training.explain import mean_effects
from airsick_training.features import inputs
from airsick_training.models import BASELINES, LogisticGLM, default_specs, make_model
from airsick_training.promote import decide
from airsick_training.pyfunc import AirsickModel

log = logging.getLogger(__name__)


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


def _oracle_predictions(oracle: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Score rows with the persona's true probability of being sick the next day."""
    truth = oracle.set_index("date")["probability"]
    p = truth.reindex(predictions["local_date"] + pd.Timedelta(days=1)).to_numpy()
    return predictions.assign(p=p).dropna(subset=["p"])


def train(
    lakehouse: Lakehouse,
    *,
    person: str,
    tracking_uri: str,
    ui_url: str,
    artifact_location: str | None = None,
    experiment: str = "airsick",
    seed: int = 0,
    margin: float = 0.01,
    backtest_months: int = 12,
    gate_folds: int = 3,
    tags: dict[str, str] | None = None,
    candidates: dict[str, dict] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainReport:
    """Backtest baselines and candidates, log and register the best, and apply the gate.

    ``candidates`` replaces the default candidate recipes (the baselines always run).
    """
    say = progress or (lambda message: log.info(message))
    dataset: Dataset = load_dataset(lakehouse, person)
    folds = walk_forward_folds(dataset.frame["local_date"], months=backtest_months)
    specs = default_specs(seed)
    if candidates is not None:
        specs = {name: specs[name] for name in BASELINES} | candidates
    names = [name for name in specs if name not in BASELINES]
    predictions = {}
    for name, spec in specs.items():
        say(f"backtesting {name} over {len(folds)} monthly folds")
        predictions[name] = backtest(spec, dataset.frame, folds)
    oracle = load_oracle(lakehouse, person)
    if oracle is not None:
        predictions["oracle"] = _oracle_predictions(oracle, predictions["base_rate"])

    overall = {n: score(p["y"].to_numpy(), p["p"].to_numpy()) for n, p in predictions.items()}
    recent = {n: window(p, folds, gate_folds) for n, p in predictions.items()}
    window_scores = {n: score(p["y"].to_numpy(), p["p"].to_numpy()) for n, p in recent.items()}
    challenger = min(names, key=lambda n: overall[n]["log_loss"])

    say(f"fitting {challenger} on all {len(dataset.frame)} labelled days")
    x, y = inputs(dataset.frame), dataset.label.to_numpy()
    fitted = make_model(specs[challenger]).fit(x, y)
    reference = np.nan_to_num(np.nanmedian(x, axis=0))
    served = AirsickModel(fitted, reference, specs[challenger])

    experiment_id = track.use(tracking_uri, experiment, artifact_location)
    champion = track.current_champion()
    champion_scores, same_recipe = None, False
    if champion is not None:
        same_recipe = champion.recipe == specs[challenger]
        say(f"backtesting the champion's recipe (version {champion.version}) on the same folds")
        again = window(backtest(champion.recipe, dataset.frame, folds), folds, gate_folds)
        champion_scores = score(again["y"].to_numpy(), again["p"].to_numpy())
        window_scores["champion"] = champion_scores
    decision = decide(challenger, window_scores, champion_scores, same_recipe, margin)

    glm = fitted if isinstance(fitted, LogisticGLM) else make_model(LogisticGLM().spec()).fit(x, y)
    figures = {
        "roc": plots.roc({n: predictions[n] for n in predictions}),
        "reliability": plots.reliability(
            {n: predictions[n] for n in (*names, "oracle") if n in predictions}
        ),
        "feature_effects": plots.effects(glm.table, mean_effects(fitted, x, reference)),
    }
    run_id, model_uri = track.log_training(
        experiment_id=experiment_id,
        dataset=dataset,
        specs=specs,
        overall=overall,
        window_scores=window_scores,
        fold_scores={n: per_fold(p) for n, p in predictions.items()},
        figures=figures,
        served=served,
        params={
            "challenger": challenger,
            "seed": seed,
            "margin": margin,
            "backtest_months": backtest_months,
            "gate_folds": gate_folds,
            "folds": len(folds),
            "gap_days": 1,
            "snapshot_id": dataset.snapshot_id,
        },
        tags={**(tags or {}), "person": person, "dataset_digest": dataset.digest},
    )
    version = track.register(model_uri, specs[challenger], run_id)
    track.record_decision(version, decision.promote, decision.reason)
    log.info("GLM coefficients:\n%s", glm.table)

    def table(scores: dict[str, dict[str, float]]) -> pd.DataFrame:
        order = [*BASELINES, *names, "champion", "oracle"]
        rows = [{"model": n, **scores[n]} for n in order if n in scores]
        return pd.DataFrame(rows).set_index("model")

    return TrainReport(
        table=table(overall),
        window_table=table(window_scores),
        challenger=challenger,
        version=version,
        promoted=decision.promote,
        reason=decision.reason,
        run_id=run_id,
        run_url=track.run_url(ui_url, experiment_id, run_id),
        rows=len(dataset.frame),
        folds=len(folds),
    )
