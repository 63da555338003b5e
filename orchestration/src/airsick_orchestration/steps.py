"""The pipeline's steps as plain functions of the settings: the CLI and the flows call these.

Each step turns settings into the plain arguments a component's public function takes.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from airsick_core import names
from airsick_core.http import answers, port_free, wait_until
from airsick_core.places import Place
from airsick_core.settings import Settings
from airsick_ingestion.diary.events import DiaryEvent, read_csv, write_csv
from airsick_ingestion.open_meteo.client import OpenMeteoClient, RateBudget, RetryPolicy
from airsick_ingestion.open_meteo.constants import ARCHIVE_PATH, FORECAST_PATH
from airsick_lakehouse import connect, count_rows, has_raw, maintain
from airsick_transform import runner

from airsick_orchestration import locks

if TYPE_CHECKING:  # the heavy components are imported by the steps that use them
    from airsick_ingestion.diary.source import DiaryResult
    from airsick_ingestion.open_meteo.source import FetchPlan, IngestResult
    from airsick_ingestion.open_meteo.weather import WeatherResult
    from airsick_serving import notify
    from airsick_serving.batch import Scored
    from airsick_training.train import TrainReport

log = logging.getLogger(__name__)


class PortTakenError(RuntimeError):
    """A port airsick wants is used by another program."""


class NotInstalledError(RuntimeError):
    """An optional part (the offline stand-in and demo persona, the app) is not installed here."""


def offline(module: str):
    """Import ``airsick_standin.<module>``: the demo and the stand-in need it, the images
    (``--no-dev``, no ``offline`` extra) leave it out."""
    import importlib

    try:
        return importlib.import_module(f"airsick_standin.{module}")
    except ModuleNotFoundError as error:
        raise NotInstalledError(
            "The offline stand-in and the demo persona are not installed here; install "
            "airsick-orchestration[offline] (a checkout's `uv sync` does), or use the real API."
        ) from error


def notebooks(module: str):
    """Import ``airsick_notebooks.<module>``: ``airsick app`` and ``explore`` need it; the
    orchestration image (no ``app`` extra) leaves it out."""
    import importlib

    try:
        return importlib.import_module(f"airsick_notebooks.{module}")
    except ModuleNotFoundError as error:
        raise NotInstalledError(
            "The app is not installed here; install airsick-orchestration[app] (a checkout's "
            "`uv sync` does), or run `airsick-app` from the app's own image."
        ) from error


def open_meteo_client(
    settings: Settings, base_url: str | None = None, path: str | None = None
) -> OpenMeteoClient:
    """A client for one Open-Meteo endpoint (air quality unless told), paced and retried."""
    return OpenMeteoClient(
        base_url or settings.open_meteo_url,
        **({"path": path} if path else {}),
        timeout=settings.open_meteo_timeout,
        retry=RetryPolicy(attempts=settings.open_meteo_attempts),
        budget=RateBudget(settings.open_meteo_calls_per_minute),
    )


def fetch_plan(settings: Settings, backfill: tuple[date, date] | None = None) -> FetchPlan:
    from airsick_ingestion.open_meteo.source import FetchPlan

    return FetchPlan(
        today=settings.today(),
        history_start=settings.history_first_day(),
        forecast_days=settings.forecast_days,
        overlap_days=settings.overlap_days,
        chunk_days=settings.chunk_days,
        backfill=backfill,
    )


def ingest_air_quality(
    settings: Settings,
    places: list[Place] | None = None,
    backfill: tuple[date, date] | None = None,
    progress: Callable[[Place, int, int], None] | None = None,
) -> IngestResult:
    """Load what is new (or the ``backfill`` window) of the air at the person's places."""
    from airsick_ingestion.open_meteo.source import load_air_quality

    return load_air_quality(
        places or settings.place_list,
        lake_url=settings.lake,
        pipelines_dir=settings.pipelines_dir,
        client=open_meteo_client(settings),
        plan=fetch_plan(settings, backfill),
        s3=settings.s3,
        progress=progress,
    )


