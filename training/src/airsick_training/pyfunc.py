"""The served model: an MLflow pyfunc that takes feature-mart rows and answers with reasons.

Each answer also says how personal it is: ``evidence_days``, the labelled diary days the
model learnt from (0: the population prior, not personal yet).

``mlflow models serve`` loads it with no airsick code on the serving side: the package is
logged with the model (``code_paths``).
"""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.types import Schema, TensorSpec

from airsick_training.explain import reasons
from airsick_training.features import INPUT_COLUMNS, inputs


class AirsickModel(mlflow.pyfunc.PythonModel):
    """Wrap a fitted model: output the probability of being sick tomorrow and the reasons."""

    # The signature is explicit (one float64 tensor); MLflow's type-hint inference, and its
    # warning that predict has no type hints, do not apply.
    _skip_type_hint_validation = True

    def __init__(self, model, reference: np.ndarray, recipe: dict, evidence_days: int = 0) -> None:
        self.model = model
        self.reference = reference
        self.recipe = recipe
        # How personal the answer is: the labelled diary days the model learnt from (0 for
        # the population prior: "not personal yet").
        self.evidence_days = int(evidence_days)

    def predict(self, context, model_input, params: dict | None = None):
        # The served signature is one float matrix in INPUT_COLUMNS order (cheap for MLflow
        # to parse and check); mart rows with named columns are accepted in-process too.
        x = (
            inputs(model_input)
            if isinstance(model_input, pd.DataFrame)
            else np.asarray(model_input, dtype="float64")
        )
        probability = self.model.predict_proba(x)
        why = reasons(self.model, x, self.reference)
        return pd.DataFrame(
            {
                "probability": np.round(probability, 6),
                "reasons": [json.dumps(r) for r in why],
                "evidence_days": np.full(len(probability), getattr(self, "evidence_days", 0)),
                # Which prior the answer started from: 0 the literature's, N one learnt
                # from N other people's diaries.
                "prior_people": np.full(len(probability), getattr(self.model, "prior_people", 0)),
            }
        )


def model_input(frame: pd.DataFrame) -> np.ndarray:
    """Return mart rows as the served model takes them: one float matrix (null as NaN)."""
    return inputs(frame)


def input_schema() -> Schema:
    """One float64 matrix, a row per day, columns in INPUT_COLUMNS order (NaN = missing).

    The column names travel in the model's metadata (``input_columns``); MLflow parses and
    checks one tensor in microseconds where 86 named columns cost it milliseconds.
    """
    return Schema([TensorSpec(np.dtype("float64"), (-1, len(INPUT_COLUMNS)))])
