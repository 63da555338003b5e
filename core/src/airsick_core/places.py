"""A person's named places: where the air is read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class PlaceError(ValueError):
    """A place given by a user is not valid; the message says how to fix it."""


@dataclass(frozen=True)
class Place:
    """A named place with its coordinates and IANA timezone (local days are counted there)."""

    name: str
    latitude: float
    longitude: float
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise PlaceError(
                f"Place name {self.name!r} is not valid: use lower-case letters, digits, - or _."
            )
        if not -90 <= self.latitude <= 90:
            raise PlaceError(f"Latitude {self.latitude} of {self.name!r} must be within -90..90.")
        if not -180 <= self.longitude <= 180:
            raise PlaceError(
                f"Longitude {self.longitude} of {self.name!r} must be within -180..180."
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise PlaceError(
                f"Timezone {self.timezone!r} of {self.name!r} is not an IANA name such as "
                "'Europe/Madrid'."
            ) from error


def parse_place(text: str, timezone: str = "UTC") -> Place:
    """Parse ``NAME=LAT,LON`` or ``NAME=LAT,LON,TIMEZONE`` as typed on a command line."""
    name, sep, rest = text.partition("=")
    parts = [part.strip() for part in rest.split(",")]
    if not sep or len(parts) not in (2, 3):
        raise PlaceError(
            f"Place {text!r} is not of the form NAME=LAT,LON (for example home=40.42,-3.70)."
        )
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
    except ValueError as error:
        raise PlaceError(f"Place {text!r} has coordinates that are not numbers.") from error
    return Place(name.strip(), latitude, longitude, parts[2] if len(parts) == 3 else timezone)


def parse_places(text: str) -> list[Place]:
    """Parse several places separated by ``;``, each ``NAME=LAT,LON,TIMEZONE``."""
    places = [parse_place(item) for item in text.split(";") if item.strip()]
    names = [place.name for place in places]
    if len(set(names)) != len(names):
        raise PlaceError(f"Place names must be unique; got {names}.")
    return places
