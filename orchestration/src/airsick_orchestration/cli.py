"""The ``airsick`` command: every step of the product, one subcommand each.

Each command turns its options into calls of ``steps`` and hands the result to ``present``,
which prints it. Errors a user can cause end in one sentence that says what to do, never a
traceback.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import sys
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from airsick_core.http import PortTakenError, answers, port_free, wait_until
from airsick_core.places import Place, PlaceError, parse_place
from airsick_core.settings import Settings, UnknownSettingError
from airsick_ingestion.diary.events import DiaryError
from airsick_ingestion.open_meteo.client import OpenMeteoError
from airsick_serving.errors import ScoringError
from airsick_stores import PasswordError, PersonError, Unavailable
from airsick_training.errors import DatasetError
from airsick_transform.runner import TransformError
from pydantic import ValidationError

from airsick_orchestration import locks, optional, present, steps
from airsick_orchestration.cluster import ClusterError
from airsick_orchestration.prefect_server import PrefectServerError
from airsick_orchestration.present import console, fail

app = typer.Typer(
    name="airsick",
    help="How likely am I to be sick tomorrow from the air I breathe? "
    "Ingest air quality and the diary, build features, train, serve and predict.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
diary_app = typer.Typer(
    help="Write the sickness diary: log a day, import a CSV, make the demo persona's."
)
app.add_typer(diary_app, name="diary")
person_app = typer.Typer(
    help="The people this home serves: add one with their places, list them, remove one. "
    "AIRSICK_PERSON is the default person of the other commands."
)
app.add_typer(person_app, name="person")

USER_ERRORS = (
    DiaryError,
    PlaceError,
    PersonError,
    OpenMeteoError,
    PortTakenError,
    optional.NotInstalledError,
    Unavailable,
    locks.RunInProgressError,
    ClusterError,
    PrefectServerError,
)


def _settings() -> Settings:
    try:
        return Settings()
    except UnknownSettingError as error:
        fail(f"{error} Fix it in .env or the environment.")
        raise  # unreachable: fail exits
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(
            f"Setting {where.upper()} is not valid ({first['msg']}); "
            "fix it in .env or the environment."
        )
        raise  # unreachable: fail exits


@app.callback()
def main_callback(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what each step does.")
    ] = False,
) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        # Libraries' loggers (Prefect's at INFO) reach these handlers whatever their own level.
        handler.setLevel(level)
    # Standard output is airsick's (`airsick run` prints JSON): MLflow's own "View run" line,
    # printed when it tracks to a server, stays out of it; the summaries link the run.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    if not verbose:
        # MLflow narrates every step at INFO and WARNING; the summary says what matters.
        # It sets its loggers up when first imported, which the commands do later: say so
        # in its own variable too.
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module="mlflow")
        # Raised where a model's class is rebuilt on load; our signature is explicit.
        warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")


@app.command()
def ingest(
    place: Annotated[
        list[str] | None,
        typer.Option(
            "--place",
            help="A one-off place NAME=LAT,LON (repeatable); default: everyone's places "
            "(`airsick person list`; the default person's from AIRSICK_PLACES).",
        ),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="IANA timezone of the --place places (for local days later).")
    ] = "UTC",
    start: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Backfill from this day (YYYY-MM-DD), a whole day in each place's timezone.",
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="Backfill up to this local day, inclusive and whole."
        ),
    ] = None,
    standin: Annotated[
        bool,
        typer.Option(
            "--standin", help="Fetch from the local Open-Meteo stand-in (offline) instead."
        ),
    ] = False,
) -> None:
    """Load hourly air quality and weather for everyone's places into the lake (a place
    several people share is fetched once).

    Air quality lands in raw/air_quality; weather (temperature, humidity, rain, wind: the
    archive for history, the forecast API for recent days and the days ahead) in raw/weather.

    Without --start/--end it is incremental: only what is new since the last run, plus a
    few recent days that the API revises, and the forecast days. With them it backfills
    that window, fetched in chunks sized to the API's limits. Prints progress over places
    and chunks, then one summary line.
    """
    settings = _settings()
    try:
        places = [parse_place(p, timezone) for p in place] if place else None
        backfill = None
        if start or end:
            if not (start and end):
                fail("Give both --start and --end for a backfill, or neither.")
            backfill = (start.date(), end.date())
            if backfill[1] < backfill[0]:
                fail(f"--end {backfill[1]} is before --start {backfill[0]}; swap them.")
        _run_ingest(settings, places, backfill, standin)
    except USER_ERRORS as error:
        fail(str(error))


def _run_ingest(
    settings: Settings,
    places: list[Place] | None,
    backfill: tuple[date, date] | None,
    standin: bool,
) -> None:
    if standin:
        with optional.standin_serving(settings) as pointed:
            _run_ingest(pointed, places, backfill, standin=False)
        return
    with present.progress() as progress:
        tasks: dict[str, int] = {}

        def on_window(kind: str, place: Place, done: int, total: int) -> None:
            key = f"{kind} · {place.name}"
            if key not in tasks:
                tasks[key] = progress.add_task(key, total=total)
            progress.update(tasks[key], completed=done, total=total)

        result, weather = steps.ingest(settings, places, backfill, on_window)
    present.ingested(result, weather, settings.lake)


@app.command()
def transform(
    select: Annotated[
        list[str] | None,
        typer.Option(
            help="Build only these dbt nodes (dbt selection syntax), e.g. +fct_daily_features."
        ),
    ] = None,
) -> None:
    """Build the lakehouse with dbt: staging, daily and feature tables, with every test.

    Runs `dbt build` on the raw Parquet into the DuckLake catalog (models, data tests and
    unit tests), then expires old snapshots. A failing test fails the command with its name.
    """
    settings = _settings()
    try:
        with console.status("dbt build: models, data tests and unit tests…"):
            summary = steps.transform(settings, select)
    except TransformError as error:
        fail(str(error))
    present.built(summary)


@app.command()
def train() -> None:
    """Train and gate: walk-forward backtests of baselines and candidates, tracked in MLflow.

    Prints one table (baselines, candidates and, for the demo persona, the oracle: the best
    score any model could reach), the promotion decision in one sentence, and the run's URL.
    """
    settings = _settings()
    try:
        with console.status("training…") as status:
            report = steps.train(settings, progress=lambda m: status.update(f"training: {m}…"))
    except DatasetError as error:
        fail(str(error))
    present.trained(report)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address (default AIRSICK_SERVE_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default AIRSICK_SERVE_PORT).")
    ] = None,
) -> None:
    """Serve everyone's champions over HTTP from one model server, until Ctrl-C.

    Runs `mlflow models serve` on models:/airsick.everyone@current (a router: each request
    names its person in "params": {"person": ...}, else AIRSICK_PERSON, and is answered by
    models:/airsick-PERSON@champion, loaded on first use) behind a small front with MLflow's
    routes (/ping, /health, /version, /invocations). A promotion is followed person by
    person, with no restart: no request fails. Answers carry the person's version.
    """
    from airsick_serving.front import serve as run_front

    settings = _settings()
    host, port = host or settings.serve_host, settings.serve_port if port is None else port
    if not port_free(host, port):
        fail(f"Port {port} is taken by another program; pass --port or set AIRSICK_SERVE_PORT.")
    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    steps.ensure_router(settings)
    console.print(
        f"model server on http://{host}:{port} for everyone (default person "
        f"{settings.person}; follows each @champion; Ctrl-C stops it)"
    )
    run_front(
        settings.tracking_uri,
        settings.person,
        host,
        port,
        settings.logs_dir,
        settings.serve_poll_seconds,
        settings.serve_max_rows,
        settings.serve_models,
        settings.serve_workers,
    )


@app.command()
def predict() -> None:
    """Score tomorrow and the other forecast days for every place, and keep the predictions.

    Uses the model server when it runs (`airsick serve`), otherwise the champion in-process.
    Prints one sentence per place; predictions land in the lake (raw/predictions).
    """
    settings = _settings()
    try:
        with console.status("scoring…") as status:
            scored = steps.predict(settings, progress=lambda m: status.update(f"{m}…"))
    except (ScoringError, DatasetError) as error:
        fail(str(error))
    present.predictions(scored)


@app.command("settings")
def show_settings() -> None:
    """Every setting this command would use, by concern: its variable, its value and
    whether it was set (the environment or .env) or is the default. Secrets are hidden.

    Change one in `.env` (see example.env) or the environment; a misspelt AIRSICK_ name is
    an error that names the closest setting.
    """
    present.settings_table(_settings())


@app.command()
def triggers(
    history: Annotated[
        bool, typer.Option("--history", help="Also show how each estimate moved, run by run.")
    ] = False,
) -> None:
    """What affects me: each factor's effect on my risk, how sure it is, from my diary.

    For each factor (air, pollen, weather, being sick lately): the odds of being sick the
    next day after a typical change of it at your places, with its 95 % interval, and how
    much of the uncertainty your diary has removed. "Not enough evidence yet" is said
    where that is the truth. Written by every training run, and kept in MLflow.
    """
    settings = _settings()
    latest, past = steps.triggers(settings)
    if latest is None:
        fail("No training has run yet; run `airsick train` (or `airsick demo --once`) first.")
    present.triggers(settings.person, latest, past, history, settings.mlflow_ui_url)


@person_app.command("add")
def person_add(
    name: Annotated[str, typer.Argument(help="Their name: lower-case letters, digits, - or _.")],
    place: Annotated[
        list[str],
        typer.Option(
            "--place",
            help="A place NAME=LAT,LON[,TIMEZONE] (repeatable; the first is their home, "
            "whose evening decides 'tomorrow').",
        ),
    ],
    timezone: Annotated[
        str, typer.Option(help="IANA timezone of the places that do not name one.")
    ] = "UTC",
) -> None:
    """Add a person with their places (or give someone new places).

    A place at the same point as someone else's shares its air: it is fetched, stored and
    built once. Their diary starts empty: the next evening gives them the population
    prior's answer, and each day they log makes it theirs.
    """
    settings = _settings()
    try:
        places = [parse_place(p, timezone) for p in place]
        person, shared = steps.stores(settings).people.add(name, places)
    except USER_ERRORS as error:
        fail(str(error))
    present.person_added(person, shared)


@person_app.command("list")
def person_list() -> None:
    """Everyone this home serves, with their places and how many days each has logged."""
    settings = _settings()
    try:
        rows = steps.people_overview(settings)
    except USER_ERRORS as error:
        fail(str(error))
    present.people(rows, settings.person)


@person_app.command("password")
def person_password(
    name: Annotated[str, typer.Argument(help="Whose password for the app.")],
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read it from standard input (for scripts).")
    ] = False,
) -> None:
    """Set a person's password for the app (`airsick app`): with it, they see their own
    diary, predictions and triggers, and nobody else's; without it, nobody sees theirs.

    Asked for twice, hidden (or read from standard input with --stdin). Only a salted
    scrypt hash is kept, in HOME/app/passwords.json (readable by this user only).
    """
    settings = _settings()
    home = steps.stores(settings)
    if name not in {p.name for p in home.people.everyone()}:
        fail(f"{name} is not one of this home's people; add them with `airsick person add`.")
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        home.passwords.set(name, password)
    except PasswordError as error:
        fail(str(error))
    console.print(f"{name}'s password for the app is set.")


@person_app.command("remove")
def person_remove(
    name: Annotated[str, typer.Argument(help="Whose data to remove.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the removal cannot be undone.")
    ] = False,
) -> None:
    """Remove a person and all their data, for good: the same as `airsick forget`.

    The air of their places stays for the others who share them.
    """
    forget(person=name, yes=yes)


@app.command()
def forget(
    person: Annotated[str, typer.Option(help="Whose data to remove, as in AIRSICK_PERSON.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the removal cannot be undone.")
    ] = False,
) -> None:
    """Remove a person's diary, predictions and training runs from everywhere airsick keeps
    them, for good: the raw zone, the lakehouse (with older snapshots' files), MLflow (runs,
    model versions, artifacts) and the messages sent. Says what it removed.

    Export the diary first (`airsick diary export`) if you want to keep a copy.
    """
    settings = _settings()
    if not yes:
        fail(f"This removes all of {person}'s data for good; run again with --yes to do it.")
    temporary = _use_prefect(settings)
    with console.status(f"forgetting {person}…"):
        if temporary is not None:
            temporary.wait()
        done = steps.forget(settings, person)
    present.forgotten(person, done)


@app.command()
def remind() -> None:
    """Send the diary reminder now if today is not logged yet (at most once a day).

    `airsick up` runs it every evening at AIRSICK_REMIND_AT through AIRSICK_NOTIFY_URL;
    this command is the same check, on demand.
    """
    settings = _settings()
    from airsick_serving import notify

    delivery = notify.guarded("diary reminder", lambda: steps.remind(settings))
    console.print(f"Diary reminder {delivery.status}: {delivery.detail}.")
    if delivery.status == "failed":
        raise typer.Exit(1)


FLOWS = ("daily", "ingest", "transform", "train", "score", "reminder")
FLOW_ERRORS = (*USER_ERRORS, TransformError, DatasetError, ScoringError)


def _use_prefect(settings: Settings):
    """Point Prefect at its home and server; keep its console quiet unless --verbose.

    The server is AIRSICK_PREFECT_API_URL's, else the one `airsick up` runs for this home,
    else a temporary one for this command, started at once so that it boots while the
    command gets ready (``prefect_server.TemporaryPrefectServer``; returned, to wait for and
    stop).

    Runs still send every log line to Prefect (the UI shows them); only the terminal is
    spared the duplicate.
    """
    from airsick_orchestration.prefect_server import TemporaryPrefectServer, running_prefect_api

    environment = settings.prefect_environment()
    # On a fresh home the server cannot create its database in a missing folder.
    Path(environment["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    temporary = None
    if "PREFECT_API_URL" not in environment:
        running = running_prefect_api(settings)
        if running is None:
            temporary = TemporaryPrefectServer(settings)
            # Stopped at exit, after Prefect (imported later, so its exit handlers run
            # first) has sent the run's last logs and states to it.
            atexit.register(temporary.stop)
            logging.getLogger(__name__).info(
                "no Prefect server runs for this home; started a temporary one at %s",
                temporary.api_url,
            )
        environment["PREFECT_API_URL"] = running or temporary.api_url
    os.environ.update(environment)
    if not logging.getLogger().isEnabledFor(logging.INFO):
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    return temporary


def _run_flow(settings: Settings, stage: str, temporary=None) -> dict:
    """Run one flow in this process with ``settings``, a status line per stage; user errors
    end it. ``temporary``: the server ``_use_prefect`` started earlier, if the command did."""
    from airsick_orchestration import cluster

    try:
        cluster.check(settings)  # the flow checks too (a deployment's run); here, at once
    except ClusterError as error:
        fail(str(error))
    temporary = temporary or _use_prefect(settings)
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from airsick_orchestration import flows

    stages = logging.getLogger(flows.STAGE_LOGGER)
    try:
        with console.status(f"{stage} flow: starting Prefect…") as status:
            if temporary is not None:
                temporary.wait()
            handler = present.StageStatus(status, stage)
            stages.addHandler(handler)
            stages.setLevel(logging.INFO)
            try:
                # Heartbeats let a server notice a run whose process vanished; this one is
                # watched by the person who started it, and stopping each flow's heartbeat
                # thread cost up to a second per flow. Served deployments keep them.
                with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                    return getattr(flows, f"{stage}_flow")(settings=settings)
            finally:
                stages.removeHandler(handler)
    except FLOW_ERRORS as error:
        fail(f"The {stage} flow failed: {error}")
        raise  # unreachable: fail exits


@app.command("run")
def run_flow(
    stage: Annotated[str, typer.Argument(help=f"Which flow: {', '.join(FLOWS)}.")] = "daily",
) -> None:
    """Run a Prefect flow now: the daily one (ingest, transform, train if warranted, score)
    or one stage. Runs are recorded in Prefect (ephemeral, or AIRSICK_PREFECT_API_URL) and
    their logs and artifacts are in its UI; the result is printed as JSON."""
    if stage not in FLOWS:
        fail(f"Unknown flow '{stage}'; choose one of {', '.join(FLOWS)}.")
    result = _run_flow(_settings(), stage)
    console.print_json(json.dumps(result, default=str))


@app.command()
def schedule() -> None:
    """Serve the Prefect deployments until Ctrl-C: the daily flow on AIRSICK_DAILY_CRON and
    the diary reminder at AIRSICK_REMIND_AT (in the person's timezone), and each stage on
    demand, runnable from the Prefect UI.

    Needs a Prefect server (AIRSICK_PREFECT_API_URL); `airsick up` runs one and this.
    """
    settings = _settings()
    if not settings.prefect_api_url:
        fail(
            "Deployments need a Prefect server: set AIRSICK_PREFECT_API_URL "
            "(e.g. http://127.0.0.1:4200/api), or run the whole stack with `airsick up`."
        )
    _use_prefect(settings)
    from airsick_orchestration import deployments

    health = f"{settings.prefect_api_url}/health"
    if not wait_until(lambda: answers(health, timeout=2), timeout=300, interval=0.5):
        fail(f"No Prefect server answers at {settings.prefect_api_url}; start it first.")
    console.print(f"serving the deployments on {settings.prefect_api_url} (Ctrl-C stops)")
    deployments.serve(settings)


@app.command("app")
def app_command(
    host: Annotated[str, typer.Option(help="Address (0.0.0.0 only inside a container).")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default AIRSICK_APP_PORT).")
    ] = None,
) -> None:
    """Run the marimo app in the browser: tomorrow's risk and why, the forecast, the diary,
    and how the model has done. Read-only notebook (run mode) on 127.0.0.1.

    Each person signs in with their name and password (`airsick person password NAME`;
    AIRSICK_APP_PASSWORD is the default person's) and sees only their own. A home where
    nobody has a password is served on this machine only, to the default person.
    """
    serve = optional.notebooks("serve")
    settings = _settings()
    port = settings.app_port if port is None else port
    try:
        serve.check(settings, host, port)
    except serve.AppError as error:
        fail(str(error))
    console.print(f"the app on http://{host}:{port}  (Ctrl-C stops it)")
    serve.serve(settings, host, port)


@app.command()
def explore(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the notebook editor.")
    ] = 2719,
) -> None:
    """Open the exploration notebook (marimo, editable) over the feature table: distributions,
    seasonality, sickness against each variable and lag, and quick experiments logged to
    MLflow's `exploration` experiment."""
    serve = optional.notebooks("serve")
    try:
        command = serve.explore_command(port)
    except serve.AppError as error:
        fail(str(error))
    os.execv(command[0], command)


@app.command()
def up(
    standin: Annotated[
        bool,
        typer.Option(
            "--standin", help="Also run the Open-Meteo stand-in and fetch from it (offline)."
        ),
    ] = False,
) -> None:
    """Start the local stack on 127.0.0.1 until Ctrl-C: Prefect server, the deployments,
    MLflow server, model server, marimo app and dbt docs.

    Prints one line per service with its URL once it is healthy; each service's log is in
    AIRSICK_HOME/logs. Ctrl-C stops every process. No Docker needed.
    """
    settings = _settings()
    if not steps.built(settings):
        fail(
            f"Nothing is built in {settings.home} yet; run `airsick demo --once` (offline) "
            "or `airsick run daily` first."
        )
    _bring_up(settings, standin)


def _bring_up(settings: Settings, standin: bool) -> None:
    from airsick_orchestration import stack

    console.print(f"Starting the stack (home {settings.home}); this takes about a minute…")
    try:
        code = stack.up(settings, standin=standin, say=console.print)
    except PortTakenError as error:
        fail(str(error))
    raise typer.Exit(code)


@app.command()
def docs(
    serve: Annotated[bool, typer.Option(help="Serve the site until Ctrl-C.")] = True,
    host: Annotated[str, typer.Option(help="Address (0.0.0.0 only inside a container).")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default AIRSICK_DOCS_PORT).")
    ] = None,
) -> None:
    """Generate the dbt docs site (models, columns, tests, lineage) and serve it on 127.0.0.1."""
    settings = _settings()
    try:
        with console.status("dbt docs generate…"):
            page = steps.generate_docs(settings)
    except TransformError as error:
        fail(str(error))
    if not serve:
        console.print(f"dbt docs written to {page}")
        return
    from airsick_transform.docs import DocsServer

    server = DocsServer(page, host, settings.docs_port if port is None else port)
    console.print(f"dbt docs on {server.url}  (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("docs server stopped")
    finally:
        server.stop()


@app.command("standin")
def standin_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Port (default AIRSICK_STANDIN_PORT; 0 picks a free one)."
        ),
    ] = None,
    replay: Annotated[
        list[Path] | None,
        typer.Option(help="Answer from recorded Open-Meteo responses instead of simulating."),
    ] = None,
    now: Annotated[
        datetime | None,
        typer.Option(help="Pretend it is this UTC time (forecasts are issued then)."),
    ] = None,
    calibrate: Annotated[
        Path | None,
        typer.Option(
            help="Instead of serving, compare the simulator with the real series in this "
            "folder and print the comparison as Markdown."
        ),
    ] = None,
) -> None:
    """Run the offline stand-in of Open-Meteo's air-quality API until Ctrl-C.

    It answers /v1/air-quality like the real API (parameters, windows, units, several
    places, timezones, errors) from a deterministic simulator or from recordings. Point
    AIRSICK_OPEN_METEO_URL at the URL it prints.
    """
    try:
        server_module, replay_module = optional.offline("server"), optional.offline("replay")
    except optional.NotInstalledError as error:
        fail(str(error))
    if calibrate:
        calibration = optional.offline("calibration")
        if not calibrate.is_dir():
            fail(f"{calibrate} is not a folder; give the folder of recorded series.")
        print(calibration.to_markdown(calibration.compare(calibrate)))
        return
    settings = _settings()
    server = server_module.StandIn(
        host or settings.standin_host,
        settings.standin_port if port is None else port,
        replay=replay_module.Replay(replay) if replay else None,
        now=now.replace(tzinfo=UTC) if now and now.tzinfo is None else now,
    )
    console.print(f"Open-Meteo stand-in on {server.url}/v1/air-quality  (Ctrl-C stops it)")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stand-in stopped")
    finally:
        server.stop()