def ingest_weather(
    settings: Settings,
    places: list[Place] | None = None,
    backfill: tuple[date, date] | None = None,
    progress: Callable[[Place, int, int], None] | None = None,
) -> WeatherResult:
    """Load what is new (or the ``backfill`` window) of the weather at the person's places."""
    from airsick_ingestion.open_meteo.weather import load_weather

    archive_url, forecast_url = settings.weather_urls()
    return load_weather(
        places or settings.place_list,
        lake_url=settings.lake,
        pipelines_dir=settings.pipelines_dir,
        archive=open_meteo_client(settings, archive_url, ARCHIVE_PATH),
        forecast=open_meteo_client(settings, forecast_url, FORECAST_PATH),
        plan=fetch_plan(settings, backfill),
        s3=settings.s3,
        progress=progress,
    )


def ingest(
    settings: Settings,
    places: list[Place] | None = None,
    backfill: tuple[date, date] | None = None,
    progress: Callable[[str, Place, int, int], None] | None = None,
) -> tuple[IngestResult, WeatherResult]:
    """Load the air, then the weather, of the person's places; progress names which."""

    def on(kind: str):
        return (lambda place, done, total: progress(kind, place, done, total)) if progress else None

    air = ingest_air_quality(settings, places, backfill, on("air quality"))
    weather = ingest_weather(settings, places, backfill, on("weather"))
    return air, weather


def log_diary(settings: Settings, **entry) -> DiaryResult:
    """Check one diary entry and append it to the lake."""
    from airsick_ingestion.diary.source import log_entry

    return log_entry(
        person=settings.person,
        today=settings.today(),
        lake_url=settings.lake,
        pipelines_dir=settings.pipelines_dir,
        s3=settings.s3,
        **entry,
    )


def import_diary(settings: Settings, path) -> DiaryResult:
    """Check a whole CSV, then append all of it, or nothing."""
    events = read_csv(path, person=settings.person, today=settings.today())
    return write_diary(settings, events)


def write_diary(settings: Settings, events: list[DiaryEvent]) -> DiaryResult:
    from airsick_ingestion.diary.source import append_events

    return append_events(
        events, lake_url=settings.lake, pipelines_dir=settings.pipelines_dir, s3=settings.s3
    )


def export_diary(settings: Settings, path: Path) -> int:
    """Write the person's diary, as it stands (the latest entry per day), to a CSV."""
    import pandas as pd

    rows = []
    if has_raw(settings.lakehouse, names.DIARY):
        with connect(settings.lakehouse, attach=False) as con:
            rows = (
                con.execute(
                    "select * from read_parquet(?, union_by_name = true) where person = ? "
                    "qualify row_number() over (partition by date order by recorded_at desc) = 1 "
                    "order by date",
                    [settings.lakehouse.raw_files(names.DIARY), settings.person],
                )
                .df()
                .to_dict("records")
            )
    for row in rows:
        for key in ("symptoms", "severity", "note"):
            if pd.isna(row[key]):
                row[key] = None
        row["date"] = row["date"].date() if hasattr(row["date"], "date") else row["date"]
        row["recorded_at"] = row["recorded_at"].to_pydatetime()
    return write_csv(rows, path)


@dataclass(frozen=True)
class Forgotten:
    """What ``airsick forget`` removed, place by place."""

    raw: dict[str, int]
    lakehouse: dict[str, int]
    mlflow: object
    notifications: int
    prefect: object  # history.ForgottenRuns
    pipeline_files: int  # dlt's loaded packages and the diary pipeline's earlier states


