"""People: who the home (a household, a clinic's study, a city's service) serves, and where.

Each person is one small Parquet file in the raw zone (``raw/people/<name>.parquet``, a row
per place), so adding one person never rewrites another's file, and forgetting a person
(``airsick person remove``, the same as ``forget``) deletes theirs with the rest of their
rows. A place is named once for the whole home: the air of a place several people share
is fetched, stored and built once, however many of them live there.

``AIRSICK_PERSON`` stays the default person of the commands: ``ensure`` adds them with
``AIRSICK_PLACES`` the first time they are used, so a home of one needs no ``person add``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from airsick_core import names
from airsick_core.lake import Lakehouse
from airsick_core.places import Place, PlaceError

from airsick_stores.reading import query

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Two places closer than this (in degrees) are the same point of the air's grid: 0.01° is
# about a kilometre, well inside Open-Meteo's 11 km (Europe) and 45 km (global) cells.
SAME_POINT = 0.01


class PersonError(ValueError):
    """A person or place given by a user is not valid; the message says how to fix it."""


@dataclass(frozen=True)
class Person:
    name: str
    places: tuple[Place, ...]


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise PersonError(
            f"Person name {name!r} is not valid: use lower-case letters, digits, - or _ "
            "(for example ana or clinic-017)."
        )
    return name


@dataclass(frozen=True)
class People:
    lakehouse: Lakehouse

    def everyone(self) -> list[Person]:
        """Every person, by name, with their places."""
        frame = query(
            self.lakehouse,
            "select person, place, latitude, longitude, timezone "
            "from read_parquet(?, union_by_name => true) order by person, position",
            [self.lakehouse.raw_files(names.PEOPLE)],
            attach=False,
        )
        found: dict[str, list[Place]] = {}
        for row in frame.itertuples(index=False):
            place = Place(row.place, float(row.latitude), float(row.longitude), row.timezone)
            found.setdefault(row.person, []).append(place)
        return [Person(name, tuple(places)) for name, places in found.items()]

    def get(self, name: str) -> Person | None:
        return next((p for p in self.everyone() if p.name == name), None)

    def places(self) -> list[Place]:
        """Every place anyone has, once."""
        seen: dict[str, Place] = {}
        for person in self.everyone():
            for place in person.places:
                seen.setdefault(place.name, place)
        return list(seen.values())

    def add(self, name: str, places: list[Place]) -> tuple[Person, list[str]]:
        """Add ``name`` with ``places`` (or give them these places); return the person as
        stored and what was shared with others, one sentence each.

        A place with another person's place name must be at the same point; a place at the
        same point as another person's under another name takes that name, so its air is
        fetched once.
        """
        check_name(name)
        if not places:
            raise PersonError(f"Give {name} at least one place: --place NAME=LAT,LON,TIMEZONE.")
        others = [p for person in self.everyone() if person.name != name for p in person.places]
        stored, shared = [], []
        for place in places:
            same_name = next((o for o in others if o.name == place.name), None)
            same_point = next((o for o in others if _same_point(o, place)), None)
            if same_name is not None and not _same_point(same_name, place):
                raise PersonError(
                    f"A place named {place.name!r} is already at {same_name.latitude},"
                    f"{same_name.longitude} for someone else; give this one another name."
                )
            if same_point is not None:
                shared.append(f"{place.name} shares {same_point.name}'s air (the same point)")
                place = same_point
            stored.append(place)
        if len({p.name for p in stored}) != len(stored):
            raise PersonError(f"{name}'s places must have different names and points.")
        self._write(name, stored)
        return Person(name, tuple(stored)), shared

    def ensure(self, name: str, places: list[Place], replace: bool = False) -> Person:
        """The person as stored; added with ``places`` if they are not yet (given these
        places if ``replace``: the settings named them explicitly)."""
        person = self.get(name)
        if person is None or (replace and list(person.places) != list(places)):
            person, _ = self.add(name, places)
        return person

    def _write(self, name: str, places: list[Place]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(
            {
                "person": [name] * len(places),
                "place": [p.name for p in places],
                "latitude": [p.latitude for p in places],
                "longitude": [p.longitude for p in places],
                "timezone": [p.timezone for p in places],
                "position": list(range(len(places))),
                "added_at": [datetime.now(UTC)] * len(places),
            }
        )
        folder = self.lakehouse.raw(names.PEOPLE)
        if self.lakehouse.on_s3:
            with _s3(self.lakehouse).open(f"{folder}/{name}.parquet", "wb") as handle:
                pq.write_table(table, handle)  # an S3 upload appears whole or not at all
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        writing = Path(folder) / f".{name}.parquet.writing"
        pq.write_table(table, writing)
        writing.replace(Path(folder) / f"{name}.parquet")


def _same_point(a: Place, b: Place) -> bool:
    return abs(a.latitude - b.latitude) < SAME_POINT and abs(a.longitude - b.longitude) < SAME_POINT


def _s3(lakehouse: Lakehouse):
    import fsspec

    return fsspec.filesystem(
        "s3",
        key=lakehouse.s3_key_id,
        secret=lakehouse.s3_secret,
        client_kwargs={
            "endpoint_url": lakehouse.s3_endpoint_url,
            "region_name": lakehouse.s3_region,
        },
    )


__all__ = ["People", "Person", "PersonError", "PlaceError", "check_name"]
