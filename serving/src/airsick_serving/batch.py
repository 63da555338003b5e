"""Batch scoring: tomorrow and the other forecast days, for every place, into the lake.

Through the model server when it runs, otherwise in-process from the registry (the same
pinned champion version). Predictions land in ``LAKE/raw/predictions/`` with the model
version, run id, the feature values used and when; a rerun with the same model and the
same features rewrites the same file, so nothing is doubled.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
from airsick_stores import Stores

from airsick_serving.client import AirsickClient
from airsick_serving.errors import ScoringError


@dataclass(frozen=True)
class Scored:
    predictions: pd.DataFrame
    via: str
    model_version: str
    path: str


def read_scoring_rows(stores: Stores, person: str) -> pd.DataFrame:
    rows = stores.marts.scoring_rows(person)
    if rows.empty:
        raise ScoringError(
            "The scoring mart is empty; run `airsick ingest` and `airsick transform`."
        )
    return rows


def score(
    stores: Stores,
    *,
    person: str,
    server_url: str | None = None,
    now: datetime | None = None,
) -> Scored:
    """Score the forecast days and append the predictions to the lake."""
    now = now or datetime.now(UTC)
    rows = read_scoring_rows(stores, person)
    registry = stores.registry
    client = AirsickClient(server_url) if server_url else None
    if client is not None and client.healthy():
        answers = client.predict(rows)
        probabilities = [a.probability for a in answers]
        reasons = [json.dumps(a.reasons) for a in answers]
        evidence = [a.evidence_days for a in answers]
        started = [a.prior_people for a in answers]
        version, via = answers[0].model_version, "server"
        ref = registry.version(person, version)
        columns = client.inputs()
    else:
        ref = registry.champion(person)
        if ref is None:
            raise ScoringError("There is no champion model yet; run `airsick train` first.")
        with tempfile.TemporaryDirectory() as folder:
            # The requirement check compares the model's pip requirements with this
            # environment (1 s); in-process scoring runs the environment that trained it.
            model = mlflow.pyfunc.load_model(
                str(registry.download(ref, Path(folder))), suppress_warnings=True
            )
            columns = list(model.metadata.metadata["input_columns"])
            answer = model.predict(rows[columns].to_numpy(dtype="float64", na_value=float("nan")))
        probabilities, reasons = answer["probability"].tolist(), answer["reasons"].tolist()
        evidence = answer.get("evidence_days", pd.Series(0, index=answer.index)).tolist()
        started = answer.get("prior_people", pd.Series(0, index=answer.index)).tolist()
        version, via = ref.version, "in-process"
    predictions = rows[["person", "place", "local_date", "predicts_date"]].assign(
        probability=probabilities,
        reasons=reasons,
        evidence_days=[int(e) for e in evidence],
        prior_people=[int(s) for s in started],
        model_name=ref.name,
        model_version=ref.version,
        run_id=ref.run_id,
        scored_at=pd.Timestamp(now),
        scored_via=via,
        features=[
            json.dumps({c: (None if pd.isna(v) else float(v)) for c, v in r.items()})
            for r in rows[columns].to_dict("records")
        ],
    )
    path = stores.predictions.write(predictions, now)
    return Scored(predictions, via, version, path)