@diary_app.command("log")
def diary_log(
    sick: Annotated[bool, typer.Option("--sick/--well", help="Were you sick that day, or well?")],
    day: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="The day (YYYY-MM-DD); default today."),
    ] = None,
    symptoms: Annotated[
        str | None, typer.Option(help="Comma-separated, e.g. cough,wheeze,itchy_eyes.")
    ] = None,
    severity: Annotated[str | None, typer.Option(help="1-3 or mild, moderate, severe.")] = None,
    note: Annotated[str | None, typer.Option(help="Anything else worth remembering.")] = None,
) -> None:
    """Log one day in the diary. A later entry for the same day replaces the earlier one."""
    settings = _settings()
    try:
        when = day.date() if day else settings.today()
        result = steps.log_diary(
            settings, day=when, sick=sick, symptoms=symptoms, severity=severity, note=note
        )
    except USER_ERRORS as error:
        fail(str(error))
    state = "sick" if sick else "well"
    if result.written:
        console.print(f"Logged {when} as {state} for {settings.person}.")
    else:
        console.print(f"{when} was already logged as {state}; nothing changed.")


@diary_app.command("import")
def diary_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns date, sick and optionally symptoms, severity, note, recorded_at."
        ),
    ],
) -> None:
    """Import a diary CSV: every line is checked first, then all are written, or none."""
    settings = _settings()
    try:
        result = steps.import_diary(settings, file)
    except USER_ERRORS as error:
        fail(str(error))
    console.print(
        f"Imported {result.given} entries from {file.name}: {result.written} new or changed, "
        f"{result.given - result.written} already in the diary."
    )


