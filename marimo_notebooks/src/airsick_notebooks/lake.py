"""What the notebooks read: the lake (read-only, bound parameters) and the model registry.

Every function returns a DataFrame, empty when there is nothing yet, and raises
:class:`Unavailable` with one friendly sentence when the lake or registry cannot be read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
from airsick_core import names
from airsick_core.names import FACTOR_NAMES, POLLENS, WEATHER_VARIABLES
from airsick_lakehouse import Lakehouse, connect, has_raw

# The hourly variables the forecast chart shows, under the names the model's reasons use.
FORECAST_VARIABLES = {
    name: label for name, label in FACTOR_NAMES.items() if name not in WEATHER_VARIABLES
}
WEATHER_LABELS = {name: FACTOR_NAMES[name] for name in WEATHER_VARIABLES}


class Unavailable(RuntimeError):
    """The lake or the registry cannot be read right now."""


def _query(lakehouse: Lakehouse, sql: str, parameters: list, attach: bool = True) -> pd.DataFrame:
    try:
        with connect(lakehouse, read_only=True, attach=attach) as con:
            return con.execute(sql, parameters).df()
    except Exception as error:
        if "does not exist" in str(error) or "No files found" in str(error):
            return pd.DataFrame()
        raise Unavailable(
            f"The lake at {lakehouse.lake_url} cannot be read right now ({type(error).__name__})."
        ) from error


def forecast(lakehouse: Lakehouse, since: datetime | None = None) -> pd.DataFrame:
    """Hourly air quality and weather from ``since`` (default: 6 hours ago) on, in long
    form: place, hour (local time), variable (reason name), value."""
    since = since or datetime.now(UTC) - timedelta(hours=6)
    pollen = " + ".join(f"coalesce({c}, 0)" for c in POLLENS)
    columns = [c for c in FORECAST_VARIABLES if c != "pollen"]
    wide = _query(
        lakehouse,
        f"""
        select place, place_timezone, hour_utc, was_forecast, {", ".join(columns)},
               {pollen} as pollen
        from lake.staging.stg_open_meteo__air_quality
        where hour_utc >= ?
        order by place, hour_utc
        """,
        [since],
    )
    if wide.empty:
        return wide
    weather = _query(
        lakehouse,
        f"""
        select place, place_timezone, hour_utc, was_forecast, {", ".join(WEATHER_VARIABLES)}
        from lake.staging.stg_open_meteo__weather
        where hour_utc >= ?
        order by place, hour_utc
        """,
        [since],
    )
    keys = ["place", "place_timezone", "hour_utc", "was_forecast"]
    parts = [(wide, FORECAST_VARIABLES), (weather, WEATHER_LABELS)]
    long = pd.concat(
        [
            frame.melt(id_vars=keys, value_vars=list(labels), var_name="column", value_name="value")
            for frame, labels in parts
            if not frame.empty
        ],
        ignore_index=True,
    )
    long["variable"] = long["column"].map(FACTOR_NAMES)
    long["hour"] = [
        ts.tz_convert(zone).tz_localize(None)
        for ts, zone in zip(long["hour_utc"], long["place_timezone"], strict=True)
    ]
    return long.drop(columns=["column"])


def scoring_rows(lakehouse: Lakehouse, person: str) -> pd.DataFrame:
    """The features of the days to score (tomorrow and the forecast days), per place."""
    return _query(
        lakehouse,
        f"select * from lake.{names.SCORING} where person = ? order by place, local_date",
        [person],
    )


def data_notes(lakehouse: Lakehouse, person: str) -> list[str]:
    """What the last build set aside or found missing (quarantined values, thin days, no
    pollen here, diary coverage); nothing when the lakehouse is not built yet."""
    from airsick_lakehouse import data_report

    try:
        return data_report(lakehouse, person)
    except duckdb.Error:  # not built yet: the page says so elsewhere
        return []


def stored_predictions(lakehouse: Lakehouse, person: str) -> pd.DataFrame:
    """The latest prediction written for each place and day from today on (batch scoring)."""
    return _query(
        lakehouse,
        """
        select place, predicts_date, probability, reasons, model_version, evidence_days,
               scored_at
        from read_parquet(?, union_by_name => true)
        where person = ? and predicts_date >= current_date
        qualify row_number() over (
            partition by place, predicts_date order by scored_at desc) = 1
        order by place, predicts_date
        """,
        [lakehouse.raw_files(names.PREDICTIONS), person],
        attach=False,
    )


def diary(lakehouse: Lakehouse, person: str, days: int = 30) -> pd.DataFrame:
    """The diary's last ``days`` days as recorded (latest entry per day), newest first.

    Read from the raw Parquet, so that an entry logged a moment ago shows at once.
    """
    return _query(
        lakehouse,
        """
        select date, sick, symptoms, severity, note, recorded_at, source
        from read_parquet(?, union_by_name => true)
        where person = ? and date > current_date - cast(? as integer)
        qualify row_number() over (partition by date order by recorded_at desc) = 1
        order by date desc
        """,
        [lakehouse.raw_files(names.DIARY), person, days],
        attach=False,
    )


def hindcast(lakehouse: Lakehouse, person: str) -> pd.DataFrame:
    """Each evening-before prediction next to what happened (dbt's fct_hindcast)."""
    return _query(
        lakehouse,
        "select place, predicts_date, probability, model_version, was_sick, squared_error "
        f"from lake.{names.HINDCAST} where person = ? order by predicts_date",
        [person],
    )


def features(lakehouse: Lakehouse, person: str) -> pd.DataFrame:
    """The labelled daily feature table (the training mart) of one person."""
    return _query(
        lakehouse,
        f"select * from lake.{names.FEATURES} where person = ? order by place, local_date",
        [person],
    )


def champions(tracking_uri: str, name: str = "airsick") -> pd.DataFrame:
    """Every registered version with its gate decision; promoted ones with their reign.

    Columns: version, registered, decision, reason, champion_from, champion_until, is_champion.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        versions = client.search_model_versions(f"name = '{name}'")
        current = client.get_registered_model(name).aliases.get("champion") if versions else None
    except MlflowException as error:
        if "RESOURCE_DOES_NOT_EXIST" in str(error.error_code):
            return pd.DataFrame()
        raise Unavailable(f"The model registry at {tracking_uri} cannot be read now.") from error
    except Exception as error:
        raise Unavailable(f"The model registry at {tracking_uri} cannot be read now.") from error
    rows = [
        {
            "version": int(v.version),
            "registered": pd.Timestamp(v.creation_timestamp, unit="ms", tz="UTC"),
            "decision": v.tags.get("decision", "?"),
            "reason": v.tags.get("decision_reason", ""),
        }
        for v in versions
    ]
    frame = pd.DataFrame(rows).sort_values("version").reset_index(drop=True)
    promoted = frame[frame["decision"] == "promoted"]
    frame["champion_from"] = promoted["registered"]
    frame["champion_until"] = promoted["registered"].shift(-1)
    frame["is_champion"] = frame["version"].astype(str) == str(current)
    return frame


def logged_on(lakehouse: Lakehouse, person: str, day) -> bool:
    """Whether the diary has an entry for ``day`` (the app shows the risk after it)."""
    if not has_raw(lakehouse, names.DIARY):
        return False
    found = _query(
        lakehouse,
        "select count(*) as n from read_parquet(?, union_by_name => true) "
        "where person = ? and date = ?",
        [lakehouse.raw_files(names.DIARY), person, day],
        attach=False,
    )
    return bool(len(found) and found["n"].iloc[0])


def triggers(tracking_uri: str, person: str) -> tuple[dict | None, pd.DataFrame]:
    """The person's latest triggers (None before the first training) and their history."""
    from airsick_training.track import person_triggers

    try:
        return person_triggers(tracking_uri, person)
    except Exception as error:
        raise Unavailable(f"The training runs at {tracking_uri} cannot be read now.") from error


def backtest(tracking_uri: str, person: str) -> tuple[pd.DataFrame, dict]:
    """The newest backtest's out-of-sample predictions (empty before the first)."""
    from airsick_training.track import person_backtest

    try:
        return person_backtest(tracking_uri, person)
    except Exception as error:
        raise Unavailable(f"The training runs at {tracking_uri} cannot be read now.") from error
