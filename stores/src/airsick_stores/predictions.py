"""Predictions: what batch scoring wrote, in the raw zone beside the diary.

A rerun with the same model and the same features rewrites the same file, so nothing is
doubled; a reader takes the latest prediction of each place and day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from airsick_core import names
from airsick_core.lake import Lakehouse

from airsick_stores.reading import query

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Predictions:
    lakehouse: Lakehouse

    def write(self, predictions: pd.DataFrame, now: datetime) -> str:
        """Write one scoring's predictions as one Parquet file; return its path."""
        from airsick_lakehouse import connect

        key = hashlib.sha256(
            predictions[["place", "local_date", "model_version", "features"]].to_json().encode()
        ).hexdigest()[:12]
        name = f"{now.date().isoformat()}-v{predictions['model_version'].iloc[0]}-{key}.parquet"
        folder = self.lakehouse.raw(names.PREDICTIONS)
        if not self.lakehouse.on_s3:
            Path(folder).mkdir(parents=True, exist_ok=True)
        path = f"{folder}/{name}"
        # Written beside and renamed, so a process killed mid-write leaves no torn file that
        # readers would trip on (an S3 upload appears whole or not at all by itself).
        target = path if self.lakehouse.on_s3 else f"{folder}/.{name}.writing"
        with connect(self.lakehouse) as con:
            con.register("predictions_frame", predictions)
            con.execute(f"copy (select * from predictions_frame) to '{target}' (format parquet)")
        if target != path:
            Path(target).replace(path)
        return path

    def latest(self, person: str) -> pd.DataFrame:
        """The latest prediction of each place and day from today on."""
        return query(
            self.lakehouse,
            """
            select place, predicts_date, probability, reasons, model_version, evidence_days,
                   prior_people, scored_at
            from read_parquet(?, union_by_name => true)
            where person = ? and predicts_date >= current_date
            qualify row_number() over (
                partition by place, predicts_date order by scored_at desc) = 1
            order by place, predicts_date
            """,
            [self.lakehouse.raw_files(names.PREDICTIONS), person],
            attach=False,
        )
