"""Small helpers tests share: reading what landed in the lake."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds


def read_raw(lake: Path | str, table: str, filesystem=None) -> pa.Table:
    """Read every Parquet file of one raw table, or an empty table if there is none."""
    path = f"{str(lake).removeprefix('s3://')}/raw/{table}"
    try:
        dataset = ds.dataset(path, format="parquet", filesystem=filesystem)
    except FileNotFoundError:
        return pa.table({})
    return dataset.to_table()
