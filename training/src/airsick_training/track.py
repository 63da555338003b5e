"""MLflow: the run (parameters, metrics, lineage, plots, model) and the registry's aliases."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
import sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature

from airsick_training.data import LABEL, Dataset
from airsick_training.features import INPUT_COLUMNS
from airsick_training.pyfunc import AirsickModel, input_schema, model_input

MODEL_NAME = "airsick"
CHAMPION, CHALLENGER = "champion", "challenger"


@dataclass(frozen=True)
class Champion:
    version: str
    recipe: dict
    run_id: str


def use(tracking_uri: str, experiment: str, artifact_location: str | None = None) -> str:
    """Point MLflow at the tracking store and experiment; return the experiment id.

    ``artifact_location`` is for a local store (a server decides where artifacts go);
    without it MLflow would write them under the working folder.
    """
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found is None:
        return mlflow.create_experiment(experiment, artifact_location=artifact_location)
    mlflow.set_experiment(experiment_id=found.experiment_id)
    return found.experiment_id


def current_champion(name: str = MODEL_NAME) -> Champion | None:
    """Return the version holding the champion alias, or None if there is none yet."""
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as error:  # no such model or alias yet: there is no champion
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return Champion(version.version, json.loads(version.tags["recipe"]), version.run_id)


def log_training(
    *,
    experiment_id: str,
    dataset: Dataset,
    specs: dict[str, dict],
    overall: dict[str, dict[str, float]],
    window_scores: dict[str, dict[str, float]],
    fold_scores: dict[str, pd.DataFrame],
    figures: dict[str, plt.Figure],
    served: AirsickModel,
    params: dict,
    tags: dict[str, str],
) -> tuple[str, str]:
    """Log one training run and its model; return (run id, model URI)."""
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"train-{dataset.date_range[1]}"
    ) as run:
        mlflow.set_tags(tags)
        mlflow.log_params(
            {
                **params,
                "date_from": dataset.date_range[0],
                "date_to": dataset.date_range[1],
                "rows": len(dataset.frame),
            }
        )
        mlflow.log_dict(specs, "recipes.json")
        for name, metrics in overall.items():
            mlflow.log_metrics({f"{name}.{k}": v for k, v in metrics.items() if np.isfinite(v)})
        for name, metrics in window_scores.items():
            mlflow.log_metrics(
                {f"{name}.window.{k}": v for k, v in metrics.items() if np.isfinite(v)}
            )
        for name, folds in fold_scores.items():
            for row in folds.itertuples():
                mlflow.log_metrics(
                    {f"{name}.fold.log_loss": row.log_loss, f"{name}.fold.brier": row.brier},
                    step=int(row.fold),
                )
        if fold_scores:
            mlflow.log_table(
                pd.concat([f.assign(model=n) for n, f in fold_scores.items()]),
                "backtest/folds.json",
            )
        source = mlflow.data.from_pandas(
            dataset.frame,
            source=dataset.source,
            name=dataset.table,
            targets=LABEL,
            digest=dataset.digest,
        )
        mlflow.log_input(source, context="training", tags={"snapshot_id": str(dataset.snapshot_id)})
        for name, figure in figures.items():
            mlflow.log_figure(figure, f"plots/{name}.png")
            plt.close(figure)
        example = model_input(dataset.frame.head(2))
        if len(example) == 0:  # day zero: no row of this person yet, any valid row will do
            example = np.zeros((1, len(INPUT_COLUMNS)))
        output = served.predict(None, example)
        signature = ModelSignature(
            inputs=input_schema(), outputs=infer_signature(example, output).outputs
        )
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=served,
            signature=signature,
            metadata={"input_columns": list(INPUT_COLUMNS)},
            input_example=example,
            code_paths=[str(Path(__file__).parent)],
            pip_requirements=[
                f"mlflow=={mlflow.__version__}",
                f"numpy=={np.__version__}",
                f"pandas=={pd.__version__}",
                f"scikit-learn=={sklearn.__version__}",
            ],
        )
        return run.info.run_id, info.model_uri


def register(
    model_uri: str, recipe: dict, run_id: str, evidence_days: int = 0, name: str = MODEL_NAME
) -> str:
    """Register the logged model as a new version with its recipe; make it the challenger."""
    tags = {"recipe": json.dumps(recipe), "evidence_days": str(evidence_days)}
    version = mlflow.register_model(model_uri, name, tags=tags).version
    client = MlflowClient()
    client.set_model_version_tag(name, version, "run_id", run_id)
    client.set_registered_model_alias(name, CHALLENGER, version)
    return str(version)


def record_decision(version: str, promote: bool, reason: str, name: str = MODEL_NAME) -> None:
    """Move the champion alias if promoted; tag the version with the decision either way."""
    client = MlflowClient()
    client.set_model_version_tag(name, version, "decision", "promoted" if promote else "refused")
    client.set_model_version_tag(name, version, "decision_reason", reason)
    if promote:
        client.set_registered_model_alias(name, CHAMPION, version)


def run_url(ui_url: str, experiment_id: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
