"""The dlt resource for the people a home serves, and the function that appends them.

Like the diary, append-only: adding a person (or giving them new places) appends their
places with the time they were added, and the latest addition of a person is the one that
counts (``airsick_stores.people`` reads it so, ``stg_people__places`` builds it so).
Removing a person is forgetting them: their rows go with the rest of their data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import dlt
from airsick_core import names
from airsick_core.lake import S3Access
from airsick_core.places import Place

from airsick_ingestion.pipelines import locked_pipeline

PIPELINE_NAME = "airsick_people"
TABLE_NAME = names.PEOPLE

COLUMNS = {
    "person": {"data_type": "text", "nullable": False},
    "place": {"data_type": "text", "nullable": False},
    "latitude": {"data_type": "double", "nullable": False},
    "longitude": {"data_type": "double", "nullable": False},
    "timezone": {"data_type": "text", "nullable": False},
    "position": {"data_type": "bigint", "nullable": False},
    "added_at": {"data_type": "timestamp", "nullable": False},
}


@dlt.resource(name=TABLE_NAME, write_disposition="append", columns=COLUMNS, file_format="parquet")
def people(added: Sequence[tuple[str, Sequence[Place]]], at: datetime):
    yield [
        {
            "person": person,
            "place": place.name,
            "latitude": place.latitude,
            "longitude": place.longitude,
            "timezone": place.timezone,
            "position": position,
            "added_at": at,
        }
        for person, places in added
        for position, place in enumerate(places)
    ]


def append_people(
    added: Sequence[tuple[str, Sequence[Place]]],
    *,
    lake_url: str,
    pipelines_dir: Path,
    s3: S3Access | None = None,
) -> int:
    """Append each person's places (one load for all of them); return the rows written.

    Writers take turns on the pipeline's lock, as the diary's do."""
    with locked_pipeline(PIPELINE_NAME, lake_url, pipelines_dir, s3) as (pipeline, _):
        pipeline.run(people(added, datetime.now(UTC)))
    return sum(len(places) for _, places in added)
