"""The diary: a person's entries, written by dlt, read from the raw zone as they stand.

The rule "the latest entry of a day is the one that counts" is written here for every
Python reader (the CLI, the flows, the app) and in ``stg_diary__events.sql`` for the build;
``tests/integration/test_stores.py`` holds the two to the same answer. The readers read
the raw Parquet, not the build, so that an entry logged a moment ago counts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from airsick_core import names
from airsick_core.lake import Lakehouse, S3Access

from airsick_stores.reading import query

if TYPE_CHECKING:
    import pandas as pd
    from airsick_ingestion.diary.events import DiaryEvent
    from airsick_ingestion.diary.source import DiaryResult

COLUMNS = "date, sick, symptoms, severity, note, recorded_at, source"
# The one definition of the day's entry that counts: the latest recorded.
LATEST_OF_EACH_DAY = "qualify row_number() over (partition by date order by recorded_at desc) = 1"


@dataclass(frozen=True)
class Diary:
    """The diaries of everyone in one lake."""

    lakehouse: Lakehouse
    pipelines_dir: Path
    s3: S3Access | None = None

    def append(self, events: list[DiaryEvent]) -> DiaryResult:
        """Append checked entries (all of them, or none on an error)."""
        from airsick_ingestion.diary.source import append_events

        return append_events(
            events, lake_url=self.lakehouse.lake_url, pipelines_dir=self.pipelines_dir, s3=self.s3
        )

    def log(self, person: str, today: date, **entry) -> DiaryResult:
        """Check one entry (``airsick diary log``, the app's form) and append it."""
        from airsick_ingestion.diary.source import log_entry

        return log_entry(
            person=person,
            today=today,
            lake_url=self.lakehouse.lake_url,
            pipelines_dir=self.pipelines_dir,
            s3=self.s3,
            **entry,
        )

    def latest(self, person: str, since: date | None = None) -> pd.DataFrame:
        """The person's diary as it stands, one row per day (its latest entry), newest
        first; only days after ``since`` when given. Empty before the first entry."""
        import pandas as pd

        where = "and date > ?" if since else ""
        frame = query(
            self.lakehouse,
            f"select {COLUMNS} from read_parquet(?, union_by_name => true) "
            f"where person = ? {where} {LATEST_OF_EACH_DAY} order by date desc",
            [self.lakehouse.raw_files(names.DIARY), person, *([since] if since else [])],
            attach=False,
        )
        if frame.empty:
            return pd.DataFrame(columns=COLUMNS.split(", "))
        return frame.assign(date=pd.to_datetime(frame["date"]).dt.date)

    def logged_on(self, person: str, day: date) -> bool:
        """Whether the person has an entry for ``day``."""
        found = query(
            self.lakehouse,
            "select count(*) as n from read_parquet(?, union_by_name => true) "
            "where person = ? and date = ?",
            [self.lakehouse.raw_files(names.DIARY), person, day],
            attach=False,
        )
        return bool(len(found) and found["n"].iloc[0])

    def last_day(self, person: str) -> date | None:
        """The newest day the person logged, or None before the first entry."""
        import pandas as pd

        found = query(
            self.lakehouse,
            "select max(date) as day from read_parquet(?, union_by_name => true) where person = ?",
            [self.lakehouse.raw_files(names.DIARY), person],
            attach=False,
        )
        if found.empty or pd.isna(found["day"].iloc[0]):
            return None
        return pd.Timestamp(found["day"].iloc[0]).date()

    def logged_by_person(self) -> dict[str, tuple[int, date]]:
        """Everyone's days logged and newest day logged, in one read of the diary."""
        import pandas as pd

        found = query(
            self.lakehouse,
            "select person, count(distinct date) as days, max(date) as last "
            "from read_parquet(?, union_by_name => true) group by person",
            [self.lakehouse.raw_files(names.DIARY)],
            attach=False,
        )
        return {
            row.person: (int(row.days), pd.Timestamp(row.last).date())
            for row in found.itertuples(index=False)
        }

    def export(self, person: str, path: Path) -> int:
        """Write the person's diary as it stands to a CSV that ``diary import`` reads back;
        return how many days it holds."""
        import pandas as pd
        from airsick_ingestion.diary.events import write_csv

        frame = self.latest(person).iloc[::-1]
        rows = []
        for row in frame.to_dict("records"):
            for key in ("symptoms", "severity", "note"):
                if pd.isna(row[key]):
                    row[key] = None
            row["date"] = pd.Timestamp(row["date"]).date()
            row["recorded_at"] = pd.Timestamp(row["recorded_at"]).to_pydatetime()
            rows.append(row)
        return write_csv(rows, path)

    def forget(self, person: str) -> None:
        """Make the diary's pipeline forget which entries of ``person`` it wrote, so that a
        later import writes them anew (their rows go with the raw zone's ``forget``)."""
        from airsick_ingestion.forget import forget_diary_state

        forget_diary_state(self.lakehouse.lake_url, self.pipelines_dir, person, self.s3)
