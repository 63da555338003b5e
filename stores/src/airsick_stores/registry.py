"""The model registry and each person's training runs in MLflow: one client, every lookup.

Whatever reads the registry or a person's runs goes through :class:`Registry`: the champion,
a version's inputs and files, a person's runs (their name quoted for MLflow's filter once,
here), their triggers and backtest, and forgetting them. Logging a training run is
training's (``airsick_training.track``), with this registry's client.

Nothing here sets MLflow's process-wide tracking URI: every call names its store.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from airsick_core import names

from airsick_stores.reading import Unavailable

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

TRIGGERS_ARTIFACT = "triggers.json"
BACKTEST_ARTIFACT = "backtest/predictions.json"
TRIGGER_KEYS = ("odds_ratio", "low", "high", "evidence")


@dataclass(frozen=True)
class ModelRef:
    """A registered model version, pinned (so that an alias moving later changes nothing)."""

    name: str
    version: str
    run_id: str
    recipe: dict = field(default_factory=dict, compare=False)  # the candidate's spec
    evidence_days: int = field(default=0, compare=False)  # labelled days it learnt from
    source: str = field(default="", compare=False)  # its logged model, models:/<id>

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class Forgotten:
    """What was removed from MLflow for one person."""

    runs: int
    model_versions: int
    logged_models: int
    purged: bool  # permanently, with artifacts (a local store); else deleted, to be purged


def quoted(text: str) -> str:
    """``text`` as a string literal in an MLflow search filter."""
    return "'" + text.replace("'", "''") + "'"


def _reading(what: str):
    """Turn any failure of a read into :class:`Unavailable`, naming the store."""

    def wrap(method):
        @functools.wraps(method)
        def read(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Unavailable:
                raise
            except Exception as error:
                raise Unavailable(
                    f"The {what} at {self.tracking_uri} cannot be read now; check that MLflow "
                    "is reachable and try again."
                ) from error

        return read

    return wrap


def _every(search, filter_string: str) -> list:
    """Every page of one of MLflow's searches."""
    pages, token = [], None
    while True:
        page = search(filter_string=filter_string, max_results=1000, page_token=token)
        pages.extend(page)
        token = page.token
        if not token:
            return pages


