"""The one settings object: read from the environment and ``.env``, listed in ``example.env``.

The CLI and the notebooks' setup cells build it, and hand it to the flows as their typed
parameter (deployments pass the non-secret values they were served with; the rest comes from
the environment of the process that runs them). Library functions in the components receive
plain arguments taken from it. Building it creates nothing on disk.

Values that may carry a password or a token are ``SecretStr``: Prefect shows and stores a
flow's parameters, and a secret appears there masked.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from airsick_core.lake import Lakehouse, S3Access, default_extension_directory, is_remote
from airsick_core.places import Place, parse_places

REAL_OPEN_METEO_URL = "https://air-quality-api.open-meteo.com"
REAL_ARCHIVE_URL = "https://archive-api.open-meteo.com"
REAL_FORECAST_URL = "https://api.open-meteo.com"
DEMO_PLACES = "home=40.4168,-3.7038,Europe/Madrid"


def _default_home() -> Path:
    """Return ``.airsick`` in the checkout (git-ignored), or in the working folder."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "uv.lock").is_file() and (parent / "orchestration").is_dir():
            return parent / ".airsick"
    return Path.cwd() / ".airsick"


def _reveal(secret: SecretStr | str | None) -> str | None:
    """The value of a secret setting (a plain string when set by ``model_copy(update=...)``,
    which does not validate)."""
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret or None


# AIRSICK_ variables that are not settings: what airsick hands dbt for a build
# (``Lakehouse.dbt_environment`` and the day, read by transform/dbt), and, by prefix, the
# test suite's and the benchmarks' own knobs.
NOT_SETTINGS = frozenset(
    {
        "AIRSICK_RAW",
        "AIRSICK_TODAY",
        "AIRSICK_DUCKLAKE_DATA_PATH",
        "AIRSICK_DBT_TARGET",
        "AIRSICK_DBT_DUCKDB_THREADS",
        "AIRSICK_S3_ENDPOINT",
        "AIRSICK_S3_USE_SSL",
    }
)
NOT_SETTINGS_PREFIXES = ("AIRSICK_TEST_", "AIRSICK_BENCH_")


class UnknownSettingError(ValueError):
    """An AIRSICK_ variable names no setting: a typo would otherwise be silently ignored."""


