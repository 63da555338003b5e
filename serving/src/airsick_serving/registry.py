"""Which version of the registered model is the champion."""

from __future__ import annotations

from dataclasses import dataclass

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


def champion(tracking_uri: str, name: str = names.MODEL_NAME) -> ModelRef | None:
    """Return the version that holds ``@champion``, or None while there is none."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        version = client.get_model_version_by_alias(name, "champion")
    except MlflowException as error:  # no model or alias yet: nothing to serve
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return ModelRef(name, str(version.version), version.run_id)


def input_columns(tracking_uri: str, ref: ModelRef) -> list[str]:
    """Return the names of a version's inputs, in the order its input matrix takes them."""
    import mlflow
    from mlflow.models import get_model_info

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    metadata = get_model_info(ref.uri).metadata or {}
    if "input_columns" not in metadata:
        raise ValueError(f"{ref.uri} does not name its input columns (metadata input_columns)")
    return list(metadata["input_columns"])
