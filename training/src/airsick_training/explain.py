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

from airsick_training.features import INDEX, REASON_GROUPS

GROUP_INDEX = {
    name: np.array([INDEX[c] for c in columns]) for name, columns in REASON_GROUPS.items()
}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def effects(model, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Return each group's effect on each row's log-odds, shape (groups, rows).

    One predict call on all occluded copies at once: a served row stays cheap.
    """
    names = list(GROUP_INDEX)
    stacked = np.repeat(x[None, :, :], len(names) + 1, axis=0)
    for g, name in enumerate(names, start=1):
        stacked[g][:, GROUP_INDEX[name]] = reference[GROUP_INDEX[name]]
    logits = _logit(model.predict_proba(stacked.reshape(-1, x.shape[1]))).reshape(
        len(names) + 1, -1
    )
    return logits[0][None, :] - logits[1:]


def reasons(model, x: np.ndarray, reference: np.ndarray, top: int = 3) -> list[list[dict]]:
    """Return, per row, the ``top`` groups by absolute effect: {factor, effect}."""
    names = list(GROUP_INDEX)
    moved = effects(model, x, reference)
    out = []
    for row in range(x.shape[0]):
        order = np.argsort(-np.abs(moved[:, row]))[:top]
        out.append(
            [
                {"factor": names[i], "effect": round(float(moved[i, row]), 3)}
                for i in order
                if abs(moved[i, row]) > 1e-4
            ]
        )
    return out


def mean_effects(model, x: np.ndarray, reference: np.ndarray) -> pd.Series:
    """Return each group's mean absolute effect over ``x``: the model's feature effects."""
    mean = np.abs(effects(model, x, reference)).mean(axis=1)
    return pd.Series(mean, index=list(GROUP_INDEX)).sort_values(ascending=False)
