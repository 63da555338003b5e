"""The lakehouse, shared by every component that reads or builds it: DuckDB, DuckLake, S3.

A small library with no dbt, dlt or Prefect in it, so that the model server and the app
can read the lakehouse without carrying the build tools. Where the lakehouse is (the
``Lakehouse`` description) is ``airsick_core.lake``'s; this opens it.
"""

from airsick_core.lake import Lakehouse

from airsick_lakehouse.lakehouse import (
    after_build,
    connect,
    count_rows,
    current_snapshot,
    data_report,
    has_raw,
    maintain,
    prepare,
    snapshots,
)

__all__ = [
    "Lakehouse",
    "after_build",
    "connect",
    "count_rows",
    "current_snapshot",
    "data_report",
    "has_raw",
    "maintain",
    "prepare",
    "snapshots",
]