class Registry:
    """One MLflow store (tracking and registry), and the experiment training logs to."""

    def __init__(self, tracking_uri: str, experiment: str = "airsick") -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment

    @functools.cached_property
    def client(self) -> MlflowClient:
        """The one client of this store: every lookup below and every training's logging."""
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    # The champion and its versions

    def champion(self, person: str) -> ModelRef | None:
        """The person's version holding ``@champion``, or None while there is none."""
        from mlflow.exceptions import MlflowException

        name = names.model_name(person)
        try:
            version = self.client.get_model_version_by_alias(name, names.CHAMPION)
        except MlflowException as error:  # no model or alias yet: there is no champion
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return self._ref(name, version)

    def router(self) -> ModelRef | None:
        """The served model for everyone (``airsick.everyone@current``), or None before
        the first training registers it."""
        from mlflow.exceptions import MlflowException

        try:
            version = self.client.get_model_version_by_alias(names.ROUTER_MODEL, names.CURRENT)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return self._ref(names.ROUTER_MODEL, version)

    def champions(self) -> dict[str, ModelRef]:
        """Every person's champion, by person, in a few queries whatever their number.

        The evening reads these once instead of asking the registry person by person: with
        1,000 people, a thousand alias lookups cost more than the scoring."""
        prefix = quoted(names.model_name("") + "%")
        wanted = {
            model.name: (model.tags.get("person", ""), str(model.aliases[names.CHAMPION]))
            for model in _every(self.client.search_registered_models, f"name LIKE {prefix}")
            if names.CHAMPION in model.aliases
        }
        found = {}
        for version in _every(self.client.search_model_versions, f"name LIKE {prefix}"):
            person, champion = wanted.get(version.name, ("", ""))
            if person and str(version.version) == champion:
                found[person] = self._ref(version.name, version)
        return found

    def trained_to_each(self, refs: list[ModelRef]) -> dict[str, str]:
        """The last day each version learnt from, by run id (``trained_to``, in batches)."""
        found = self.client.get_experiment_by_name(self.experiment)
        days: dict[str, str] = {}
        ids = sorted({ref.run_id for ref in refs})
        for start in range(0, len(ids), 100) if found else ():
            batch = ", ".join(quoted(run_id) for run_id in ids[start : start + 100])
            for run in self.client.search_runs(
                [found.experiment_id], f"attributes.run_id IN ({batch})", max_results=100
            ):
                days[run.info.run_id] = run.data.params.get("date_to", "none")
        return days

    def load(self, ref: ModelRef):
        """A version as an MLflow pyfunc, read in place when the store is a local folder
        (no copy), else downloaded to a temporary folder first."""
        import mlflow.pyfunc

        source = ref.source or self.client.get_model_version(ref.name, ref.version).source
        location = self.client.get_logged_model(source.removeprefix("models:/")).artifact_location
        if location.startswith("file://"):
            local = location.removeprefix("file://")
            return mlflow.pyfunc.load_model(local, suppress_warnings=True)
        with tempfile.TemporaryDirectory() as folder:
            return mlflow.pyfunc.load_model(
                str(self.download(ref, Path(folder))), suppress_warnings=True
            )

    def version(self, person: str, version: str) -> ModelRef:
        name = names.model_name(person)
        return self._ref(name, self.client.get_model_version(name, version))

    @staticmethod
    def _ref(name: str, version) -> ModelRef:
        tags = version.tags
        recipe = json.loads(tags["recipe"]) if "recipe" in tags else {}
        days = int(tags.get("evidence_days", 0))
        return ModelRef(name, str(version.version), version.run_id, recipe, days, version.source)

    def download(self, ref: ModelRef, into: Path, path: str = "") -> Path:
        """Fetch a version's model folder (or the file ``path`` in it) into ``into``."""
        from mlflow.artifacts import download_artifacts

        source = self.client.get_model_version(ref.name, ref.version).source  # models:/<id>
        location = self.client.get_logged_model(source.removeprefix("models:/")).artifact_location
        uri = f"{location.rstrip('/')}/{path}" if path else location
        return Path(
            download_artifacts(artifact_uri=uri, dst_path=str(into), tracking_uri=self.tracking_uri)
        )

    def input_columns(self, ref: ModelRef) -> list[str]:
        """The names of a version's inputs, in the order its input matrix takes them."""
        from mlflow.models import Model

        with tempfile.TemporaryDirectory() as folder:
            metadata = Model.load(self.download(ref, Path(folder), "MLmodel")).metadata
        if not metadata or "input_columns" not in metadata:
            raise ValueError(f"{ref.uri} does not name its input columns (metadata input_columns)")
        return list(metadata["input_columns"])

    def trained_to(self, ref: ModelRef) -> str:
        """The last day of the data the version learnt from ("none" for the prior's)."""
        return self.client.get_run(ref.run_id).data.params.get("date_to", "none")

    @_reading("model registry")
    def versions(self, person: str) -> pd.DataFrame:
        """Every registered version of the person's model with its gate decision; promoted
        ones with their reign.

        Columns: version, registered, decision, reason, days (the labelled days it learnt
        from), gain and interval (the gate's comparison with the incumbent: log loss per
        day, and its 90 % interval), champion_from, champion_until, is_champion. Empty
        before the first training.
        """
        import pandas as pd
        from mlflow.exceptions import MlflowException

        name = names.model_name(person)
        try:
            found = self.client.search_model_versions(f"name = {quoted(name)}")
            current = self.client.get_registered_model(name).aliases.get(names.CHAMPION)
        except MlflowException as error:
            if "RESOURCE_DOES_NOT_EXIST" in str(error.error_code):
                return pd.DataFrame()
            raise
        if not found:
            return pd.DataFrame()
        rows = [
            {
                "version": int(v.version),
                "registered": pd.Timestamp(v.creation_timestamp, unit="ms", tz="UTC"),
                "decision": v.tags.get("decision", "?"),
                "reason": v.tags.get("decision_reason", ""),
                "days": int(v.tags.get("evidence_days", 0)),
                "gain": v.tags.get("gate_gain", ""),
                "interval": v.tags.get("gate_interval", ""),
            }
            for v in found
        ]
        frame = pd.DataFrame(rows).sort_values("version").reset_index(drop=True)
        promoted = frame[frame["decision"] == "promoted"]
        frame["champion_from"] = promoted["registered"]
        frame["champion_until"] = promoted["registered"].shift(-1)
        frame["is_champion"] = frame["version"].astype(str) == str(current)
        return frame

    # A person's runs

    def runs(self, person: str, where: str = "", max_results: int = 100) -> list:
        """The person's training runs, newest first (``where``: more of MLflow's filter)."""
        found = self.client.get_experiment_by_name(self.experiment)
        if found is None:
            return []
        condition = f"tags.person = {quoted(person)}" + (f" and {where}" if where else "")
        return self.client.search_runs(
            [found.experiment_id],
            filter_string=condition,
            order_by=["attributes.start_time DESC"],
            max_results=max_results,
        )

    def learnt_prior(self) -> dict | None:
        """The current learnt prior's sums (``airsick_training.learnt_prior.Sums``), or
        None while none was learnt."""
        from mlflow.exceptions import MlflowException

        try:
            version = self.client.get_model_version_by_alias(names.PRIOR_MODEL, names.CURRENT)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return self.load_json(version.run_id, names.PRIOR_SUMS) | {"version": version.version}

    def load_json(self, run_id: str, path: str) -> dict:
        """A run's JSON artifact."""
        from mlflow.artifacts import download_artifacts

        with tempfile.TemporaryDirectory() as folder:
            local = download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=folder, tracking_uri=self.tracking_uri
            )
            return json.loads(Path(local).read_text())

    @_reading("training runs")
    def triggers(self, person: str, runs: int = 100) -> tuple[dict | None, pd.DataFrame]:
        """The person's latest triggers and their history over training runs.

        Returns the newest run's ``triggers.json`` (with its ``run_id``), or None before
        the first training, and one row per run and factor (``trained_to``, ``term``,
        ``odds_ratio``, ``low``, ``high``, ``evidence``) from the runs' metrics, oldest first.
        """
        import pandas as pd

        columns = ["trained_to", "run_id", "term", *TRIGGER_KEYS]
        listed = self.runs(person, max_results=runs)
        with_triggers = [r for r in listed if any(k.startswith("trigger.") for k in r.data.metrics)]
        rows = [
            {
                "trained_to": run.data.params.get("date_to", "none"),
                "run_id": run.info.run_id,
                "term": term,
                **{key: run.data.metrics.get(f"trigger.{term}.{key}") for key in TRIGGER_KEYS},
            }
            for run in with_triggers
            for term in sorted(
                {k.split(".")[1] for k in run.data.metrics if k.startswith("trigger.")}
            )
        ]
        history = pd.DataFrame(rows, columns=columns).iloc[::-1].reset_index(drop=True)
        if not with_triggers:
            return None, history
        newest = with_triggers[0].info.run_id
        return {**self.load_json(newest, TRIGGERS_ARTIFACT), "run_id": newest}, history

    @_reading("training runs")
    def backtest(self, person: str) -> tuple[pd.DataFrame, dict]:
        """The newest backtest's out-of-sample predictions for the person, and about it.

        Columns: local_date, place, fold, y, p, model (the challenger and the base rate);
        empty before the first backtested training. The dict says which run and challenger.
        """
        import pandas as pd

        empty = pd.DataFrame(columns=["local_date", "place", "fold", "y", "p", "model"])
        runs = self.runs(person, where="tags.backtest_logged = 'yes'", max_results=1)
        if not runs:
            return empty, {}
        run = runs[0]
        table = self.load_json(run.info.run_id, BACKTEST_ARTIFACT)
        frame = pd.DataFrame(table["data"], columns=table["columns"])
        frame["local_date"] = pd.to_datetime(frame["local_date"])
        about = {
            "run_id": run.info.run_id,
            "challenger": run.data.params.get("challenger", "?"),
            "fold_kind": run.data.params.get("fold_kind", "?"),
            "trained_to": run.data.params.get("date_to", "?"),
        }
        return frame, about

    # Forgetting

    def forget(self, person: str) -> Forgotten:
        """Delete every run of ``person`` (training, exploration, benchmarks: in every
        experiment), the model versions and logged models they made, and purge them with
        their artifacts and dataset links.

        With a local store the purge is done here (``mlflow gc``); a tracking server's
        operator purges deleted runs on the server (the runs are deleted either way).
        """
        from mlflow.entities import ViewType

        client = self.client
        experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
        runs = []
        for start in range(0, len(experiments), 100):
            runs += client.search_runs(
                experiments[start : start + 100],
                filter_string=f"tags.person = {quoted(person)}",
                run_view_type=ViewType.ALL,
                max_results=50_000,
            )
        run_ids = {r.info.run_id for r in runs}
        folders = [r.info.artifact_uri for r in runs]
        versions = self._delete_versions(run_ids)
        logged = self._delete_logged_models(run_ids, experiments, folders)
        for run_id in run_ids:
            if client.get_run(run_id).info.lifecycle_stage != "deleted":
                client.delete_run(run_id)
        purged = bool(run_ids) and not self.tracking_uri.startswith("http")
        if purged:
            from airsick_stores import mlflow_purge

            mlflow_purge.purge(self.tracking_uri, run_ids, logged, folders)
        return Forgotten(len(run_ids), versions, len(logged), purged)

    def _delete_versions(self, run_ids: set[str]) -> int:
        """Delete the model versions these runs made (and a registered model left empty)."""
        deleted = 0
        for model in self.client.search_registered_models():
            every = self.client.search_model_versions(f"name = {quoted(model.name)}")
            mine = [v for v in every if v.run_id in run_ids]
            for version in mine:
                self.client.delete_model_version(model.name, version.version)
                deleted += 1
            if mine and len(mine) == len(every):
                self.client.delete_registered_model(model.name)
        return deleted

    def _delete_logged_models(
        self, run_ids: set[str], experiments: list[str], folders: list[str]
    ) -> list[str]:
        """Delete the logged models these runs made; add their folders to ``folders``."""
        logged = []
        if not run_ids:
            return logged
        for start in range(0, len(experiments), 100):
            for found in self.client.search_logged_models(
                experiment_ids=experiments[start : start + 100]
            ):
                if found.source_run_id in run_ids:
                    self.client.delete_logged_model(found.model_id)
                    logged.append(found.model_id)
                    folders.append(found.artifact_location)
        return logged
