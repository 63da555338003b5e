"""The served model: an MLflow pyfunc that takes feature-mart rows and answers with reasons.

``mlflow models serve`` loads it with no airsick code on the serving side: the package is
logged with the model (``code_paths``).
"""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.types import ColSpec, Schema

from airsick_training.explain import reasons
from airsick_training.features import INPUT_COLUMNS, inputs


class AirsickModel(mlflow.pyfunc.PythonModel):
    """Wrap a fitted model: output the probability of being sick tomorrow and the reasons."""

    def __init__(self, model, reference: np.ndarray, recipe: dict) -> None:
        self.model = model
        self.reference = reference
        self.recipe = recipe

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        x = inputs(model_input)
        probability = self.model.predict_proba(x)
        why = reasons(self.model, x, self.reference)
        return pd.DataFrame(
            {"probability": np.round(probability, 6), "reasons": [json.dumps(r) for r in why]}
        )


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """Return mart rows as the model takes them: its inputs only, as floats (null as NaN)."""
    return frame.loc[:, list(INPUT_COLUMNS)].astype("float64")


def input_schema() -> Schema:
    """Every input is a number that may be missing (a day not logged, pollen outside Europe)."""
    return Schema([ColSpec("double", name, required=False) for name in INPUT_COLUMNS])
