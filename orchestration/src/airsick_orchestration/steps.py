"""The pipeline's steps as plain functions of the settings: the CLI and the flows call these.

Adapters only: each step turns the settings into the plain arguments (and the stores,
``airsick_stores``) that a component's public function takes, and calls it. The rules about
the person's data are the stores'; the optional parts (stand-in, app) are ``optional``'s.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from airsick_core.places import Place
from airsick_core.settings import Settings
from airsick_ingestion.diary.events import read_csv
from airsick_ingestion.open_meteo.client import OpenMeteoClient, RateBudget, RetryPolicy
from airsick_ingestion.open_meteo.constants import ARCHIVE_PATH, FORECAST_PATH
from airsick_lakehouse import maintain
from airsick_stores import Forgotten as StoresForgotten
from airsick_stores import Person, Stores
from airsick_transform import runner

from airsick_orchestration import locks, optional

if TYPE_CHECKING:  # the heavy components are imported by the steps that use them
    from airsick_ingestion.diary.source import DiaryResult
    from airsick_ingestion.open_meteo.source import FetchPlan, IngestResult
    from airsick_ingestion.open_meteo.weather import WeatherResult
    from airsick_serving import notify
    from airsick_serving.batch import Scored, ScoredEveryone
    from airsick_training.promote import Decision
    from airsick_training.train import TrainReport

log = logging.getLogger(__name__)
# How long a build waits for another one on the same lakehouse (a deployment's evening
# and an operator's `airsick transform`) before it gives up and says who holds it.
BUILD_WAIT_SECONDS = 30 * 60


def stores(settings: Settings) -> Stores:
    """The stores of the home the settings describe (``airsick_stores``): nothing is opened."""
    return Stores.from_settings(settings)


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


def everyones_places(settings: Settings) -> list[Place]:
    """Every place anyone in the home has, once (the default person's among them)."""
    people = stores(settings).people
    _ensure_default(settings, people)
    return people.places()


def _ensure_default(settings: Settings, people) -> None:
    """Add the default person with AIRSICK_PLACES on first use (and give them those places
    again when AIRSICK_PLACES is set and says otherwise)."""
    explicit = "places" in settings.model_fields_set
    people.ensure(settings.person, settings.place_list, replace=explicit)


def everyone(settings: Settings) -> list[Settings]:
    """Each person's settings (their name and places; the rest the home's), the default
    person first; the default person is added with AIRSICK_PLACES on first use."""
    people = stores(settings).people
    _ensure_default(settings, people)
    found = sorted(people.everyone(), key=lambda p: (p.name != settings.person, p.name))
    return [for_person(settings, person) for person in found]


def for_person(settings: Settings, person: Person) -> Settings:
    """The settings of ``person``: the home's, with their name and places."""
    places = ";".join(f"{p.name}={p.latitude},{p.longitude},{p.timezone}" for p in person.places)
    theirs = settings.model_copy(update={"person": person.name, "places": places})
    theirs.__dict__.pop("place_list", None)  # a cached property of the copied settings
    return theirs


@dataclass(frozen=True)
class PersonRow:
    """One line of ``airsick person list``."""

    name: str
    places: list[str]
    days_logged: int
    last_logged: date | None


def people_overview(settings: Settings) -> list[PersonRow]:
    """Everyone with their places and their diary's extent (the default person once used)."""
    home = stores(settings)
    logged = home.diary.logged_by_person()
    return [
        PersonRow(p.name, [pl.name for pl in p.places], *logged.get(p.name, (0, None)))
        for p in home.people.everyone()
    ]


def ingest_air_quality(
    settings: Settings,
    places: list[Place] | None = None,
    backfill: tuple[date, date] | None = None,
    progress: Callable[[Place, int, int], None] | None = None,
) -> IngestResult:
    """Load what is new (or the ``backfill`` window) of the air at everyone's places."""
    from airsick_ingestion.open_meteo.source import load_air_quality

    return load_air_quality(
        places or everyones_places(settings),
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
    """Load what is new (or the ``backfill`` window) of the weather at everyone's places."""
    from airsick_ingestion.open_meteo.weather import load_weather

    archive_url, forecast_url = settings.weather_urls()
    return load_weather(
        places or everyones_places(settings),
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
    """Load the air, then the weather, of everyone's places (each place once); progress
    names which."""

    def on(kind: str):
        return (lambda place, done, total: progress(kind, place, done, total)) if progress else None

    places = places or everyones_places(settings)
    air = ingest_air_quality(settings, places, backfill, on("air quality"))
    weather = ingest_weather(settings, places, backfill, on("weather"))
    return air, weather


def log_diary(settings: Settings, **entry) -> DiaryResult:
    """Check one diary entry and append it to the lake."""
    return stores(settings).diary.log(settings.person, settings.today(), **entry)


def import_diary(settings: Settings, path) -> DiaryResult:
    """Check a whole CSV, then append all of it, or nothing."""
    events = read_csv(path, person=settings.person, today=settings.today())
    return stores(settings).diary.append(events)


def export_diary(settings: Settings, path: Path) -> int:
    """Write the person's diary, as it stands (the latest entry per day), to a CSV."""
    return stores(settings).diary.export(settings.person, path)


@dataclass(frozen=True)
class Forgotten:
    """What ``airsick forget`` removed, place by place."""

    stores: StoresForgotten  # the raw zone, dlt's history, the lakehouse and MLflow
    notifications: int
    prefect: object  # history.ForgottenRuns


def forget(settings: Settings, person: str) -> Forgotten:
    """Remove a person's diary, predictions and training runs from everywhere airsick
    keeps them: every store (``Stores.forget``), dbt's outputs, the messages ledger and
    Prefect (their flow runs, artifacts and logs).

    Prefect is the server this process is pointed at (the CLI points it first)."""
    from airsick_orchestration.history import forget_runs

    removed = stores(settings).forget(person)
    runner.forget_outputs(settings.dbt_dir)  # dbt compiles the person's name into its SQL
    ledger = settings.notifications_dir / person
    messages = len(list(ledger.glob("*.json"))) if ledger.is_dir() else 0
    if ledger.is_dir():
        shutil.rmtree(ledger)
    return Forgotten(removed, messages, forget_runs(settings, person))


def create_persona(settings: Settings, people: int = 1) -> tuple[DiaryResult, int]:
    """Write the demo persona's diary up to today and its true probabilities; with
    ``people`` > 1, the simulated population's first ``people - 1`` people too
    (``airsick_standin.population``), each added with their city."""
    from airsick_ingestion.diary.source import write_persona_truth

    persona = optional.offline("persona")

    home = settings.place_list[0]
    first, today = settings.history_first_day(), settings.today()
    days = persona.simulate(home, first, today, settings.persona_seed)
    events = persona.diary_events(settings.person, days, settings.persona_seed)
    truths = {settings.person: days}
    if people > 1:
        population = optional.offline("population")
        everyone = stores(settings).people
        _ensure_default(settings, everyone)  # first, so a member in Madrid shares "home"
        members = []
        for member, member_days, diary in population.people(
            people - 1, first, today, settings.persona_seed
        ):
            members.append((member.name, [member.place]))
            events += persona.diary_events(member.name, diary, settings.persona_seed)
            truths[member.name] = member_days
        everyone.add_many(members)
    result = stores(settings).diary.append(events)
    truth = write_persona_truth(
        truths, lake_url=settings.lake, pipelines_dir=settings.pipelines_dir, s3=settings.s3
    )
    return result, truth


def transform(
    settings: Settings, select: list[str] | None = None, unit_tests: bool = True
) -> runner.BuildSummary:
    """Build and test the lakehouse with dbt (``runner.build``), then keep it from growing.

    One build at a time wherever the lakehouse is shared: on a deployment's PostgreSQL
    catalog, across machines (``locks.shared``); a second build waits for the first."""
    with locks.shared(settings, "build", wait=BUILD_WAIT_SECONDS):
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


def learn_prior(settings: Settings, progress: Callable[[str], None] | None = None):
    """Learn the prior from everyone's diaries and track it in MLflow (when enough people
    have enough days): the evening's trainings start from it, each leaving themselves out."""
    from airsick_training.learnt_prior import learn_and_track

    home = stores(settings)
    homes = {p.name: p.places[0].name for p in home.people.everyone()}
    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    return learn_and_track(
        settings.lakehouse,
        home.registry,
        homes,
        artifact_location=settings.artifact_location,
        say=progress or (lambda _: None),
    )


def train(
    settings: Settings,
    progress: Callable[[str], None] | None = None,
    snapshot: int | None = None,
) -> TrainReport:
    """Backtest, log, register and gate: see ``airsick_training.promote`` for the rule;
    on the lakehouse as of ``snapshot`` when given (``snapshot``), else its latest.

    One training at a time per person, on every machine that shares the lakehouse
    (``locks.shared``): a second one of theirs says so and stops, while other people's train
    beside it (the evening's trainings on a Dask cluster). The lock is named by a digest of
    the person, not their name (``forget`` leaves its file).
    """
    import hashlib

    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(settings.person.encode()).hexdigest()[:16]
    with locks.shared(settings, "training", key):
        return _train(settings, progress, snapshot)


def _train(
    settings: Settings, progress: Callable[[str], None] | None, snapshot: int | None
) -> TrainReport:
    from airsick_training import train as training
    from threadpoolctl import threadpool_limits

    # OpenMP (gradient boosting) and BLAS threads spin when another process wants the same
    # cores, and then take tens of times longer: training uses its share and no more.
    with threadpool_limits(limits=settings.train_threads):
        report = training.train(
            replace(settings.lakehouse, snapshot=snapshot),
            stores(settings).registry,
            person=settings.person,
            ui_url=settings.mlflow_ui_url,
            artifact_location=settings.artifact_location,
            seed=settings.train_seed,
            margin=settings.promotion_margin,
            progress=progress,
            home=settings.place_list[0].name,
        )
    ensure_router(settings)
    return report


def snapshot(settings: Settings) -> int:
    """The lakehouse's latest snapshot: the build the evening's trainings read."""
    from airsick_lakehouse import current_snapshot

    return current_snapshot(settings.lakehouse)


def ensure_router(settings: Settings) -> str:
    """Register the served model for everyone for this version of airsick, if not yet
    (``airsick_training.router``); return its version."""
    from airsick_training.track import ensure_router as register

    registry = stores(settings).registry
    return register(registry.client, settings.tracking_uri, settings.artifact_location)


def champions(settings: Settings, people: list[str]) -> tuple[dict, dict[str, str]]:
    """Each person's champion, loaded once for the evening: person → (``ModelRef``, pyfunc);
    and whose champion could not be loaded, with why (theirs alone). A champion whose
    promotion was killed after the alias moved is settled first (``settle_promotions``)."""
    from airsick_training.track import settle_promotions

    registry = stores(settings).registry
    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    settle_promotions(registry.client)
    loaded, failed = {}, {}
    for person, ref in registry.champions().items():
        if person not in people:
            continue
        try:
            loaded[person] = (ref, registry.load(ref))
        except Exception as error:
            failed[person] = f"their champion {ref.uri} cannot be loaded ({error})"
    return loaded, failed


def retrain_decisions(settings: Settings, people: list[str], loaded: dict) -> dict[str, Decision]:
    """Each person's retrain rule (``airsick_training.promote.retrain``), read together."""
    from airsick_training.train import retrain_decisions

    return retrain_decisions(
        settings.lakehouse,
        stores(settings).registry,
        people,
        settings.today(),
        {person: ref for person, (ref, _) in loaded.items()},
        {p: list(model.metadata.metadata["input_columns"]) for p, (_, model) in loaded.items()},
    )


def score_everyone(settings: Settings, loaded: dict) -> ScoredEveryone:
    """Score everyone who has a champion, in process, into one predictions file."""
    from airsick_serving import batch

    return batch.score_everyone(stores(settings), loaded)


def predict(settings: Settings, progress: Callable[[str], None] | None = None) -> Scored:
    """Score the forecast days: through the model server if it runs, else in-process.

    With no champion yet there is no dead end: training runs first, and on day zero that
    registers the population prior (an answer stated as not personal yet).
    """
    from airsick_serving import batch

    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    home = stores(settings)
    if home.registry.champion(settings.person) is None:
        if progress:
            progress("no champion yet: training first (the population prior on day zero)")
        train(settings)
    return batch.score(home, person=settings.person, server_url=settings.serve_url)


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


def remind(settings: Settings) -> notify.Delivery:
    """Send the diary reminder if today is not logged yet, once a day."""
    from airsick_serving import notify

    today = settings.today()
    if not settings.notify_target:
        return notify.Delivery("off", "set AIRSICK_NOTIFY_URL to receive the diary reminder")
    if stores(settings).diary.logged_on(settings.person, today):
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
    if not (settings.home / "mlflow").exists() and not settings.mlflow_tracking_uri:
        return None, None  # never trained: nothing to read, and no store to create
    return stores(settings).registry.triggers(settings.person)


def built(settings: Settings) -> bool:
    """Whether the lakehouse has its feature table (the stack has something to show)."""
    return stores(settings).marts.built()
