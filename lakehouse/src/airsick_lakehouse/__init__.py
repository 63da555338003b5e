"""The lakehouse, shared by every component that reads or builds it: DuckDB, DuckLake, S3.

A small library with no dbt, dlt or Prefect in it, so that the model server and the app
can read the lakehouse without carrying the build tools.
"""

from airsick_lakehouse.lakehouse import (
    Lakehouse,
    connect,
    count_rows,
    data_report,
    maintain,
    snapshots,
)

__all__ = ["Lakehouse", "connect", "count_rows", "data_report", "maintain", "snapshots"]
