"""The baselines every model must beat, and the candidates. Each is built from a recipe.

A recipe (``spec``) is a plain dict: the model's kind, its parameters and its inputs. The
gate compares recipes on identical folds, and the registry keeps each version's recipe.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier

from airsick_training.features import (
    DERIVED,
    GLM_COLUMNS,
    INDEX,
    INPUT_COLUMNS,
    LOG_SCALED,
    derived,
    monotone_constraints,
    positions,
)

EPS = 1e-6


class Model(Protocol):
    kind: str

    def fit(self, x: np.ndarray, y: np.ndarray) -> Model: ...
    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...
    def spec(self) -> dict: ...


class BaseRate:
    """Baseline: every day gets the training prevalence."""

    kind = "base_rate"

    def fit(self, x: np.ndarray, y: np.ndarray) -> BaseRate:
        self.rate = float(np.mean(y))
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.rate)

    def spec(self) -> dict:
        return {"kind": self.kind, "params": {}}


class Persistence:
    """Baseline: tomorrow as today, smoothed.

    The chance of being sick tomorrow given sick today (and given well today), estimated on
    the training days and shrunk toward the prevalence by ``strength`` pseudo-days.
    """

    kind = "persistence"

    def __init__(self, strength: float = 5.0) -> None:
        self.strength = strength

    def fit(self, x: np.ndarray, y: np.ndarray) -> Persistence:
        self.rate = float(np.mean(y))
        today = x[:, INDEX["sick_today"]]
        self.when = {}
        for state in (0.0, 1.0):
            mask = today == state
            self.when[state] = (y[mask].sum() + self.strength * self.rate) / (
                mask.sum() + self.strength
            )
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        today = x[:, INDEX["sick_today"]]
        p = np.full(len(x), self.rate)
        for state, value in self.when.items():
            p[today == state] = value
        return p

    def spec(self) -> dict:
        return {"kind": self.kind, "params": {"strength": self.strength}}


class LogisticGLM:
    """Candidate: a logistic GLM (statsmodels) on a few standardized, interpretable inputs.

    Levels are log-scaled where pollution is skewed; missing values take the training
    median. Prediction is plain NumPy, so the served model needs no statsmodels.
    """

    kind = "glm"

    def __init__(self, columns: tuple[str, ...] = GLM_COLUMNS) -> None:
        self.columns = list(columns)

    def _raw(self, x: np.ndarray) -> np.ndarray:
        z = derived(x)[:, positions(self.columns)]
        logged = [i for i, c in enumerate(self.columns) if c in LOG_SCALED]
        z[:, logged] = np.log1p(np.clip(z[:, logged], 0, None))
        return z

    def _design(self, x: np.ndarray) -> np.ndarray:
        z = self._raw(x)
        z = np.where(np.isnan(z), self.medians, z)
        return (z - self.means) / self.scales

    def fit(self, x: np.ndarray, y: np.ndarray) -> LogisticGLM:
        raw = self._raw(x)
        self.medians = np.nan_to_num(np.nanmedian(raw, axis=0))
        filled = np.where(np.isnan(raw), self.medians, raw)
        self.means = filled.mean(axis=0)
        scales = filled.std(axis=0, ddof=1)
        self.scales = np.where((scales > 0) & np.isfinite(scales), scales, 1.0)
        design = sm.add_constant(self._design(x), has_constant="add")
        result = sm.GLM(y, design, family=sm.families.Binomial()).fit()
        self.coefficients = np.asarray(result.params)
        intervals = np.asarray(result.conf_int(0.05))
        self.table = pd.DataFrame(
            {
                "coefficient": self.coefficients,
                "low": intervals[:, 0],
                "high": intervals[:, 1],
                "p_value": np.asarray(result.pvalues),
            },
            index=["intercept", *self.columns],
        )
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        logit = self.coefficients[0] + self._design(x) @ self.coefficients[1:]
        return 1.0 / (1.0 + np.exp(-logit))

    def spec(self) -> dict:
        return {"kind": self.kind, "params": {}, "inputs": self.columns}


class GradientBoosting:
    """Candidate: gradient boosting (scikit-learn) on every input, calibrated inside training.

    Sigmoid calibration is fitted by ``CalibratedClassifierCV`` on folds of the training
    rows only, never on the rows being evaluated. Pollutant levels are monotone: more
    pollution never lowers the predicted risk.
    """

    kind = "gbm"

    def __init__(
        self,
        seed: int = 0,
        max_iter: int = 150,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 8,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
    ) -> None:
        self.seed = seed
        self.params = {
            "max_iter": max_iter,
            "learning_rate": learning_rate,
            "max_leaf_nodes": max_leaf_nodes,
            "min_samples_leaf": min_samples_leaf,
            "l2_regularization": l2_regularization,
        }
        self.columns = [*INPUT_COLUMNS, *DERIVED]

    def fit(self, x: np.ndarray, y: np.ndarray) -> GradientBoosting:
        booster = HistGradientBoostingClassifier(
            **self.params,
            monotonic_cst=monotone_constraints(self.columns),
            random_state=self.seed,
        )
        self.model = CalibratedClassifierCV(booster, method="sigmoid", cv=3)
        self.model.fit(derived(x)[:, positions(self.columns)], y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(derived(x)[:, positions(self.columns)])[:, 1]

    def spec(self) -> dict:
        return {
            "kind": self.kind,
            "params": {**self.params, "seed": self.seed},
            "inputs": self.columns,
        }


BASELINES = ("base_rate", "persistence")
CANDIDATES = ("glm", "gbm")


def make_model(spec: dict) -> Model:
    """Build an unfitted model from its recipe."""
    kind, params = spec["kind"], dict(spec.get("params", {}))
    if kind == "base_rate":
        return BaseRate()
    if kind == "persistence":
        return Persistence(**params)
    if kind == "glm":
        return LogisticGLM(tuple(spec.get("inputs", GLM_COLUMNS)))
    if kind == "gbm":
        return GradientBoosting(**params)
    raise ValueError(f"Unknown model kind {kind!r}.")


def default_specs(seed: int = 0) -> dict[str, dict]:
    """The recipes every training compares: two baselines, two candidates."""
    return {
        "base_rate": BaseRate().spec(),
        "persistence": Persistence().spec(),
        "glm": LogisticGLM().spec(),
        "gbm": GradientBoosting(seed=seed).spec(),
    }
