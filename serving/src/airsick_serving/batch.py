"""Batch scoring: tomorrow and the other forecast days, for every place, into the lake.

Through the model server when it runs, otherwise in-process from the registry (the same
pinned champion version). Predictions land in ``LAKE/raw/predictions/`` with the model
version, run id, the feature values used and when; a rerun with the same model and the
same features rewrites the same file, so nothing is doubled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

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
        answers = client.predict(rows, person=person)
        answer = pd.DataFrame(
            {
                "probability": [a.probability for a in answers],
                "reasons": [json.dumps(a.reasons) for a in answers],
                "evidence_days": [a.evidence_days for a in answers],
                "prior_people": [a.prior_people for a in answers],
            }
        )
        ref = registry.version(person, answers[0].model_version)
        predictions = _predictions(rows, client.inputs(), answer, ref, "server", now)
    else:
        ref = registry.champion(person)
        if ref is None:
            raise ScoringError("There is no champion model yet; run `airsick train` first.")
        predictions = predicted(rows, ref, registry.load(ref), now)
    path = stores.predictions.write(predictions, now)
    return Scored(predictions, predictions["scored_via"].iloc[0], ref.version, path)


@dataclass(frozen=True)
class ScoredEveryone:
    predictions: pd.DataFrame
    path: str | None  # None when nobody could be scored
    failed: dict[str, str]  # who could not be scored, and why (one sentence)


def score_everyone(
    stores: Stores, champions: dict[str, tuple], now: datetime | None = None
) -> ScoredEveryone:
    """Score everyone's forecast days in process, each with their champion (``champions``:
    person → (``ModelRef``, the loaded pyfunc), read once by the caller), into one Parquet
    file. Whoever cannot be scored is named with why; the others are scored."""
    now = now or datetime.now(UTC)
    rows = stores.marts.everyones_scoring_rows()
    frames, failed = [], {}
    found = dict(iter(rows.groupby("person", sort=False))) if not rows.empty else {}
    for person, (ref, model) in champions.items():
        if person not in found:
            failed[person] = "there is nothing to score for their places; run `airsick transform`"
            continue
        try:
            frames.append(predicted(found[person], ref, model, now))
        except Exception as error:  # this person's failure, as one sentence; not the others'
            failed[person] = str(error).strip().splitlines()[0] or type(error).__name__
    if not frames:
        return ScoredEveryone(pd.DataFrame(), None, failed)
    predictions = pd.concat(frames, ignore_index=True)
    return ScoredEveryone(predictions, stores.predictions.write(predictions, now), failed)


def predicted(rows: pd.DataFrame, ref, model, now: datetime) -> pd.DataFrame:
    """One person's rows scored in process by their loaded champion ``model``."""
    columns = list(model.metadata.metadata["input_columns"])
    answer = model.predict(rows[columns].to_numpy(dtype="float64", na_value=float("nan")))
    return _predictions(rows, columns, answer, ref, "in-process", now)


def _predictions(
    rows: pd.DataFrame, columns: list[str], answer: pd.DataFrame, ref, via: str, now: datetime
) -> pd.DataFrame:
    """The predictions as the lake keeps them: each with its model, inputs and time."""
    zeros = pd.Series(0, index=answer.index)
    return rows[["person", "place", "local_date", "predicts_date"]].assign(
        probability=answer["probability"].to_numpy(),
        reasons=answer["reasons"].to_numpy(),
        evidence_days=answer.get("evidence_days", zeros).astype(int).to_numpy(),
        prior_people=answer.get("prior_people", zeros).astype(int).to_numpy(),
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
