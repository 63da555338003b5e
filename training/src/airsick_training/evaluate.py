"""Walk-forward backtests: expanding windows, folds in time order, a gap, and the scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from airsick_training.data import LABEL
from airsick_training.features import inputs
from airsick_training.models import make_model

METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "calibration_error")
LOWER_IS_BETTER = frozenset({"brier", "log_loss", "calibration_error"})


@dataclass(frozen=True)
class Fold:
    """Train on days up to ``train_end``; test on ``test_start``..``test_end``."""

    index: int
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp


def walk_forward_folds(
    dates: pd.Series, months: int = 12, gap_days: int = 1, min_train_days: int = 180
) -> list[Fold]:
    """Monthly test folds over the last ``months`` months, each trained on all days before.

    The label of day d is the diary of d + 1, so a training row must end before the test
    month starts: training stops ``gap_days`` + 1 days before it.
    """
    first, last = dates.min(), dates.max()
    starts = pd.date_range(
        last.to_period("M").to_timestamp() - pd.DateOffset(months=months - 1),
        periods=months,
        freq="MS",
    )
    folds = []
    for start in starts:
        train_end = start - pd.Timedelta(days=gap_days + 1)
        if (train_end - first).days + 1 < min_train_days:
            continue
        end = min(start + pd.offsets.MonthEnd(0), last)
        folds.append(Fold(len(folds), train_end, start, end))
    return folds


# The weekly backtest's first fold needs this many labelled days before it.
MIN_TRAIN_DAYS = 14


def weekly_folds(
    dates: pd.Series, weeks: int = 26, gap_days: int = 1, min_train_days: int = MIN_TRAIN_DAYS
) -> list[Fold]:
    """Weekly test folds over the last ``weeks`` weeks, each trained on all labelled days before.

    For short diaries: leave-future-out one week at a time, from the first week that has
    ``min_train_days`` labelled days before it (two weeks of a diary give a first fold).
    """
    if dates.empty:
        return []
    first, last = dates.min(), dates.max()
    ordered = np.sort(dates.to_numpy())
    folds = []
    for back in range(weeks, 0, -1):
        start = last - pd.Timedelta(days=7 * back - 1)
        train_end = start - pd.Timedelta(days=gap_days + 1)
        if start <= first or np.searchsorted(ordered, train_end, side="right") < min_train_days:
            continue
        end = min(start + pd.Timedelta(days=6), last)
        folds.append(Fold(len(folds), train_end, start, end))
    return folds


# Monthly folds once the diary spans this many days (12 months of tests after 180 of
# training); weekly folds before, so a backtest and the gate work from the third week.
MONTHLY_AFTER_DAYS = 540


def folds_for(dates: pd.Series, months: int = 12) -> tuple[str, list[Fold]]:
    """Choose the backtest for the evidence there is: ('monthly'|'weekly', folds)."""
    if not dates.empty and (dates.max() - dates.min()).days + 1 >= MONTHLY_AFTER_DAYS:
        return "monthly", walk_forward_folds(dates, months=months)
    return "weekly", weekly_folds(dates)


def backtest(spec: dict, frame: pd.DataFrame, folds: list[Fold]) -> pd.DataFrame:
    """Refit the recipe for every fold; return its out-of-sample predictions."""
    out = []
    dates = frame["local_date"]
    x, y = inputs(frame), frame[LABEL].astype(int).to_numpy()
    for fold in folds:
        train = (dates <= fold.train_end).to_numpy()
        test = ((dates >= fold.test_start) & (dates <= fold.test_end)).to_numpy()
        if not test.any() or not train.any():
            continue
        model = make_model(spec).fit(x[train], y[train])
        out.append(
            pd.DataFrame(
                {
                    "local_date": dates[test].to_numpy(),
                    "place": frame["place"][test].to_numpy(),
                    "fold": fold.index,
                    "y": y[test],
                    "p": model.predict_proba(x[test]),
                }
            )
        )
    if not out:
        return pd.DataFrame(columns=["local_date", "place", "fold", "y", "p"])
    return pd.concat(out, ignore_index=True)


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the gap between predicted and observed rates, by decile."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(total)


def score(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Return every metric; the ranking ones are NaN when only one class is present."""
    # Imported here: an evening that does not train needs no scikit-learn (a second of start-up).
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    if len(y) == 0:
        return dict.fromkeys(METRICS, float("nan"))
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    y = np.asarray(y, dtype=int)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "calibration_error": calibration_error(y, p),
    }


def per_fold(predictions: pd.DataFrame) -> pd.DataFrame:
    """Return one row of scores per fold."""
    rows = [
        {"fold": fold, "rows": len(g), **score(g["y"].to_numpy(), g["p"].to_numpy())}
        for fold, g in predictions.groupby("fold")
    ]
    return pd.DataFrame(rows)


def window(predictions: pd.DataFrame, folds: list[Fold], last: int) -> pd.DataFrame:
    """Return the predictions of the ``last`` folds: the gate's most recent window."""
    keep = {f.index for f in folds[-last:]}
    return predictions[predictions["fold"].isin(keep)]