def forget(settings: Settings, person: str) -> Forgotten:
    """Remove a person's diary, predictions and training runs from everywhere airsick
    keeps them: the raw zone and dlt's own history of it, the lakehouse (older snapshots'
    files included) and dbt's outputs, MLflow (runs, model versions, logged models and
    artifacts), Prefect (their flow runs, artifacts and logs) and the messages ledger.

    Prefect is the server this process is pointed at (the CLI points it first)."""
    from airsick_ingestion.forget import forget_diary_state, forget_pipeline_history, forget_raw
    from airsick_lakehouse.lakehouse import forget_person as forget_in_lakehouse
    from airsick_training.track import forget_person as forget_in_mlflow

    from airsick_orchestration.history import forget_runs

    raw = forget_raw(settings.lake, person, settings.s3)
    forget_diary_state(settings.lake, settings.pipelines_dir, person, settings.s3)
    pipeline_files = forget_pipeline_history(settings.lake, settings.pipelines_dir, settings.s3)
    runner.forget_outputs(settings.dbt_dir)
    try:
        tables = forget_in_lakehouse(settings.lakehouse, person)
    except Exception as error:  # no catalog yet: nothing was ever built
        if "does not exist" not in str(error) and "No such file" not in str(error):
            raise
        tables = {}
    runs = forget_in_mlflow(settings.tracking_uri, person)
    ledger = settings.notifications_dir / person
    messages = len(list(ledger.glob("*.json"))) if ledger.is_dir() else 0
    if ledger.is_dir():
        shutil.rmtree(ledger)
    prefect = forget_runs(settings, person)
    return Forgotten(raw, tables, runs, messages, prefect, pipeline_files)


def create_persona(settings: Settings) -> tuple[DiaryResult, int]:
    """Write the demo persona's diary up to today and its true probabilities."""
    from airsick_ingestion.diary.source import write_persona_truth

    persona = offline("persona")

    home = settings.place_list[0]
    days = persona.simulate(
        home, settings.history_first_day(), settings.today(), settings.persona_seed
    )
    events = persona.diary_events(settings.person, days, settings.persona_seed)
    result = write_diary(settings, events)
    truth = write_persona_truth(
        settings.person,
        days,
        lake_url=settings.lake,
        pipelines_dir=settings.pipelines_dir,
        s3=settings.s3,
    )
    return result, truth


def transform(
    settings: Settings, select: list[str] | None = None, unit_tests: bool = True
) -> runner.BuildSummary:
    """Build and test the lakehouse with dbt (``runner.build``), then keep it from growing."""
    summary = runner.build(
        settings.lakehouse,
        settings.dbt_dir,
        person=settings.person,
        today=settings.today(),
        select=select,
        unit_tests=unit_tests,
    )
    maintain(settings.lakehouse, timedelta(days=settings.snapshot_retention_days))
    return summary


def generate_docs(settings: Settings):
    """Write the dbt docs site (one self-contained page) and return its path."""
    return runner.generate_docs(
        settings.lakehouse, settings.dbt_dir, person=settings.person, today=settings.today()
    )


