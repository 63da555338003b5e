"""Which version of the registered model is the champion."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from airsick_core import names
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


@dataclass(frozen=True)
class ModelRef:
    """A registered model version, pinned (so that an alias moving later changes nothing)."""

    name: str
    version: str
    run_id: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def client_for(tracking_uri: str) -> MlflowClient:
    """The registry and tracking client of one store, named explicitly: nothing here reads
    or sets the process-wide tracking URI."""
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def champion(tracking_uri: str, name: str = names.MODEL_NAME) -> ModelRef | None:
    """Return the version that holds ``@champion``, or None while there is none."""
    client = client_for(tracking_uri)
    try:
        version = client.get_model_version_by_alias(name, names.CHAMPION)
    except MlflowException as error:  # no model or alias yet: nothing to serve
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return ModelRef(name, str(version.version), version.run_id)


def download(tracking_uri: str, ref: ModelRef, into: Path, path: str = "") -> Path:
    """Fetch a version's model folder (or the file ``path`` in it) from the store at
    ``tracking_uri`` into ``into``; return where it landed."""
    from mlflow.artifacts import download_artifacts

    client = client_for(tracking_uri)
    source = client.get_model_version(ref.name, ref.version).source  # models:/<model id>
    location = client.get_logged_model(source.removeprefix("models:/")).artifact_location
    uri = f"{location.rstrip('/')}/{path}" if path else location
    return Path(download_artifacts(artifact_uri=uri, dst_path=str(into), tracking_uri=tracking_uri))


def input_columns(tracking_uri: str, ref: ModelRef) -> list[str]:
    """Return the names of a version's inputs, in the order its input matrix takes them."""
    from mlflow.models import Model

    with tempfile.TemporaryDirectory() as folder:
        metadata = Model.load(download(tracking_uri, ref, Path(folder), "MLmodel")).metadata
    if not metadata or "input_columns" not in metadata:
        raise ValueError(f"{ref.uri} does not name its input columns (metadata input_columns)")
    return list(metadata["input_columns"])
