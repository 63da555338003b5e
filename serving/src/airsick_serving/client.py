"""A typed client for the model server: build requests from feature rows, read answers."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import pandas as pd
import requests

VERSION_HEADER = "X-Airsick-Model-Version"


class ServingError(RuntimeError):
    """The model server refused or failed a request; the message is the server's."""


@dataclass(frozen=True)
class Prediction:
    probability: float
    reasons: list[dict]
    model_version: str
    # Labelled diary days the model learnt from; 0 means the population prior (not personal).
    evidence_days: int = 0
    # Which prior it started from: 0 the literature's, N one learnt from N other people.
    prior_people: int = 0


class AirsickClient:
    """Score feature rows against ``airsick serve`` (or any `mlflow models serve` of ours).

    Timeouts are (connect, read) seconds. Only what is safe is retried: a refused or dropped
    connection and 502/503 (a switch or a restart in progress); scoring has no side effects,
    so a retry cannot do anything twice. A 4xx is never retried: it will not get better.
    """

    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float] = (2.0, 15.0),
        attempts: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.session = requests.Session()
        self._inputs: list[str] | None = None

    def healthy(self) -> bool:
        try:
            return self.session.get(f"{self.base_url}/ping", timeout=self.timeout).ok
        except requests.RequestException:
            return False

    def model(self) -> dict:
        """Return the served model's name, version and input columns."""
        return self._request("GET", "/airsick/model").json()

    def inputs(self) -> list[str]:
        if self._inputs is None:
            self._inputs = self.model()["inputs"]
        return self._inputs

    def predict(self, rows: pd.DataFrame, person: str | None = None) -> list[Prediction]:
        """Score each row (feature-mart columns; extra columns are left out) with
        ``person``'s champion (the server's default person when None)."""
        columns = self.inputs()
        missing = [c for c in columns if c not in rows]
        if missing:
            raise ServingError(f"The rows lack the model's inputs {missing[:5]}.")
        try:
            numbers = rows[columns].astype("float64")
        except (ValueError, TypeError) as error:
            raise ServingError(
                f"The rows must hold numbers in the model's inputs ({error})."
            ) from error
        data = [
            [None if math.isnan(v) else v for v in row] for row in numbers.itertuples(index=False)
        ]
        body: dict = {"dataframe_split": {"columns": columns, "data": data}}
        if person:
            body["params"] = {"person": person}
        answer = self._request("POST", "/invocations", json=body)
        version = answer.headers.get(VERSION_HEADER, str(answer.json().get("model_version", "")))
        return [
            Prediction(
                float(p["probability"]),
                json.loads(p["reasons"]),
                version,
                int(p.get("evidence_days", 0)),
                int(p.get("prior_people", 0)),
            )
            for p in answer.json()["predictions"]
        ]

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self.session.request(
                    method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                if last:
                    raise ServingError(
                        f"The model server at {self.base_url} did not answer "
                        f"({type(error).__name__}); is `airsick serve` running?"
                    ) from error
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code in (502, 503) and not last:
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code >= 400:
                try:
                    message = response.json().get("message", response.text)
                except ValueError:
                    message = response.text
                raise ServingError(f"The model server answered {response.status_code}: {message}")
            return response
        raise AssertionError("unreachable")
