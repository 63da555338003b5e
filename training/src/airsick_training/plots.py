"""Figures a person would rather look at than read: ROC, reliability, feature effects."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files, never a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve


def roc(predictions: dict[str, pd.DataFrame]) -> plt.Figure:
    """ROC curves of every model on its walk-forward predictions."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, frame in predictions.items():
        fpr, tpr, _ = roc_curve(frame["y"], frame["p"])
        ax.plot(fpr, tpr, label=name, linestyle="--" if name in ("base_rate", "oracle") else "-")
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    ax.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title="ROC, walk-forward backtest",
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def reliability(predictions: dict[str, pd.DataFrame], bins: int = 10) -> plt.Figure:
    """Predicted against observed rates by bin: on the diagonal is well calibrated."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    edges = np.linspace(0, 1, bins + 1)
    for name, frame in predictions.items():
        which = np.clip(np.digitize(frame["p"], edges[1:-1]), 0, bins - 1)
        grouped = (
            frame.assign(bin=which)
            .groupby("bin")
            .agg(p=("p", "mean"), y=("y", "mean"), n=("y", "size"))
        )
        ax.plot(grouped["p"], grouped["y"], marker="o", label=name)
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
    ax.set(
        xlabel="predicted probability",
        ylabel="observed share sick next day",
        title="Reliability, walk-forward backtest",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def effects(glm_table: pd.DataFrame | None, group_effects: pd.Series) -> plt.Figure:
    """GLM coefficients with 95% intervals, and each factor's mean effect on the champion."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    if glm_table is not None:
        table = glm_table.drop(index="intercept")
        y = np.arange(len(table))
        axes[0].errorbar(
            table["coefficient"],
            y,
            fmt="o",
            xerr=[table["coefficient"] - table["low"], table["high"] - table["coefficient"]],
        )
        axes[0].axvline(0, color="grey", linewidth=0.8)
        axes[0].set_yticks(y, table.index)
        axes[0].set(title="Slopes on log-odds (95% interval)")
    if group_effects.empty:
        axes[1].text(0.5, 0.5, "no days of this person yet", ha="center", va="center")
    else:
        group_effects.iloc[::-1].plot.barh(ax=axes[1])
    axes[1].set(title="Mean |effect| on log-odds, by factor", xlabel="log-odds")
    fig.tight_layout()
    return fig