@diary_app.command("export")
def diary_export(
    file: Annotated[Path, typer.Argument(help="Where to write the CSV (it is replaced).")],
) -> None:
    """Export the whole diary as a CSV that `airsick diary import` reads back exactly.

    One line per day as the diary stands (the latest entry for it): date, sick or well,
    symptoms, severity, note and when it was recorded. Your data, to keep or take elsewhere.
    """
    settings = _settings()
    if file.parent and not file.parent.is_dir():
        fail(f"Folder {file.parent} does not exist; create it or give another path.")
    written = steps.export_diary(settings, file)
    console.print(f"Exported {written} days of {settings.person}'s diary to {file}.")


@diary_app.command("persona")
def diary_persona() -> None:
    """Write the demo persona's diary (simulated; its law is in airsick_standin/persona.py)."""
    settings = _settings()
    result, truth = steps.create_persona(settings)
    console.print(
        f"Demo persona '{settings.person}': {result.written} diary entries written "
        f"({result.given} days), {truth} true daily probabilities kept for the oracle."
    )


@app.command()
def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Run the pipeline once, print the result and exit.")
    ] = False,
    people: Annotated[
        int,
        typer.Option(
            min=1,
            help="How many people: the demo persona and, beyond one, simulated people in "
            "twenty cities who differ in base rate and in what they react to.",
        ),
    ] = 1,
) -> None:
    """Run the whole product offline for the demo persona, then bring the stack up.

    Starts the Open-Meteo stand-in, writes the persona's diary, and runs the daily Prefect
    flow over the whole history: air quality for the persona's places, the dbt build, a
    trained and gated model, tomorrow's prediction with its reasons. Then starts the stack
    (`airsick up`) and prints where to look. Running it again is fast and safe: incremental,
    nothing doubled. --once stops after the prediction.
    """
    settings = _settings()
    console.print(f"airsick demo · home {settings.home} · lake {settings.lake}")
    # A fresh home's Prefect database takes seconds to create: let the server do that while
    # the stand-in starts and the diary is written.
    temporary = _use_prefect(settings)
    try:
        with optional.standin_serving(settings) as pointed:
            console.print(f"Open-Meteo stand-in answering at {pointed.open_meteo_url}")
            result, _ = steps.create_persona(pointed, people)
            whose = f"'{settings.person}'" if people == 1 else f"{people} people"
            console.print(
                f"Diary: {result.written:,} new entries for {whose} "
                f"({result.given:,} days up to {settings.today()})."
            )
            summary = _run_flow(pointed, "daily", temporary)
    except USER_ERRORS as error:
        fail(str(error))
    present.daily(summary)
    if once:
        return
    _bring_up(settings, standin=True)


def main() -> None:
    app()
