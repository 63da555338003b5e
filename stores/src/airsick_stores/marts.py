"""The lakehouse's tables a person's answers are made of: the features, the days to score,
the hindcast, the hourly forecast, and what the last build set aside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from airsick_core import names
from airsick_core.lake import Lakehouse
from airsick_core.names import FACTOR_NAMES, POLLENS, WEATHER_VARIABLES

from airsick_stores.reading import query

if TYPE_CHECKING:
    import pandas as pd

# The hourly variables the forecast chart shows, under the names the model's reasons use.
FORECAST_VARIABLES = {
    name: label for name, label in FACTOR_NAMES.items() if name not in WEATHER_VARIABLES
}
WEATHER_LABELS = {name: FACTOR_NAMES[name] for name in WEATHER_VARIABLES}


@dataclass(frozen=True)
class Marts:
    lakehouse: Lakehouse

    def _of(self, table: str, person: str, order: str = "place, local_date") -> pd.DataFrame:
        return query(
            self.lakehouse,
            f"select * from lake.{table} where person = ? order by {order}",
            [person],
        )

    def scoring_rows(self, person: str) -> pd.DataFrame:
        """The features of the days to score (today and the forecast days), per place."""
        return self._of(names.SCORING, person)

    def everyones_scoring_rows(self) -> pd.DataFrame:
        """:meth:`scoring_rows` of everyone at once."""
        return query(
            self.lakehouse,
            f"select * from lake.{names.SCORING} order by person, place, local_date",
            [],
        )

    def features(self, person: str) -> pd.DataFrame:
        """The person's daily feature table (the training mart), labelled or not."""
        return self._of(names.FEATURES, person)

    def hindcast(self, person: str) -> pd.DataFrame:
        """Each evening-before prediction next to what happened."""
        return self._of(names.HINDCAST, person, order="predicts_date")

    def notes(self, person: str) -> list[str]:
        """What the last build set aside or found missing, one sentence each; nothing
        before the first build."""
        import duckdb
        from airsick_lakehouse import data_report

        try:
            return data_report(self.lakehouse, person)
        except duckdb.Error:  # not built yet: the callers say so elsewhere
            return []

    def built(self) -> bool:
        """Whether the feature table has rows (there is something to show)."""
        from airsick_lakehouse import count_rows

        try:
            return count_rows(self.lakehouse, names.FEATURES) > 0
        except Exception:  # no catalog yet, or no such table
            return False

    def forecast(self, since: datetime | None = None) -> pd.DataFrame:
        """Hourly air quality and weather from ``since`` (default: 6 hours ago) on, in long
        form: place, hour (local time), variable (reason name), value."""
        import pandas as pd

        since = since or datetime.now(UTC) - timedelta(hours=6)
        pollen = " + ".join(f"coalesce({c}, 0)" for c in POLLENS)
        columns = [c for c in FORECAST_VARIABLES if c != "pollen"]
        air = self._hourly("stg_open_meteo__air_quality", [*columns, f"{pollen} as pollen"], since)
        if air.empty:
            return air
        weather = self._hourly("stg_open_meteo__weather", list(WEATHER_VARIABLES), since)
        keys = ["place", "place_timezone", "hour_utc", "was_forecast"]
        long = pd.concat(
            [
                frame.melt(id_vars=keys, value_vars=list(labels), var_name="column")
                for frame, labels in ((air, FORECAST_VARIABLES), (weather, WEATHER_LABELS))
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

    def _hourly(self, model: str, columns: list[str], since: datetime) -> pd.DataFrame:
        return query(
            self.lakehouse,
            f"select place, place_timezone, hour_utc, was_forecast, {', '.join(columns)} "
            f"from lake.staging.{model} where hour_utc >= ? order by place, hour_utc",
            [since],
        )

    def forget(self, person: str) -> dict[str, int]:
        """Remove ``person`` from every table of the lakehouse, older snapshots' files
        included; return the rows removed per table (nothing before the first build)."""
        from airsick_lakehouse.lakehouse import forget_person

        try:
            return forget_person(self.lakehouse, person)
        except Exception as error:  # no catalog yet: nothing was ever built
            if "does not exist" not in str(error) and "No such file" not in str(error):
                raise
            return {}
