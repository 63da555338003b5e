"""The training dataset: the feature mart's labelled rows for one person, with lineage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from airsick_core import names
from airsick_lakehouse import Lakehouse, connect

from airsick_training.errors import DatasetError

LABEL = "sick_next_day"


@dataclass(frozen=True)
class Dataset:
    """Labelled rows in time order, and where they came from."""

    frame: pd.DataFrame
    source: str
    table: str
    snapshot_id: int
    digest: str

    @property
    def label(self) -> pd.Series:
        return self.frame[LABEL].astype(int)

    @property
    def date_range(self) -> tuple[str, str]:
        dates = self.frame["local_date"]
        if dates.empty:
            return "none", "none"
        return str(dates.min().date()), str(dates.max().date())

    @property
    def labelled_days(self) -> int:
        """Days whose next day is in the diary: the evidence about this person."""
        return int(self.frame["local_date"].nunique())

    @property
    def both_outcomes(self) -> bool:
        return self.frame[LABEL].nunique() == 2


def content_hash(frame: pd.DataFrame) -> str:
    """Return a short hash of the rows' content, stable across reads of the same data."""
    hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:16]


def read_table(lakehouse: Lakehouse, table: str, person: str) -> tuple[pd.DataFrame, int]:
    """Read one mart for ``person`` at the catalog's latest snapshot; return it and the id."""
    catalog = lakehouse.catalog.removeprefix("sqlite:")
    if lakehouse.catalog.startswith("sqlite:") and not Path(catalog).exists():
        raise DatasetError(f"Nothing is built in {catalog} yet; run `airsick transform` first.")
    with connect(lakehouse) as con:
        snapshot = con.execute("select max(snapshot_id) from lake.snapshots()").fetchone()[0]
        try:
            frame = con.execute(
                f"select * from lake.{table} at (version => ?) where person = ? "
                "order by local_date, place",
                [snapshot, person],
            ).df()
        except Exception as error:  # duckdb raises CatalogException subclasses and others
            if "does not exist" in str(error):
                raise DatasetError(
                    f"The lakehouse has no {table}; run `airsick transform` first."
                ) from error
            raise
    frame["local_date"] = pd.to_datetime(frame["local_date"])
    return frame, int(snapshot)


def load_dataset(lakehouse: Lakehouse, person: str, home: str | None = None) -> Dataset:
    """Return the labelled feature rows of ``person``: none at all on day zero.

    A row is labelled when the diary holds the next day; a day not logged is unknown and
    its row is not a training row (it is never taken as a well day). With several places,
    each diary day is learnt once, with the air of ``home`` (the place the person lives);
    the other places are scored, not learnt from twice with the same label.
    """
    frame, snapshot = read_table(lakehouse, names.FEATURES, person)
    if home is not None and (frame["place"] == home).any():
        frame = frame[frame["place"] == home]
    labelled = frame[frame[LABEL].notna()].reset_index(drop=True)
    return Dataset(
        frame=labelled,
        source=f"{lakehouse.data_path}{names.FEATURES.replace('.', '/')}",
        table=names.FEATURES,
        snapshot_id=snapshot,
        digest=content_hash(labelled),
    )


def load_oracle(lakehouse: Lakehouse, person: str) -> pd.DataFrame | None:
    """Return the demo persona's true probabilities by date, or None for a real person.

    The probability of being sick on ``date`` is what the oracle predicts for the feature
    row of the day before.
    """
    pattern = lakehouse.raw_files(names.PERSONA_TRUTH)
    with connect(lakehouse, attach=False) as con:
        try:
            truth = con.execute(
                "select date, probability from read_parquet(?) where person = ?",
                [pattern, person],
            ).df()
        except Exception as error:  # no persona in this lake: a real person has no oracle
            if "No files found" in str(error):
                return None
            raise
    if truth.empty:
        return None
    truth["date"] = pd.to_datetime(truth["date"])
    return truth
