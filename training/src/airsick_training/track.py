"""MLflow: the run (parameters, metrics, lineage, plots, model) and the registry's aliases."""

from __future__ import annotations

import functools
import json
import logging
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
import numpy as np
import pandas as pd
from airsick_core.names import CHALLENGER, CHAMPION, model_name
from airsick_stores.registry import BACKTEST_ARTIFACT, TRIGGERS_ARTIFACT, quoted
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature

from airsick_training.data import LABEL, Dataset
from airsick_training.features import INPUT_COLUMNS
from airsick_training.pyfunc import AirsickModel, input_schema, model_input

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


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


@dataclass
class RunRecord:
    """What a training run logs besides its dataset and model (empty for the prior's run)."""

    specs: dict[str, dict]  # each candidate's recipe
    params: dict
    tags: dict[str, str]
    overall: dict[str, dict[str, float]] = field(default_factory=dict)  # scores per model
    window_scores: dict[str, dict[str, float]] = field(default_factory=dict)  # the gate's window
    fold_scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    triggers: list[dict] | None = None  # ``airsick_training.triggers``, as dicts
    backtest: pd.DataFrame | None = None  # each backtested day's out-of-sample prediction


def log_training(
    experiment_id: str, dataset: Dataset, served: AirsickModel, record: RunRecord
) -> tuple[str, str]:
    """Log one training run and its model; return (run id, model URI).

    The triggers become metrics ``trigger.<term>.odds_ratio|low|high|evidence``, so each
    factor's estimate can be followed from run to run, and the artifact ``triggers.json``.
    The backtest becomes ``backtest/predictions.json``, which the app shows as how the model
    would have done, from the first evening.
    """
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"train-{dataset.date_range[1]}"
    ) as run:
        mlflow.set_tags(record.tags)
        mlflow.log_params(
            {
                **record.params,
                "date_from": dataset.date_range[0],
                "date_to": dataset.date_range[1],
                "rows": len(dataset.frame),
            }
        )
        mlflow.log_dict(record.specs, "recipes.json")
        _log_scores(record)
        _log_dataset(dataset)
        if record.triggers is not None:
            _log_triggers(record.triggers, dataset, record.params.get("labelled_days"))
        import matplotlib.pyplot as plt  # here: a process that logs no run does without it

        for name, figure in record.figures.items():
            mlflow.log_figure(figure, f"plots/{name}.png")
            plt.close(figure)
        return run.info.run_id, _log_model(dataset, served)


def _log_scores(record: RunRecord) -> None:
    # One request per fold, not one per model and fold: fewer transactions in a tracking
    # store that trainings running side by side share.
    scores = [
        (f"{name}.{k}", v, 0)
        for name, metrics in record.overall.items()
        for k, v in metrics.items()
    ]
    scores += [
        (f"{name}.window.{k}", v, 0)
        for name, metrics in record.window_scores.items()
        for k, v in metrics.items()
    ]
    for name, folds in record.fold_scores.items():
        for row in folds.itertuples():
            scores += [
                (f"{name}.fold.log_loss", row.log_loss, int(row.fold)),
                (f"{name}.fold.brier", row.brier, int(row.fold)),
            ]
    _log_batch(scores)
    backtest = record.backtest
    if backtest is not None and len(backtest):
        mlflow.set_tag("backtest_logged", "yes")
        mlflow.log_table(
            backtest.assign(local_date=backtest["local_date"].astype(str)), BACKTEST_ARTIFACT
        )
    if record.fold_scores:
        mlflow.log_table(
            pd.concat([f.assign(model=n) for n, f in record.fold_scores.items()]),
            "backtest/folds.json",
        )


def _log_dataset(dataset: Dataset) -> None:
    source = mlflow.data.from_pandas(
        dataset.frame,
        source=dataset.source,
        name=dataset.table,
        targets=LABEL,
        digest=dataset.digest,
    )
    mlflow.log_input(source, context="training", tags={"snapshot_id": str(dataset.snapshot_id)})


def _log_triggers(triggers: list[dict], dataset: Dataset, labelled_days) -> None:
    mlflow.log_dict(
        {"date_to": dataset.date_range[1], "labelled_days": labelled_days, "triggers": triggers},
        TRIGGERS_ARTIFACT,
    )
    _log_batch(
        [
            (f"trigger.{t['term']}.{key}", t[key], 0)
            for t in triggers
            for key in ("odds_ratio", "low", "high", "evidence")
        ]
    )


