"""One served model for everyone: a routing pyfunc that answers each request with the
champion of the person it names, loaded on first use.

``mlflow models serve -m models:/airsick.everyone@current`` serves it; a request names its
person in MLflow's request parameters (``{"dataframe_split": ..., "params": {"person":
"bob"}}``) and every answer says which of that person's versions gave it.

Why a router, and not one model holding every person's posterior or a server per person:

- each person's champion stays exactly what their own gate promoted (any kind of model,
  with its version, lineage and history in their registered model); the router holds no
  weights, only where to find them;
- memory follows the people being answered, not the people in the home: champions are
  kept in a least-recently-used cache of ``AIRSICK_SERVE_MODELS`` models (256 unless
  set), so a thousand people cost what their most recent few hundred models take;
- a promotion moves one person's alias and nothing else: the router looks again at a
  person's ``@champion`` at most every ``AIRSICK_SERVE_POLL_SECONDS`` (5) and loads the
  new version on that person's next request, while every other person is answered from
  the cache; nothing restarts, no request fails.

It runs inside `mlflow models serve` with only MLflow, this package and ``airsick_core``
(logged with it): the registry is the one named by ``MLFLOW_TRACKING_URI``, as MLflow's
own ``models:/`` URIs are, so it builds its own client (the stores are not there).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import mlflow.pyfunc
import pandas as pd
from airsick_core.names import CHAMPION, model_name
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST

CACHE_MODELS = 256
CHECK_SECONDS = 5.0


@dataclass
class _Loaded:
    version: str
    model: object
    checked: float


class Everyone(mlflow.pyfunc.PythonModel):
    """Answer for the person a request names with their ``@champion``."""

    _skip_type_hint_validation = True  # the signature is explicit, as the champions'

    def load_context(self, context) -> None:
        # airsick's settings serve_models and serve_poll_seconds, passed on by the front.
        self.size = int(os.environ.get("AIRSICK_SERVE_MODELS", CACHE_MODELS))
        self.check_seconds = float(os.environ.get("AIRSICK_SERVE_POLL_SECONDS", CHECK_SECONDS))
        # The serving process's store (MLFLOW_TRACKING_URI), where `models:/` URIs resolve.
        self.client = mlflow.MlflowClient(tracking_uri=mlflow.get_tracking_uri())
        self.loaded: OrderedDict[str, _Loaded] = OrderedDict()
        self.lock = threading.Lock()

    def predict(self, context, model_input, params: dict | None = None) -> pd.DataFrame:
        person = (params or {}).get("person") or ""
        if not person:
            raise MlflowException(
                'Name the person: send "params": {"person": "<name>"} with the rows.',
                INVALID_PARAMETER_VALUE,
            )
        version, model = self.champion(person)
        answer = model.predict(model_input)
        return answer.assign(model_version=version)

    def champion(self, person: str) -> tuple[str, object]:
        """The person's champion: from the cache while it is fresh, else looked up (and
        loaded only when their alias has moved)."""
        now = time.monotonic()
        with self.lock:
            cached = self.loaded.get(person)
            if cached is not None:
                self.loaded.move_to_end(person)
                if now - cached.checked < self.check_seconds:
                    return cached.version, cached.model
        name = model_name(person)
        try:
            version = str(self.client.get_model_version_by_alias(name, CHAMPION).version)
        except MlflowException as error:
            if cached is not None:  # the registry hiccupped: the last known champion answers
                return cached.version, cached.model
            raise MlflowException(
                f"{person} has no champion yet; run `airsick train` for them first.",
                RESOURCE_DOES_NOT_EXIST,
            ) from error
        if cached is not None and cached.version == version:
            cached.checked = now
            return version, cached.model
        # Loaded outside the lock: one person's new champion never holds up the others.
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}", suppress_warnings=True)
        with self.lock:
            self.loaded[person] = _Loaded(version, model, now)
            self.loaded.move_to_end(person)
            while len(self.loaded) > self.size:
                self.loaded.popitem(last=False)
        return version, model