class Settings(BaseSettings):
    """Everything airsick can be told, by environment variable (``AIRSICK_*``) or ``.env``.

    Strict about its own prefix: an ``AIRSICK_`` variable that names no setting, in the
    environment or in ``.env``, is an error that names the closest setting.
    """

    def __init__(self, **values) -> None:
        dotenv = Path(".env")
        check_variables([*os.environ, *(dotenv_values(dotenv) if dotenv.is_file() else {})])
        super().__init__(**values)

    model_config = SettingsConfigDict(
        env_prefix="AIRSICK_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    home: Path = Field(
        default_factory=_default_home,
        description="Folder for all local state: lake, pipelines, catalog, MLflow, logs.",
    )
    lake_url: str | None = Field(
        default=None,
        description="Where the lake lives: a folder, or s3://bucket/prefix. Default: HOME/lake.",
    )
    person: str = Field(default="demo", description="Whose diary and places these are.")
    places: str = Field(
        default=DEMO_PLACES,
        description="The person's places: NAME=LAT,LON,TIMEZONE, several separated by ';'.",
    )
    history_start: date | None = Field(
        default=None, description="First day of history to load. Default: 3 years ago."
    )
    as_of: date | None = Field(
        default=None,
        description="Pretend today is this day (replays of recorded data, backtests). "
        "Default: today in the person's first place.",
    )
    forecast_days: int = Field(default=4, ge=0, le=7, description="Forecast days after today.")
    overlap_days: int = Field(
        default=3, ge=1, le=30, description="Recent days fetched again: the API revises them."
    )
    chunk_days: int = Field(
        default=92, ge=1, le=366, description="Days per history request (the API weighs days)."
    )

    open_meteo_url: str = Field(
        default=REAL_OPEN_METEO_URL,
        description="Base URL of the air-quality API: the real one, the stand-in or a replay.",
    )
    weather_archive_url: str | None = Field(
        default=None,
        description="Base URL of the weather archive (history). Default: Open-Meteo's, or "
        "the air-quality URL when that is a stand-in or a replay (one server answers both).",
    )
    weather_forecast_url: str | None = Field(
        default=None,
        description="Base URL of the weather forecast API. Default: as the archive's.",
    )
    open_meteo_calls_per_minute: float = Field(
        default=600, ge=0, description="Pace requests under this weighted rate; 0 turns it off."
    )
    open_meteo_timeout: float = Field(default=30, gt=0, description="Seconds per request.")
    open_meteo_attempts: int = Field(default=6, ge=1, description="Tries per request.")

    ducklake_catalog: SecretStr | None = Field(
        default=None,
        description="DuckLake catalog: sqlite:<file> or postgres:<libpq string>. "
        "Default: sqlite:HOME/catalog/lakehouse.sqlite.",
    )
    snapshot_retention_days: float = Field(
        default=7, ge=0, description="Lakehouse snapshots older than this are expired."
    )
    duckdb_threads: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2),
        ge=1,
        description="Threads DuckDB may use in the build and when reading the lakehouse; "
        "default half the cores, as training: a build shares the machine, and most of its "
        "queries are too small to gain from more.",
    )
    duckdb_extension_dir: Path = Field(
        default_factory=default_extension_directory,
        description="Where DuckDB's extensions are installed from their PyPI packages.",
    )
    docs_port: int = Field(default=8580, ge=1, le=65535, description="Port of the dbt docs site.")

    mlflow_tracking_uri: SecretStr | None = Field(
        default=None,
        description="MLflow tracking and registry: an http(s) server or a database URI. "
        "Default: sqlite:///HOME/mlflow/mlflow.db with artifacts in HOME/mlflow/artifacts.",
    )
    mlflow_port: int = Field(
        default=5000, ge=1, le=65535, description="Port of the local MLflow server."
    )
    mlflow_experiment: str = Field(default="airsick", description="Experiment of training runs.")
    promotion_margin: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description="Relative improvement on log loss or Brier a challenger needs to win.",
    )
    train_seed: int = Field(default=0, description="Seed of every random choice in training.")
    train_threads: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2),
        ge=1,
        description="Threads training's numeric libraries (OpenMP, BLAS) may use; default "
        "half the cores, so training shares the machine with the servers and the app.",
    )

    serve_host: str = Field(default="127.0.0.1", description="Where `airsick serve` listens.")
    serve_port: int = Field(default=5001, ge=1, le=65535, description="Port of the model server.")
    serve_max_rows: int = Field(
        default=20_000,
        ge=1,
        description="Most rows one request to the model server may score (413 beyond).",
    )
    serve_poll_seconds: float = Field(
        default=5, gt=0, description="How often the model server checks for a new champion."
    )
    serve_models: int = Field(
        default=256,
        ge=1,
        description="How many people's champions the model server keeps loaded (the least "
        "recently asked for go first; its memory follows this, not the number of people).",
    )
    serve_workers: int = Field(
        default=2,
        ge=1,
        description="Worker processes of `mlflow models serve` behind the model server; each "
        "loads the models it is asked for. Two use both cores of a small machine.",
    )

    prefect_api_url: str | None = Field(
        default=None,
        description="A running Prefect server's API (http://127.0.0.1:4200/api); "
        "default: Prefect's ephemeral mode with its home under HOME/prefect.",
    )
    prefect_port: int = Field(
        default=4200, ge=1, le=65535, description="Port of the local Prefect server."
    )
    daily_cron: str = Field(
        default="0 18 * * *",
        description="When the daily flow runs, as cron in the person's first place's timezone.",
    )
    dask_address: str | None = Field(
        default=None,
        description="Where the evening's per-person trainings run: a Dask scheduler "
        "(tcp://host:8786), or `local` for a Dask cluster of this machine's cores; default: "
        "one after another in the flow's own process.",
    )
    dask_workers: int | None = Field(
        default=None,
        ge=1,
        description="Workers of the `local` Dask cluster, one thread each; default: the "
        "cores divided by AIRSICK_TRAIN_THREADS.",
    )
    app_port: int = Field(default=2718, ge=1, le=65535, description="Port of the marimo app.")
    app_password: SecretStr | None = Field(
        default=None,
        description="Password of the app (it writes health data). Needed to serve it "
        "beyond 127.0.0.1; compose refuses to start without it.",
    )

    notify_url: SecretStr | None = Field(
        default=None,
        description="Where the evening alert and the diary reminder go: an Apprise URL "
        "(mailto://, ntfy://, tgram://, json://...). Empty: no messages.",
    )
    notify_threshold: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="The evening alert is sent when tomorrow's probability reaches this.",
    )
    notify_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a channel has to take a message; one that hangs counts as failed "
        "and the message is tried again on the next run.",
    )
    remind_at: str = Field(
        default="21:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="When the diary reminder goes out if today is not logged (HH:MM, in "
        "the person's first place).",
    )

    standin_host: str = Field(default="127.0.0.1", description="Where the stand-in listens.")
    standin_port: int = Field(
        default=8765, ge=0, le=65535, description="Port of the Open-Meteo stand-in."
    )
    persona_seed: int = Field(default=7, description="Seed of the demo persona's diary.")

    aws_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AWS_ENDPOINT_URL", "AIRSICK_AWS_ENDPOINT_URL"),
        description="S3 endpoint (MinIO, moto); standard AWS variable.",
    )
    aws_access_key_id: str | None = Field(
        default=None, validation_alias=AliasChoices("AWS_ACCESS_KEY_ID")
    )
    aws_secret_access_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("AWS_SECRET_ACCESS_KEY")
    )
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )

    @field_validator("places")
    @classmethod
    def _places_parse(cls, value: str) -> str:
        parse_places(value)
        return value

    @cached_property
    def place_list(self) -> list[Place]:
        return parse_places(self.places)

    @property
    def lake(self) -> str:
        """The lake's root: an absolute folder path or an s3:// URL."""
        if self.lake_url:
            return self.lake_url if is_remote(self.lake_url) else str(Path(self.lake_url).resolve())
        return str((self.home / "lake").resolve())

    def weather_urls(self) -> tuple[str, str]:
        """The archive's and the forecast API's base URLs (see the two settings)."""
        real = self.open_meteo_url.rstrip("/") == REAL_OPEN_METEO_URL
        archive = self.weather_archive_url or (REAL_ARCHIVE_URL if real else self.open_meteo_url)
        forecast = self.weather_forecast_url or (REAL_FORECAST_URL if real else self.open_meteo_url)
        return archive, forecast

    @property
    def pipelines_dir(self) -> Path:
        return self.home / "dlt"

    @property
    def s3(self) -> S3Access | None:
        if not is_remote(self.lake):
            return None
        return S3Access(
            endpoint_url=self.aws_endpoint_url,
            access_key_id=self.aws_access_key_id,
            secret_access_key=_reveal(self.aws_secret_access_key),
            region=self.aws_region,
        )

    @property
    def lakehouse(self) -> Lakehouse:
        """Where dbt builds: the DuckLake catalog and its data files in the lake."""
        catalog = (
            _reveal(self.ducklake_catalog)
            or f"sqlite:{(self.home / 'catalog' / 'lakehouse.sqlite').resolve()}"
        )
        s3 = self.s3
        return Lakehouse(
            lake_url=self.lake,
            catalog=catalog,
            s3_endpoint_url=s3.endpoint_url if s3 else None,
            s3_key_id=s3.access_key_id if s3 else None,
            s3_secret=s3.secret_access_key if s3 else None,
            s3_region=self.aws_region,
            extension_dir=self.duckdb_extension_dir,
            threads=self.duckdb_threads,
        )

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return _reveal(self.mlflow_tracking_uri)
        return f"sqlite:///{(self.home / 'mlflow' / 'mlflow.db').resolve()}"

    @property
    def artifact_location(self) -> str | None:
        """Where a local store keeps artifacts; a tracking server decides for itself."""
        if self.tracking_uri.startswith("http"):
            return None
        return (self.home / "mlflow" / "artifacts").resolve().as_uri()

    @property
    def mlflow_ui_url(self) -> str:
        if self.tracking_uri.startswith("http"):
            return self.tracking_uri
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def serve_url(self) -> str:
        return f"http://{self.serve_host}:{self.serve_port}"

    @property
    def notify_target(self) -> str | None:
        """The Apprise URL of the alert and the reminder, or None when messages are off."""
        return _reveal(self.notify_url)

    @property
    def notifications_dir(self) -> Path:
        return self.home / "notifications"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def dbt_dir(self) -> Path:
        return self.home / "dbt"

    @property
    def standin_url(self) -> str:
        return f"http://{self.standin_host}:{self.standin_port}"

    def prefect_environment(self) -> dict[str, str]:
        """Prefect's own variables, derived from these settings (set before a flow runs)."""
        env = {
            "PREFECT_HOME": str(self.home / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # The ephemeral server needs ~20 s on a fresh home and more under load.
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        }
        if self.prefect_api_url:
            env["PREFECT_API_URL"] = self.prefect_api_url
        return env

    def as_parameters(self) -> dict:
        """This run's settings as a flow parameter: the values set (and the home), as JSON,
        secrets left out. A deployment passes them; the process that runs the flow reads
        the rest, secrets included, from its own environment."""
        secrets = {
            name
            for name, field in type(self).model_fields.items()
            if SecretStr in (field.annotation, *get_args(field.annotation))
        }
        return self.model_dump(
            mode="json", include=self.model_fields_set | {"home"}, exclude=secrets
        )

    def today(self) -> date:
        """Today in the person's first place: evenings there decide what 'tomorrow' is."""
        if self.as_of is not None:
            return self.as_of
        return datetime.now(ZoneInfo(self.place_list[0].timezone)).date()

    def history_first_day(self) -> date:
        return self.history_start or (self.today() - timedelta(days=3 * 365))


# The settings by concern, in the order ``example.env`` and ``airsick settings`` list them.
# A variable's name starts with its concern where it can (AIRSICK_OPEN_METEO_…, …_NOTIFY_…);
# ``tests/unit/test_settings.py`` holds every setting to exactly one group, and example.env
# to the same sections.
GROUPS: dict[str, tuple[str, ...]] = {
    "Where state lives": ("home", "lake_url"),
    "The person": ("person", "places", "persona_seed"),
    "Air quality (Open-Meteo)": (
        "open_meteo_url",
        "weather_archive_url",
        "weather_forecast_url",
        "history_start",
        "as_of",
        "forecast_days",
        "overlap_days",
        "chunk_days",
        "open_meteo_calls_per_minute",
        "open_meteo_timeout",
        "open_meteo_attempts",
    ),
    "The offline stand-in of Open-Meteo": ("standin_host", "standin_port"),
    "S3 / MinIO": ("aws_endpoint_url", "aws_access_key_id", "aws_secret_access_key", "aws_region"),
    "The lakehouse (dbt-duckdb into DuckLake)": (
        "ducklake_catalog",
        "snapshot_retention_days",
        "docs_port",
        "duckdb_threads",
        "duckdb_extension_dir",
    ),
    "Training and the registry (MLflow)": (
        "mlflow_tracking_uri",
        "mlflow_port",
        "mlflow_experiment",
        "promotion_margin",
        "train_seed",
        "train_threads",
    ),
    "Serving": (
        "serve_host",
        "serve_port",
        "serve_max_rows",
        "serve_poll_seconds",
        "serve_models",
        "serve_workers",
    ),
    "Orchestration (Prefect)": (
        "prefect_api_url",
        "prefect_port",
        "daily_cron",
        "dask_address",
        "dask_workers",
    ),
    "The app (marimo)": ("app_port", "app_password"),
    "Messages: the evening alert and the diary reminder (Apprise)": (
        "notify_url",
        "notify_threshold",
        "notify_timeout",
        "remind_at",
    ),
}


def variable(name: str) -> str:
    """The environment variable a setting is read from (AWS_… for S3's standard ones)."""
    field = Settings.model_fields[name]
    if isinstance(field.validation_alias, AliasChoices):
        return str(field.validation_alias.choices[0]).upper()
    return f"AIRSICK_{name.upper()}"


def known_variables() -> set[str]:
    """Every AIRSICK_ variable a setting reads."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"AIRSICK_{name.upper()}")
        if isinstance(field.validation_alias, AliasChoices):
            names |= {str(choice).upper() for choice in field.validation_alias.choices}
    return {name for name in names if name.startswith("AIRSICK_")}


def check_variables(names: Iterable[str]) -> None:
    """Raise ``UnknownSettingError`` for the first AIRSICK_ name that is not a setting."""
    known = known_variables()
    for name in sorted(names):
        upper = name.upper()
        if (
            not upper.startswith("AIRSICK_")
            or upper in known
            or upper in NOT_SETTINGS
            or upper.startswith(NOT_SETTINGS_PREFIXES)
        ):
            continue
        # Compared without the prefix, which every name shares.
        suffixes = {name.removeprefix("AIRSICK_"): name for name in known}
        closest = difflib.get_close_matches(
            upper.removeprefix("AIRSICK_"), sorted(suffixes), n=1, cutoff=0.6
        )
        hint = (
            f"did you mean {suffixes[closest[0]]}?"
            if closest
            else "example.env lists every setting."
        )
        raise UnknownSettingError(f"{name} is not an airsick setting; {hint}")
