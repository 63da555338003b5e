"""The dlt source for Open-Meteo weather, beside the air in the raw zone.

Two endpoints feed one append-only table, ``<lake>/raw/weather``, under the same client
rules as the air (pacing, retries, recent days fetched again):

- the archive API (ERA5 reanalysis) for history; it runs about five days behind and sends
  null for its newest days, so it is asked only up to ``today - ARCHIVE_LAG_DAYS - 1``;
- the forecast API for the days the archive has not reached yet and the days ahead.

Every row says which endpoint sent it (``source``); staging prefers the archive's value of
an hour where it has one, else the latest fetch (``docs/open-meteo-weather-api.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dlt
import pyarrow as pa
from airsick_core import names
from airsick_core.lake import S3Access
from airsick_core.places import Place

from airsick_ingestion.open_meteo.client import (
    PLACE_HOUR_COLUMNS,
    OpenMeteoClient,
    OpenMeteoError,
    Window,
    fetch_ahead,
    plan_windows,
    to_table,
)
from airsick_ingestion.open_meteo.constants import (
    ARCHIVE_LAG_DAYS,
    WEATHER_MAX_FORECAST_DAYS,
    WEATHER_PAST_DAYS,
    WEATHER_VARIABLES,
)
from airsick_ingestion.open_meteo.source import FetchPlan, ProgressCallback
from airsick_ingestion.pipelines import in_packages, load_rows, locked_pipeline

PIPELINE_NAME = "airsick_weather"
TABLE_NAME = names.WEATHER
ONE_DAY = timedelta(days=1)

COLUMNS = {
    **PLACE_HOUR_COLUMNS,
    "source": {"data_type": "text", "nullable": False},
    **{name: {"data_type": "double"} for name in WEATHER_VARIABLES},
}


@dataclass(frozen=True)
class WeatherPlan:
    """Which windows go to which endpoint, on the air's plan (same days, same overlap)."""

    plan: FetchPlan

    @property
    def archive_end(self) -> date:
        """The newest UTC day the archive is asked for (older days are final there)."""
        return self.plan.today - timedelta(days=ARCHIVE_LAG_DAYS + 1)

    def archive_windows(self, archived_through: date | None) -> list[Window]:
        plan = self.plan
        if plan.backfill:
            first, last = (
                plan.backfill[0] - ONE_DAY,
                min(plan.backfill[1] + ONE_DAY, self.archive_end),
            )
        elif archived_through:
            first = archived_through - timedelta(days=plan.overlap_days - 1)
            last = self.archive_end
        else:
            first, last = plan.history_start - ONE_DAY, self.archive_end
        return plan_windows(first, last, plan.chunk_days) if first <= last else []

    def forecast_window(self) -> Window | None:
        """The days after the archive's reach, to the end of the forecast (one request)."""
        plan = self.plan
        first = max(
            self.archive_end + ONE_DAY - timedelta(days=plan.overlap_days - 1),
            plan.today - timedelta(days=WEATHER_PAST_DAYS),
        )
        if plan.backfill:
            first = max(first, plan.backfill[0] - ONE_DAY)
            last = min(plan.backfill[1] + ONE_DAY, plan.today + ONE_DAY)
            return Window(first, last) if first <= last else None
        first = max(first, plan.history_start - ONE_DAY)
        last = plan.today + timedelta(days=min(plan.forecast_days, WEATHER_MAX_FORECAST_DAYS))
        return Window(first, last)


def _rows(body: dict, place: Place, fetched_at: datetime, source: str) -> pa.Table:
    table = to_table(body, place, WEATHER_VARIABLES, fetched_at)
    return table.append_column(
        pa.field("source", pa.string(), nullable=False), pa.array([source] * table.num_rows)
    )


@dlt.source(name="open_meteo_weather", max_table_nesting=0)
def weather_source(
    places: Sequence[Place],
    archive: OpenMeteoClient,
    forecast: OpenMeteoClient,
    plan: WeatherPlan,
    now: Callable[[], datetime],
    progress: ProgressCallback | None = None,
):
    """Return the weather resource for ``places``."""
    return weather(places, archive, forecast, plan, now, progress)


@dlt.resource(name=TABLE_NAME, write_disposition="append", columns=COLUMNS, file_format="parquet")
def weather(
    places: Sequence[Place],
    archive: OpenMeteoClient,
    forecast: OpenMeteoClient,
    plan: WeatherPlan,
    now: Callable[[], datetime],
    progress: ProgressCallback | None,
):
    """Yield hourly weather per place: archive windows first, then the forecast window."""
    state = dlt.current.resource_state()
    archived = state.setdefault("archived_through", {})
    for place in places:
        previous = archived.get(place.name)
        windows = plan.archive_windows(date.fromisoformat(previous) if previous else None)
        recent = plan.forecast_window()
        total = len(windows) + (recent is not None)
        answers = fetch_ahead(archive, place, windows, WEATHER_VARIABLES, now)
        for index, (_, fetched_at, body) in enumerate(answers, start=1):
            yield _rows(body, place, fetched_at, "archive")
            if progress:
                progress(place, index, total)
        if recent is not None:
            fetched_at = now()
            yield _rows(
                forecast.fetch(place, recent, WEATHER_VARIABLES), place, fetched_at, "forecast"
            )
            if progress:
                progress(place, total, total)
        if windows and (previous is None or windows[-1].end.isoformat() > previous):
            archived[place.name] = windows[-1].end.isoformat()


@dataclass(frozen=True)
class WeatherResult:
    """What one weather ingest did."""

    places: int
    requests: int
    rows: int
    resumed_packages: int
    seconds: float


def load_weather(
    places: Sequence[Place],
    *,
    lake_url: str,
    pipelines_dir: Path,
    archive: OpenMeteoClient,
    forecast: OpenMeteoClient,
    plan: FetchPlan,
    s3: S3Access | None = None,
    now: Callable[[], datetime] | None = None,
    progress: ProgressCallback | None = None,
) -> WeatherResult:
    """Fetch what is new of each place's weather and append it to ``<lake>/raw/weather``.

    Ten places to a load package, like the air: a failure keeps what earlier packages
    loaded, and a rerun completes an interrupted package before fetching anything new.
    """
    started = datetime.now(UTC)
    now = now or (lambda: datetime.now(UTC))
    # A second ingest waits for the first.
    with locked_pipeline(PIPELINE_NAME, lake_url, pipelines_dir, s3) as (pipeline, resumed):
        rows = 0
        before = archive.requests_sent + forecast.requests_sent
        for package in in_packages(places):
            source = weather_source(package, archive, forecast, WeatherPlan(plan), now, progress)
            rows += load_rows(pipeline, source, TABLE_NAME, (OpenMeteoError,))
    return WeatherResult(
        places=len(places),
        requests=archive.requests_sent + forecast.requests_sent - before,
        rows=rows,
        resumed_packages=resumed,
        seconds=(datetime.now(UTC) - started).total_seconds(),
    )
