"""Replay recorded Open-Meteo responses as if the API answered them again."""

from __future__ import annotations

import csv
import gzip
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from airsick_ingestion.open_meteo.client import parse_times
from airsick_ingestion.open_meteo.constants import HOURLY_VARIABLES


@dataclass
class Recording:
    """One place's recorded hourly series, on UTC hours since 1970."""

    latitude: float
    longitude: float
    elevation: float | None
    hours: np.ndarray
    values: dict[str, np.ndarray]


def load_recording(path: Path) -> Recording:
    """Read a recorded response: a plain ``/v1/air-quality`` one, or an object holding it
    under ``air_quality`` and, optionally, the same place's ``/v1/archive`` weather under
    ``weather`` (both are then answered from the one recording)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        body = json.load(handle)
    weather = body.get("weather") if isinstance(body, dict) else None
    if isinstance(body, dict) and "air_quality" in body:
        body = body["air_quality"]
    if not isinstance(body, dict) or "hourly" not in body:
        raise ValueError(f"{path} is not a recorded Open-Meteo air-quality response.")
    recording = _recording(body)
    if isinstance(weather, dict) and "hourly" in weather:
        _merge(recording, _recording(weather))
    return recording


def _recording(body: dict) -> Recording:
    hourly = body["hourly"]
    times = parse_times(hourly["time"], int(body.get("utc_offset_seconds", 0)))
    hours = times.astype("datetime64[h]").astype(np.int64)
    values = {
        name: np.array([np.nan if v is None else v for v in column], dtype=float)
        for name, column in hourly.items()
        if name != "time"
    }
    return Recording(
        latitude=float(body["latitude"]),
        longitude=float(body["longitude"]),
        elevation=body.get("elevation"),
        hours=hours,
        values=values,
    )


def load_csv_recording(
    path: Path, latitude: float, longitude: float, utc_offset_seconds: int = 0
) -> Recording:
    """Read a recorded hourly series saved as CSV (gzipped or not), where it was recorded.

    CSV keeps no place: the caller says where it is and the offset of its local times
    (times written with an offset, like ``2024-01-01 00:00:00+00:00``, carry their own).
    Columns named as Open-Meteo variables are read; others (a label, dlt's ids) are not.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path} holds no rows.")
    time_key = next((k for k in rows[0] if k.lower() == "time"), None)
    if time_key is None:
        raise ValueError(f"{path} has no time column.")
    stamps, offset = [], utc_offset_seconds
    for row in rows:
        text = row[time_key].replace(" ", "T")
        if text.endswith("+00:00"):
            text, offset = text[: -len("+00:00")], 0
        stamps.append(text)
    hours = parse_times(stamps, offset).astype("datetime64[h]").astype(np.int64)
    values = {
        name: np.array(
            [float(r[name]) if r[name] not in ("", "NaN", "null") else np.nan for r in rows]
        )
        for name in rows[0]
        if name in HOURLY_VARIABLES
    }
    return Recording(latitude, longitude, None, hours, values)


class Replay:
    """Answer from recordings: their hours inside the window asked for, null for other variables.

    Several recordings of the same place are merged; where they overlap, the later file wins
    (real overlapping recordings agree, which tests check).
    """

    def __init__(self, paths: list[Path | Recording]) -> None:
        self.recordings: list[Recording] = []
        for path in paths:
            recording = path if isinstance(path, Recording) else load_recording(path)
            same = self._near(recording.latitude, recording.longitude, tolerance=0.01)
            if same is None:
                self.recordings.append(recording)
            else:
                _merge(same, recording)

    def _near(self, latitude: float, longitude: float, tolerance: float) -> Recording | None:
        best, distance = None, tolerance
        for recording in self.recordings:
            d = math.hypot(recording.latitude - latitude, recording.longitude - longitude)
            if d <= distance:
                best, distance = recording, d
        return best

    def cell(self, latitude: float, longitude: float) -> tuple[float, float, float | None]:
        recording = self._find(latitude, longitude)
        return recording.latitude, recording.longitude, recording.elevation

    def _find(self, latitude: float, longitude: float) -> Recording:
        recording = self._near(latitude, longitude, tolerance=0.5)
        if recording is None:
            raise LookupError(
                f"No recorded data near latitude {latitude} and longitude {longitude}."
            )
        return recording

    def hourly(
        self,
        latitude: float,
        longitude: float,
        first_hour: int,
        last_hour: int,
        variables: list[str],
        issued_at: datetime | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return the recorded hours within the window and each variable's values there."""
        recording = self._find(latitude, longitude)
        inside = (recording.hours >= first_hour) & (recording.hours <= last_hour)
        hours = recording.hours[inside]
        nulls = np.full(hours.shape, np.nan)
        return hours, {
            name: recording.values[name][inside] if name in recording.values else nulls
            for name in variables
        }


def _merge(into: Recording, other: Recording) -> None:
    hours = np.union1d(into.hours, other.hours)
    merged = {}
    for name in set(into.values) | set(other.values):
        column = np.full(hours.shape, np.nan)
        for source in (into, other):
            if name in source.values:
                column[np.searchsorted(hours, source.hours)] = source.values[name]
        merged[name] = column
    into.hours, into.values = hours, merged