def _log_batch(metrics: list[tuple[str, float, int]]) -> None:
    """Log (key, value, step) metrics of the active run, finite ones only: one request per
    step (every model's score of a fold together), not one per model and fold."""
    steps: dict[int, dict[str, float]] = {}
    for key, value, step in metrics:
        if np.isfinite(value):
            steps.setdefault(step, {})[key] = float(value)
    for step, values in steps.items():
        mlflow.log_metrics(values, step=step)


def _log_model(dataset: Dataset, served: AirsickModel) -> str:
    """Log the served model with its signature and code; return its URI."""
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
            f"scikit-learn=={metadata.version('scikit-learn')}",
        ],
    )
    return info.model_uri


def register(
    client: MlflowClient,
    model_uri: str,
    recipe: dict,
    run_id: str,
    person: str,
    evidence_days: int = 0,
) -> str:
    """Register the logged model as a new version of the person's model with its recipe;
    make it the challenger."""
    name = model_name(person)
    tags = {"recipe": json.dumps(recipe), "evidence_days": str(evidence_days)}
    log.info("registering the model of run %s", run_id)
    # The client, not mlflow.register_model: that one prints to the person's terminal.
    if not client.search_registered_models(filter_string=f"name = {quoted(name)}"):
        client.create_registered_model(
            name,
            tags={"person": person},
            description=f"{person}'s model: each version a training, @champion the one served.",
        )
    logged = model_uri.removeprefix("models:/")  # log_model's URI names the logged model
    version = client.create_model_version(
        name, source=model_uri, run_id=run_id, tags=tags, model_id=logged
    ).version
    log.info("registered version %s", version)
    client.set_model_version_tag(name, version, "run_id", run_id)
    client.set_registered_model_alias(name, CHALLENGER, version)
    return str(version)


def record_decision(
    client: MlflowClient,
    person: str,
    version: str,
    promote: bool,
    reason: str,
    tags: dict[str, str] | None = None,
) -> None:
    """Move the champion alias if promoted; tag the version with the decision (and ``tags``:
    the gate's comparison) either way.

    A promotion is tagged ``promoting`` before the alias moves and ``promoted`` after, so a
    process killed in between leaves a state ``settle_interrupted`` can read.
    """
    name = model_name(person)
    log.info("version %s: %s", version, "promoting to @champion" if promote else "refused")
    client.set_model_version_tag(name, version, "decision_reason", reason)
    for key, value in (tags or {}).items():
        client.set_model_version_tag(name, version, key, value)
    if not promote:
        client.set_model_version_tag(name, version, "decision", "refused")
        return
    client.set_model_version_tag(name, version, "decision", "promoting")
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, "decision", "promoted")


def settle_promotions(client: MlflowClient) -> list[str]:
    """Tag ``promoted`` each champion that a promotion killed after the alias moved left
    tagged ``promoting``; return which. The evening does this for everyone, whether or not
    they train tonight (a training settles the rest: ``settle_interrupted``). A version
    still ``promoting`` that is not the champion is left to its person's next training."""
    settled = []
    for version in client.search_model_versions("tags.decision = 'promoting'"):
        try:
            champion = client.get_model_version_by_alias(version.name, CHAMPION).version
        except MlflowException:
            continue
        if str(champion) == str(version.version):
            client.set_model_version_tag(version.name, version.version, "decision", "promoted")
            settled.append(f"{version.name} version {version.version}")
    return settled


def settle_interrupted(client: MlflowClient, experiment_id: str, person: str) -> list[str]:
    """Close what an interrupted training of ``person`` left open; return what was settled.

    A version registered but never decided (the process died between registering and the
    gate) is tagged ``abandoned``: it never held ``@champion`` and never will. The person's
    runs left ``RUNNING`` in the training experiment are ended as ``KILLED``. Only called
    while the person's training lock is held: other people's trainings are left alone.
    """
    from mlflow.entities import RunStatus

    name = model_name(person)
    settled = []
    try:
        versions = client.search_model_versions(f"name = {quoted(name)}")
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
    running = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.person = {quoted(person)}",
    )
    for run in running:
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
        settled.append(f"run {run.info.run_id}")
    return settled