def git_commit() -> str:
    """Return the commit of the code that trains, or 'unknown' outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def train(settings: Settings, progress: Callable[[str], None] | None = None) -> TrainReport:
    """Backtest, log, register and gate: see ``airsick_training.promote`` for the rule.

    One training at a time per home: a second one says so and stops.
    """
    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    with locks.exclusive(settings.home / "locks", "training"):
        return _train(settings, progress)


def _train(settings: Settings, progress: Callable[[str], None] | None) -> TrainReport:
    from airsick_training import train as training
    from threadpoolctl import threadpool_limits

    # OpenMP (gradient boosting) and BLAS threads spin when another process wants the same
    # cores, and then take tens of times longer: training uses its share and no more.
    with threadpool_limits(limits=settings.train_threads):
        return training.train(
            settings.lakehouse,
            person=settings.person,
            tracking_uri=settings.tracking_uri,
            ui_url=settings.mlflow_ui_url,
            artifact_location=settings.artifact_location,
            experiment=settings.mlflow_experiment,
            seed=settings.train_seed,
            margin=settings.promotion_margin,
            tags={"mlflow.source.git.commit": git_commit(), "git_commit": git_commit()},
            progress=progress,
            home=settings.place_list[0].name,
        )


def predict(settings: Settings, progress: Callable[[str], None] | None = None) -> Scored:
    """Score the forecast days: through the model server if it runs, else in-process.

    With no champion yet there is no dead end: training runs first, and on day zero that
    registers the population prior (an answer stated as not personal yet).
    """
    from airsick_serving import batch, registry

    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    if registry.champion(settings.tracking_uri) is None:
        if progress:
            progress("no champion yet: training first (the population prior on day zero)")
        train(settings)
    return batch.score(
        settings.lakehouse,
        person=settings.person,
        tracking_uri=settings.tracking_uri,
        server_url=settings.serve_url,
    )


def alert(settings: Settings, tomorrow: list[dict]) -> notify.Delivery:
    """Send the evening alert when tomorrow's chance reaches the person's threshold, once."""
    from airsick_serving import notify

    if not settings.notify_target:
        return notify.Delivery("off", "set AIRSICK_NOTIFY_URL to receive the evening alert")
    message = notify.alert_message(tomorrow, settings.notify_threshold)
    if message is None:
        return notify.Delivery(
            "not due", f"tomorrow's chance is under {settings.notify_threshold:.0%} everywhere"
        )
    day = min(date.fromisoformat(str(r["date"])) for r in tomorrow)
    title, body = message
    return notify.send_once(
        settings.notify_target,
        notify.Ledger(settings.notifications_dir),
        person=settings.person,
        kind=notify.ALERT,
        day=day,
        title=title,
        body=body,
        timeout=settings.notify_timeout,
    )


def logged_today(settings: Settings) -> bool:
    """Whether the diary has an entry for today (the person's today)."""
    lakehouse = settings.lakehouse
    if not has_raw(lakehouse, names.DIARY):
        return False
    with connect(lakehouse, attach=False) as con:
        found = con.execute(
            "select count(*) from read_parquet(?, union_by_name = true) "
            "where person = ? and date = ?",
            [lakehouse.raw_files(names.DIARY), settings.person, settings.today()],
        ).fetchone()[0]
    return found > 0


def remind(settings: Settings) -> notify.Delivery:
    """Send the diary reminder if today is not logged yet, once a day."""
    from airsick_serving import notify

    today = settings.today()
    if not settings.notify_target:
        return notify.Delivery("off", "set AIRSICK_NOTIFY_URL to receive the diary reminder")
    if logged_today(settings):
        return notify.Delivery("not due", f"{today} is already in the diary")
    title, body = notify.reminder_message(today)
    return notify.send_once(
        settings.notify_target,
        notify.Ledger(settings.notifications_dir),
        person=settings.person,
        kind=notify.REMINDER,
        day=today,
        title=title,
        body=body,
        timeout=settings.notify_timeout,
    )


def triggers(settings: Settings):
    """The person's latest triggers (None before the first training) and their history."""
    from airsick_training.track import person_triggers

    if not (settings.home / "mlflow").exists() and not settings.mlflow_tracking_uri:
        return None, None
    return person_triggers(settings.tracking_uri, settings.person, settings.mlflow_experiment)


def standin_healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_standin/health", timeout=1).is_success
    except httpx.HTTPError:
        return False


def wait_for_http(url: str, timeout: float = 60) -> bool:
    """Wait until ``url`` answers 2xx; say whether it did within ``timeout`` seconds."""
    return wait_until(lambda: answers(url, timeout=2), timeout, interval=0.5)


def built(settings: Settings) -> bool:
    """Whether the lakehouse has its feature table (the stack has something to show)."""
    try:
        return count_rows(settings.lakehouse, names.FEATURES) > 0
    except Exception:  # no catalog yet, or no such table
        return False


@contextlib.contextmanager
def standin_serving(settings: Settings) -> Iterator[Settings]:
    """Make sure a stand-in answers; yield settings pointing at it, unpaced.

    One already running at the configured port is reused; otherwise one is started for the
    duration (port 0 picks a free port).
    """

    def pointing_at(url: str) -> Settings:
        return settings.model_copy(update={"open_meteo_url": url, "open_meteo_calls_per_minute": 0})

    if settings.standin_port and standin_healthy(settings.standin_url):
        yield pointing_at(settings.standin_url)
        return
    if settings.standin_port and not port_free(settings.standin_host, settings.standin_port):
        raise PortTakenError(
            f"Port {settings.standin_port} is taken by another program; "
            "set AIRSICK_STANDIN_PORT to a free one."
        )
    with offline("server").StandIn(settings.standin_host, settings.standin_port) as server:
        yield pointing_at(server.url)
