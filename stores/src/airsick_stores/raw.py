"""The raw zone: what dlt landed, append-only, as the API and the person sent it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from airsick_core import names
from airsick_core.lake import Lakehouse, S3Access

from airsick_stores.reading import query


@dataclass(frozen=True)
class Forgotten:
    rows: dict[str, int]  # rows removed per raw table
    pipeline_files: int  # dlt's loaded packages and the diary pipeline's earlier states


@dataclass(frozen=True)
class RawZone:
    lakehouse: Lakehouse
    pipelines_dir: Path
    s3: S3Access | None = None

    def last_fetched(self, table: str = names.AIR_QUALITY) -> datetime | None:
        """When ``table`` (air quality unless told) was last fetched, or None if never."""
        import pandas as pd

        found = query(
            self.lakehouse,
            "select max(fetched_at) as at from read_parquet(?, union_by_name => true)",
            [self.lakehouse.raw_files(table)],
            attach=False,
        )
        if found.empty or pd.isna(found["at"].iloc[0]):
            return None
        return pd.Timestamp(found["at"].iloc[0]).to_pydatetime()

    def forget(self, person: str) -> Forgotten:
        """Remove ``person``'s rows from every personal raw table (diary, predictions,
        persona truth), then dlt's history of what it loaded (which names them too)."""
        from airsick_ingestion.forget import forget_pipeline_history, forget_raw

        lake_url = self.lakehouse.lake_url
        rows = forget_raw(lake_url, person, self.s3)
        files = forget_pipeline_history(lake_url, self.pipelines_dir, self.s3)
        return Forgotten(rows, files)
