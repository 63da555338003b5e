"""Reasons: which groups of inputs pushed one prediction's risk up or down, and how much.

Method (grouped occlusion): for each group a person understands (PM2.5, ozone, pollen,
being sick lately, ...), replace all of the group's inputs by their training medians and
predict again. The reason's effect is the change in log-odds that the day's real values
caused: positive raised the risk, negative lowered it. It works the same for every model,
and for the GLM it equals the coefficients times the distance from the median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from airsick_training.features import REASON_GROUPS


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def reasons(model, x: pd.DataFrame, reference: pd.Series, top: int = 3) -> list[list[dict]]:
    """Return, per row, the ``top`` groups by absolute effect: {factor, effect}."""
    base = _logit(model.predict_proba(x))
    names = list(REASON_GROUPS)
    occluded = []
    for name in names:
        copy = x.copy()
        columns = list(REASON_GROUPS[name])
        copy[columns] = reference[columns].to_numpy()
        occluded.append(copy)
    stacked = pd.concat(occluded, ignore_index=True)
    moved = _logit(model.predict_proba(stacked)).reshape(len(names), len(x))
    effects = base[None, :] - moved
    out = []
    for row in range(len(x)):
        order = np.argsort(-np.abs(effects[:, row]))[:top]
        out.append(
            [
                {"factor": names[i], "effect": round(float(effects[i, row]), 3)}
                for i in order
                if abs(effects[i, row]) > 1e-4
            ]
        )
    return out


def mean_effects(model, x: pd.DataFrame, reference: pd.Series) -> pd.Series:
    """Return each group's mean absolute effect over ``x``: the model's feature effects."""
    base = _logit(model.predict_proba(x))
    result = {}
    for name, columns in REASON_GROUPS.items():
        copy = x.copy()
        copy[list(columns)] = reference[list(columns)].to_numpy()
        result[name] = float(np.mean(np.abs(base - _logit(model.predict_proba(copy)))))
    return pd.Series(result).sort_values(ascending=False)