@functools.cache
def git_commit() -> str:
    """The commit of the code that trains (a run's lineage), or 'unknown' outside a checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def run_url(ui_url: str, experiment_id: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def log_learnt_prior(
    experiment_id: str, sums: dict, served: AirsickModel, params: dict, metrics: dict
) -> tuple[str, str]:
    """Log a learning of the population prior: its sums, its terms' means and spreads, and
    the prior itself as a model (the answer for anyone on day zero); return (run id, URI)."""
    from airsick_core.names import PRIOR_SUMS

    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"prior-{params['data_to']}"
    ) as run:
        commit = git_commit()
        mlflow.set_tags({"mlflow.source.git.commit": commit, "git_commit": commit})
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.log_dict(sums, PRIOR_SUMS)
        example = np.zeros((1, len(INPUT_COLUMNS)))
        signature = ModelSignature(
            inputs=input_schema(),
            outputs=infer_signature(example, served.predict(None, example)).outputs,
        )
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=served,
            signature=signature,
            metadata={"input_columns": list(INPUT_COLUMNS)},
            code_paths=[str(Path(__file__).parent)],
            pip_requirements=[f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}"],
        )
        return run.info.run_id, info.model_uri


def register_learnt_prior(client: MlflowClient, model_uri: str, run_id: str, people: int) -> str:
    """Register the learnt prior as the next version of its own model and make it current."""
    from airsick_core.names import CURRENT, PRIOR_MODEL

    if not client.search_registered_models(filter_string=f"name = {quoted(PRIOR_MODEL)}"):
        client.create_registered_model(
            PRIOR_MODEL,
            description="The prior learnt from everyone's diaries (empirical Bayes): each "
            "newcomer's personal model starts from it, leaving them out.",
        )
    logged = model_uri.removeprefix("models:/")
    version = client.create_model_version(
        PRIOR_MODEL,
        source=model_uri,
        run_id=run_id,
        model_id=logged,
        tags={"people": str(people)},
    ).version
    client.set_registered_model_alias(PRIOR_MODEL, CURRENT, version)
    return str(version)


def ensure_router(
    client: MlflowClient, tracking_uri: str, artifact_location: str | None = None
) -> str:
    """Register the routing model (``airsick_training.router``) once for this version of
    the code, make it ``@current`` and return its version."""
    import hashlib

    from airsick_core import names as names_module
    from airsick_core.names import CURRENT, ROUTER_MODEL
    from mlflow.types import ParamSchema, ParamSpec

    from airsick_training.router import Everyone

    package = Path(__file__).parent
    sources = [*sorted(package.glob("*.py")), Path(names_module.__file__)]
    code = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    same = client.search_model_versions(
        f"name = {quoted(ROUTER_MODEL)} and tags.code = {quoted(code)}"
    )
    if same:
        version = str(same[0].version)
    else:
        experiment_id = use(tracking_uri, "airsick-serving", artifact_location)
        example = np.zeros((1, len(INPUT_COLUMNS)))
        signature = ModelSignature(
            inputs=input_schema(),
            outputs=infer_signature(
                example, pd.DataFrame({"probability": [0.5], "reasons": ["[]"]})
            ).outputs,
            params=ParamSchema([ParamSpec("person", "string", "")]),
        )
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"router-{code}") as run:
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=Everyone(),
                signature=signature,
                metadata={"input_columns": list(INPUT_COLUMNS)},
                code_paths=[str(package), str(Path(names_module.__file__).parent)],
                pip_requirements=[
                    f"mlflow=={mlflow.__version__}",
                    f"numpy=={np.__version__}",
                    f"pandas=={pd.__version__}",
                    f"scikit-learn=={metadata.version('scikit-learn')}",
                ],
            )
        if not client.search_registered_models(filter_string=f"name = {quoted(ROUTER_MODEL)}"):
            client.create_registered_model(
                ROUTER_MODEL,
                description="The one served model for everyone: each request is answered by "
                "the champion of the person it names (airsick_training.router).",
            )
        version = str(
            client.create_model_version(
                ROUTER_MODEL,
                source=info.model_uri,
                run_id=run.info.run_id,
                model_id=info.model_uri.removeprefix("models:/"),
                tags={"code": code},
            ).version
        )
    client.set_registered_model_alias(ROUTER_MODEL, CURRENT, version)
    return version
