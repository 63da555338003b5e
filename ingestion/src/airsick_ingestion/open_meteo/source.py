"""The dlt source for Open-Meteo air quality and the function that loads it.

Raw stays append-only. Every row carries ``fetched_at`` and ``is_forecast``, so that
staging can keep the latest value per hour and still rebuild what was known on any day.

Incremental state is kept per place as ``observed_through``: the last UTC day that was
wholly in the past when it was fetched. A daily run asks again from a few days before it
(recent hours are revised) up to the end of the forecast. The cursor is not ``max(time)``,
which dlt's ``incremental`` would track, because forecast hours lie in the future.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dlt
import pyarrow.compute as pc
from airsick_core import names
from airsick_core.lake import S3Access
from airsick_core.places import Place

from airsick_ingestion.open_meteo.client import (
    PLACE_HOUR_COLUMNS,
    OpenMeteoClient,
    OpenMeteoError,
    Window,
    iter_place_windows,
    plan_windows,
)
from airsick_ingestion.open_meteo.constants import HOURLY_VARIABLES, MAX_FORECAST_DAYS
from airsick_ingestion.pipelines import in_packages, load_rows, locked_pipeline

log = logging.getLogger(__name__)

PIPELINE_NAME = "airsick_air_quality"
TABLE_NAME = names.AIR_QUALITY

COLUMNS = {
    **PLACE_HOUR_COLUMNS,
    **{
        name: {"data_type": "bigint" if name.endswith("_aqi") else "double"}
        for name in HOURLY_VARIABLES
    },
}

ProgressCallback = Callable[[Place, int, int], None]
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class FetchPlan:
    """What to ask the API for, per run.

    ``history_start`` and ``backfill`` are local days of the person's places; requests are in
    UTC days (the API's default), so a day is added on each side: a place at UTC+3 gets the
    three hours before UTC midnight of its first day, one at UTC-5 the hours after the last.
    """

    today: date
    history_start: date
    forecast_days: int = 4
    overlap_days: int = 3
    chunk_days: int = 92
    backfill: tuple[date, date] | None = None

    def windows(self, observed_through: date | None) -> list[Window]:
        if self.backfill:
            first, last = self.backfill
            return plan_windows(first - ONE_DAY, last + ONE_DAY, self.chunk_days)
        start = (
            observed_through - timedelta(days=self.overlap_days - 1)
            if observed_through
            else self.history_start - ONE_DAY
        )
        end = self.today + timedelta(days=min(self.forecast_days, MAX_FORECAST_DAYS))
        return plan_windows(start, end, self.chunk_days)

    def observed_until(self, windows: Sequence[Window]) -> date:
        return min(windows[-1].end, self.today - timedelta(days=1))


@dlt.source(name="open_meteo", max_table_nesting=0)
def open_meteo_source(
    places: Sequence[Place],
    client: OpenMeteoClient,
    plan: FetchPlan,
    now: Callable[[], datetime],
    progress: ProgressCallback | None = None,
    variables: Sequence[str] = HOURLY_VARIABLES,
):
    """Return the air-quality resource for ``places``."""
    return air_quality(places, client, plan, now, progress, variables)


@dlt.resource(
    name=TABLE_NAME,
    write_disposition="append",
    columns=COLUMNS,
    file_format="parquet",
)
def air_quality(
    places: Sequence[Place],
    client: OpenMeteoClient,
    plan: FetchPlan,
    now: Callable[[], datetime],
    progress: ProgressCallback | None,
    variables: Sequence[str],
):
    """Yield hourly air quality per place, one Arrow table per fetched window."""
    state = dlt.current.resource_state()
    observed_through = state.setdefault("observed_through", {})
    extents = state.setdefault("extent", {})
    for place in places:
        previous = observed_through.get(place.name)
        observed = date.fromisoformat(previous) if previous else None
        windows = plan.windows(observed)
        for index, (_, table) in enumerate(
            iter_place_windows(client, place, windows, variables, now), start=1
        ):
            yield table
            if table.num_rows:
                extents[place.name] = _widen(extents.get(place.name), table)
            if progress:
                progress(place, index, len(windows))
        until = plan.observed_until(windows)
        if observed is None or until > observed:
            observed_through[place.name] = until.isoformat()


def _widen(extent: list[str] | None, table) -> list[str]:
    """Return the first and last hour held for a place, widened by ``table``."""
    times = table.column("time")
    first = pc.min(times).as_py().isoformat()
    last = pc.max(times).as_py().isoformat()
    if extent:
        first, last = min(first, extent[0]), max(last, extent[1])
    return [first, last]


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did."""

    places: int
    requests: int
    rows: int
    new_hours: int
    resumed_packages: int
    seconds: float


def load_air_quality(
    places: Sequence[Place],
    *,
    lake_url: str,
    pipelines_dir: Path,
    client: OpenMeteoClient,
    plan: FetchPlan,
    s3: S3Access | None = None,
    now: Callable[[], datetime] | None = None,
    progress: ProgressCallback | None = None,
) -> IngestResult:
    """Fetch what is new for each place and append it to ``<lake>/raw/air_quality``.

    Places are loaded ten to a package: a failure keeps what earlier packages loaded, and a
    rerun completes an interrupted package before fetching anything new.
    """
    started = datetime.now(UTC)
    now = now or (lambda: datetime.now(UTC))
    # A second ingest waits for the first.
    with locked_pipeline(PIPELINE_NAME, lake_url, pipelines_dir, s3) as (pipeline, resumed):
        rows = new_hours = 0
        requests_before = client.requests_sent
        for package in in_packages(places):
            hours_before = sum(_hours_held(pipeline, place.name) for place in package)
            source = open_meteo_source(package, client, plan, now, progress)
            rows += load_rows(pipeline, source, TABLE_NAME, (OpenMeteoError,))
            new_hours += sum(_hours_held(pipeline, place.name) for place in package) - hours_before
    return IngestResult(
        places=len(places),
        requests=client.requests_sent - requests_before,
        rows=rows,
        new_hours=new_hours,
        resumed_packages=resumed,
        seconds=(datetime.now(UTC) - started).total_seconds(),
    )


def _hours_held(pipeline: dlt.Pipeline, place: str) -> int:
    """Count the hours from the first to the last one the lake holds for ``place``."""
    resource = pipeline.state.get("sources", {}).get("open_meteo", {}).get("resources", {})
    extent = resource.get(TABLE_NAME, {}).get("extent", {}).get(place)
    if not extent:
        return 0
    first, last = (datetime.fromisoformat(value) for value in extent)
    return int((last - first).total_seconds() // 3600) + 1
