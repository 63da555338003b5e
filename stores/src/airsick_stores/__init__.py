"""The stores: every reader and writer of a person's data, made once from the settings.

- ``diary``: append, the latest entry of each day, logged on a day, export;
- ``raw``: the raw zone as dlt landed it (freshness, forgetting a person's rows);
- ``marts``: the lakehouse's tables (features, the days to score, the hindcast, the forecast);
- ``predictions``: what batch scoring wrote;
- ``registry``: MLflow's registry and the person's runs (one client, the champion);
- ``people``: who the home serves, and their places;
- ``passwords``: each person's password for the app (hashes only).

Each rule about the data is written once, in the store that owns the data; the CLI, the
flows, training, serving and the app call it. ``Stores.forget`` removes a person from all of
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airsick_stores.diary import Diary
from airsick_stores.marts import Marts
from airsick_stores.passwords import PasswordError, Passwords
from airsick_stores.people import People, Person, PersonError
from airsick_stores.predictions import Predictions
from airsick_stores.raw import RawZone
from airsick_stores.reading import Unavailable
from airsick_stores.registry import ModelRef, Registry

if TYPE_CHECKING:
    from airsick_core.settings import Settings

__all__ = [
    "Diary",
    "Forgotten",
    "Marts",
    "ModelRef",
    "PasswordError",
    "Passwords",
    "People",
    "Person",
    "PersonError",
    "Predictions",
    "RawZone",
    "Registry",
    "Stores",
    "Unavailable",
]


@dataclass(frozen=True)
class Forgotten:
    """What ``Stores.forget`` removed, store by store."""

    raw: dict[str, int]  # rows per raw table
    lakehouse: dict[str, int]  # rows per lakehouse table
    mlflow: object  # registry.Forgotten
    pipeline_files: int  # dlt's loaded packages and the diary pipeline's earlier states


@dataclass(frozen=True)
class Stores:
    diary: Diary
    raw: RawZone
    marts: Marts
    predictions: Predictions
    registry: Registry
    people: People
    passwords: Passwords

    @classmethod
    def from_settings(cls, settings: Settings) -> Stores:
        """The stores of the home (or deployment) ``settings`` describe; nothing is opened."""
        lakehouse, pipelines, s3 = settings.lakehouse, settings.pipelines_dir, settings.s3
        return cls(
            diary=Diary(lakehouse, pipelines, s3),
            raw=RawZone(lakehouse, pipelines, s3),
            marts=Marts(lakehouse),
            predictions=Predictions(lakehouse),
            registry=Registry(settings.tracking_uri, settings.mlflow_experiment),
            people=People(lakehouse, pipelines, s3),
            passwords=Passwords(settings.home / "app" / "passwords.json"),
        )

    def forget(self, person: str) -> Forgotten:
        """Remove ``person`` from every store: their raw rows (their entry among the
        people too) and dlt's record of them, the lakehouse's tables (older snapshots'
        files included), MLflow, and their password for the app."""
        self.passwords.forget(person)
        self.diary.forget(person)
        raw = self.raw.forget(person)
        tables = self.marts.forget(person)
        runs = self.registry.forget(person)
        return Forgotten(raw.rows, tables, runs, raw.pipeline_files)
