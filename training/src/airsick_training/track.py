"""MLflow: the run (parameters, metrics, lineage, plots, model) and the registry's aliases."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
import sklearn
from airsick_core.names import CHALLENGER, CHAMPION, MODEL_NAME
from airsick_core.sqlite import sqlite_file, vacuum
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature

from airsick_training.data import LABEL, Dataset
from airsick_training.features import INPUT_COLUMNS
from airsick_training.pyfunc import AirsickModel, input_schema, model_input

log = logging.getLogger(__name__)

TRIGGERS_ARTIFACT = "triggers.json"
BACKTEST_ARTIFACT = "backtest/predictions.json"


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


def client_for(tracking_uri: str) -> MlflowClient:
    """The registry and tracking client of one store: every registry call below takes it,
    so nothing depends on which store the process was last pointed at."""
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def load_json(tracking_uri: str, run_id: str, path: str) -> dict:
    """A run's JSON artifact, fetched from ``tracking_uri``'s artifact store."""
    with tempfile.TemporaryDirectory() as folder:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=path, dst_path=folder, tracking_uri=tracking_uri
        )
        return json.loads(Path(local).read_text())


def current_champion(client: MlflowClient, name: str = MODEL_NAME) -> Champion | None:
    """Return the version holding the champion alias, or None if there is none yet."""
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
    triggers: list[dict] | None = None,
    backtest: pd.DataFrame | None = None,
) -> tuple[str, str]:
    """Log one training run and its model; return (run id, model URI).

    ``triggers`` (this person's factors, ``airsick_training.triggers``) become metrics
    ``trigger.<term>.odds_ratio|low|high|evidence``, so each factor's estimate can be
    followed from run to run, and the artifact ``triggers.json``. ``backtest`` (the
    out-of-sample prediction of each backtested day) becomes ``backtest/predictions.json``,
    which the app shows as how the model would have done, from the first evening.
    """
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
        if backtest is not None and len(backtest):
            mlflow.set_tag("backtest_logged", "yes")
            mlflow.log_table(
                backtest.assign(local_date=backtest["local_date"].astype(str)),
                BACKTEST_ARTIFACT,
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
        if triggers is not None:
            mlflow.log_dict(
                {
                    "date_to": dataset.date_range[1],
                    "labelled_days": params.get("labelled_days"),
                    "triggers": triggers,
                },
                TRIGGERS_ARTIFACT,
            )
            mlflow.log_metrics(
                {
                    f"trigger.{t['term']}.{key}": t[key]
                    for t in triggers
                    for key in ("odds_ratio", "low", "high", "evidence")
                    if np.isfinite(t[key])
                }
            )
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
    client: MlflowClient,
    model_uri: str,
    recipe: dict,
    run_id: str,
    evidence_days: int = 0,
    name: str = MODEL_NAME,
) -> str:
    """Register the logged model as a new version with its recipe; make it the challenger."""
    tags = {"recipe": json.dumps(recipe), "evidence_days": str(evidence_days)}
    log.info("registering the model of run %s", run_id)
    # The client, not mlflow.register_model: that one prints to the person's terminal.
    if not client.search_registered_models(filter_string=f"name = '{name}'"):
        client.create_registered_model(name)
    logged = model_uri.removeprefix("models:/")  # log_model's URI names the logged model
    version = client.create_model_version(
        name, source=model_uri, run_id=run_id, tags=tags, model_id=logged
    ).version
    log.info("registered version %s", version)
    client.set_model_version_tag(name, version, "run_id", run_id)
    client.set_registered_model_alias(name, CHALLENGER, version)
    return str(version)


def record_decision(
    client: MlflowClient, version: str, promote: bool, reason: str, name: str = MODEL_NAME
) -> None:
    """Move the champion alias if promoted; tag the version with the decision either way.

    A promotion is tagged ``promoting`` before the alias moves and ``promoted`` after, so a
    process killed in between leaves a state ``settle_interrupted`` can read.
    """
    log.info("version %s: %s", version, "promoting to @champion" if promote else "refused")
    client.set_model_version_tag(name, version, "decision_reason", reason)
    if not promote:
        client.set_model_version_tag(name, version, "decision", "refused")
        return
    client.set_model_version_tag(name, version, "decision", "promoting")
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, "decision", "promoted")


def settle_interrupted(
    client: MlflowClient, experiment_id: str, name: str = MODEL_NAME
) -> list[str]:
    """Close what an interrupted training left open; return what was settled.

    A version registered but never decided (the process died between registering and the
    gate) is tagged ``abandoned``: it never held ``@champion`` and never will. Runs left
    ``RUNNING`` in the training experiment are ended as ``KILLED``. Only called while this
    home's training lock is held.
    """
    from mlflow.entities import RunStatus

    settled = []
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        versions = []
    try:
        champion = client.get_model_version_by_alias(name, CHAMPION).version
    except MlflowException:
        champion = None
    for version in versions:
        if version.tags.get("decision") == "promoting":
            # Killed while moving the alias: it either got there or it did not.
            moved = version.version == champion
            client.set_model_version_tag(
                name, version.version, "decision", "promoted" if moved else "abandoned"
            )
            settled.append(f"version {version.version}")
        elif "decision" not in version.tags:
            client.set_model_version_tag(name, version.version, "decision", "abandoned")
            client.set_model_version_tag(
                name,
                version.version,
                "decision_reason",
                "its training was interrupted before the gate decided; never served",
            )
            settled.append(f"version {version.version}")
    running = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'")
    for run in running:
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
        settled.append(f"run {run.info.run_id}")
    return settled


def run_url(ui_url: str, experiment_id: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def person_triggers(
    tracking_uri: str, person: str, experiment: str = "airsick", runs: int = 100
) -> tuple[dict | None, pd.DataFrame]:
    """The person's latest triggers and their history over training runs.

    Returns the newest run's ``triggers.json`` (with its ``run_id``), or None before the
    first training, and one row per run and factor (``trained_to``, ``term``, ``odds_ratio``,
    ``low``, ``high``, ``evidence``) from the runs' metrics, oldest first.
    """
    client = client_for(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    columns = ["trained_to", "run_id", "term", "odds_ratio", "low", "high", "evidence"]
    if found is None:
        return None, pd.DataFrame(columns=columns)
    person_filter = person.replace("'", "''")
    listed = client.search_runs(
        [found.experiment_id],
        filter_string=f"tags.person = '{person_filter}'",
        order_by=["attributes.start_time DESC"],
        max_results=runs,
    )
    with_triggers = [r for r in listed if any(k.startswith("trigger.") for k in r.data.metrics)]
    rows = []
    for run in with_triggers:
        metrics = run.data.metrics
        terms = {k.split(".")[1] for k in metrics if k.startswith("trigger.")}
        for term in terms:
            rows.append(
                {
                    "trained_to": run.data.params.get("date_to", "none"),
                    "run_id": run.info.run_id,
                    "term": term,
                    **{
                        key: metrics.get(f"trigger.{term}.{key}")
                        for key in ("odds_ratio", "low", "high", "evidence")
                    },
                }
            )
    history = pd.DataFrame(rows, columns=columns).iloc[::-1].reset_index(drop=True)
    if not with_triggers:
        return None, history
    newest = with_triggers[0]
    latest = load_json(tracking_uri, newest.info.run_id, TRIGGERS_ARTIFACT)
    return {**latest, "run_id": newest.info.run_id}, history


def person_backtest(
    tracking_uri: str, person: str, experiment: str = "airsick"
) -> tuple[pd.DataFrame, dict]:
    """The newest backtest's out-of-sample predictions for the person, and about it.

    Columns: local_date, place, fold, y, p, model (the challenger and the base rate);
    empty before the first backtested training. The dict says which run and challenger.
    """
    client = client_for(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    empty = pd.DataFrame(columns=["local_date", "place", "fold", "y", "p", "model"])
    if found is None:
        return empty, {}
    person_filter = person.replace("'", "''")
    runs = client.search_runs(
        [found.experiment_id],
        filter_string=f"tags.person = '{person_filter}' and tags.backtest_logged = 'yes'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return empty, {}
    run = runs[0]
    table = load_json(tracking_uri, run.info.run_id, BACKTEST_ARTIFACT)
    frame = pd.DataFrame(table["data"], columns=table["columns"])
    frame["local_date"] = pd.to_datetime(frame["local_date"])
    about = {
        "run_id": run.info.run_id,
        "challenger": run.data.params.get("challenger", "?"),
        "fold_kind": run.data.params.get("fold_kind", "?"),
        "trained_to": run.data.params.get("date_to", "?"),
    }
    return frame, about


@dataclass(frozen=True)
class Forgotten:
    """What was removed from MLflow for one person."""

    runs: int
    model_versions: int
    logged_models: int
    purged: bool  # permanently, with artifacts (a local store); else deleted, to be purged


def forget_person(tracking_uri: str, person: str) -> Forgotten:
    """Delete every run of ``person`` (training, exploration, benchmarks), the model versions
    and logged models they made, and purge them with their artifacts and dataset links.

    With a local store the purge is done here (``mlflow gc``); a tracking server's operator
    purges deleted runs on the server (the runs are deleted either way).
    """
    import os
    import subprocess
    import sys

    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    person_filter = person.replace("'", "''")
    runs = []
    for start in range(0, len(experiments), 100):
        runs += client.search_runs(
            experiments[start : start + 100],
            filter_string=f"tags.person = '{person_filter}'",
            run_view_type=ViewType.ALL,
            max_results=50_000,
        )
    run_ids = {r.info.run_id for r in runs}
    folders = [r.info.artifact_uri for r in runs]
    versions = 0
    for model in client.search_registered_models():
        mine = [
            v for v in client.search_model_versions(f"name = '{model.name}'") if v.run_id in run_ids
        ]
        for version in mine:
            client.delete_model_version(model.name, version.version)
            versions += 1
        if mine and not client.search_model_versions(f"name = '{model.name}'"):
            client.delete_registered_model(model.name)
    logged = []
    if run_ids:
        for start in range(0, len(experiments), 100):
            for found in client.search_logged_models(
                experiment_ids=experiments[start : start + 100]
            ):
                if found.source_run_id in run_ids:
                    client.delete_logged_model(found.model_id)
                    logged.append(found.model_id)
                    folders.append(found.artifact_location)
    for run_id in run_ids:
        if client.get_run(run_id).info.lifecycle_stage != "deleted":
            client.delete_run(run_id)
    purged = False
    if run_ids and not tracking_uri.startswith("http"):
        command = [
            sys.executable,
            "-m",
            "mlflow",
            "gc",
            "--backend-store-uri",
            tracking_uri,
            "--run-ids",
            ",".join(sorted(run_ids)),
        ]
        if logged:
            command += ["--logged-model-ids", ",".join(logged)]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri},
        )
        if done.returncode:
            raise RuntimeError(f"mlflow gc failed: {done.stderr.strip().splitlines()[-1]}")
        _purge_dataset_links(tracking_uri, run_ids)
        _remove_empty_folders(folders)
        store = sqlite_file(tracking_uri)
        if store is not None:
            vacuum(store)
        purged = True
    return Forgotten(len(run_ids), versions, len(logged), purged)


def _remove_empty_folders(uris: list[str]) -> None:
    """Remove the local artifact folders ``mlflow gc`` emptied (and leaves behind)."""
    import shutil
    from urllib.parse import urlsplit

    for uri in uris:
        if not uri.startswith("file:"):
            continue
        folder = Path(urlsplit(uri).path)
        top = folder.parent if folder.name == "artifacts" else folder
        if top.is_dir() and not any(p.is_file() for p in top.rglob("*")):
            shutil.rmtree(top)


def _purge_dataset_links(tracking_uri: str, run_ids: set[str]) -> None:
    """Remove what ``mlflow gc`` (MLflow 3.17) leaves of purged runs in a database store:
    their input links, and the datasets no run uses any more."""
    import sqlalchemy as sa

    engine = sa.create_engine(tracking_uri)
    ids = sorted(run_ids)
    expanding = sa.bindparam("ids", expanding=True)
    with engine.begin() as con:
        gone = [
            row[0]
            for row in con.execute(
                sa.text(
                    "select input_uuid from inputs "
                    "where destination_id in :ids or source_id in :ids"
                ).bindparams(expanding),
                {"ids": ids},
            )
        ]
        if gone:
            for table in ("input_tags", "inputs"):
                con.execute(
                    sa.text(f"delete from {table} where input_uuid in :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": gone},
                )
        con.execute(
            sa.text(
                "delete from datasets where dataset_uuid not in "
                "(select source_id from inputs where source_type = 'DATASET')"
            )
        )
    engine.dispose()
