"""People: who the home (a household, a clinic's study, a city's service) serves, and where.

dlt lands them in the raw zone beside the diary (``airsick_ingestion.people``), append-only:
each addition of a person appends their places, and the latest addition of a person is the
one that counts (here for Python, in ``stg_people__places`` for the build). Forgetting a
person (``airsick person remove``, the same as ``forget``) removes their rows with the rest
of their data. A place is named once for the whole home: the air of a place several people
share is fetched, stored and built once, however many of them live there.

``AIRSICK_PERSON`` stays the default person of the commands: ``ensure`` adds them with
``AIRSICK_PLACES`` the first time they are used, so a home of one needs no ``person add``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from airsick_core import names
from airsick_core.lake import Lakehouse, S3Access
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


# The one definition of a person's places that count: those of their latest addition.
LATEST_ADDITION = "qualify added_at = max(added_at) over (partition by person)"


@dataclass(frozen=True)
class People:
    lakehouse: Lakehouse
    pipelines_dir: Path
    s3: S3Access | None = None

    def everyone(self) -> list[Person]:
        """Every person, by name, with their places."""
        frame = query(
            self.lakehouse,
            "select person, place, latitude, longitude, timezone "
            f"from read_parquet(?, union_by_name => true) {LATEST_ADDITION} "
            "order by person, position",
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
        stored and what they share with others, one sentence each."""
        [(person, shared)] = self.add_many([(name, places)])
        return person, shared

    def add_many(
        self, added: Sequence[tuple[str, Sequence[Place]]]
    ) -> list[tuple[Person, list[str]]]:
        """Add several people in one write (a study's enrolment, the demo's population).

        A place with another person's place name must be at the same point; a place at the
        same point as another person's under another name takes that name, so its air is
        fetched once.
        """
        from airsick_ingestion.people.source import append_people

        names_given = [name for name, _ in added]
        if len(set(names_given)) != len(names_given):
            raise PersonError("Each person can be added once at a time.")
        known = {p.name: list(p.places) for p in self.everyone() if p.name not in names_given}
        out = []
        for name, places in added:
            check_name(name)
            if not places:
                raise PersonError(f"Give {name} at least one place: --place NAME=LAT,LON,TIMEZONE.")
            others = [place for places_ in known.values() for place in places_]
            stored, shared = _placed(name, places, others)
            known[name] = stored
            out.append((Person(name, tuple(stored)), shared))
        append_people(
            [(p.name, p.places) for p, _ in out],
            lake_url=self.lakehouse.lake_url,
            pipelines_dir=self.pipelines_dir,
            s3=self.s3,
        )
        return out

    def ensure(self, name: str, places: list[Place], replace: bool = False) -> Person:
        """The person as stored; added with ``places`` if they are not yet (given these
        places if ``replace``: the settings named them explicitly)."""
        person = self.get(name)
        if person is None or (replace and list(person.places) != list(places)):
            person, _ = self.add(name, places)
        return person


def _placed(
    name: str, places: Sequence[Place], others: list[Place]
) -> tuple[list[Place], list[str]]:
    """The places as the home names them (shared points take their existing name)."""
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
            if same_point.name != place.name:
                shared.append(f"{place.name} shares {same_point.name}'s air (the same point)")
            place = same_point
        stored.append(place)
    if len({p.name for p in stored}) != len(stored):
        raise PersonError(f"{name}'s places must have different names and points.")
    return stored, shared


def _same_point(a: Place, b: Place) -> bool:
    return abs(a.latitude - b.latitude) < SAME_POINT and abs(a.longitude - b.longitude) < SAME_POINT


__all__ = ["People", "Person", "PersonError", "PlaceError", "check_name"]
