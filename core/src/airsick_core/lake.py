"""Where the lake is, how its raw zone is laid out, and where the lakehouse keeps its tables.

Descriptions only: ``airsick_lakehouse`` opens them with DuckDB, dlt writes the raw zone,
dbt builds the lakehouse. Nothing here touches the disk or the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# The raw zone: one folder of Parquet files per table (``names``) under the lake's root.
RAW_ZONE = "raw"
# Where DuckLake writes the lakehouse's data files, beside the raw zone.
WAREHOUSE_ZONE = "warehouse"


def is_remote(lake_url: str) -> bool:
    return lake_url.startswith(("s3://", "s3a://"))


def raw_path(lake_url: str, table: str = "") -> str:
    """The raw zone's folder of ``table`` under ``lake_url`` (the zone itself without one)."""
    return "/".join(part for part in (lake_url.rstrip("/"), RAW_ZONE, table) if part)


def default_extension_directory() -> Path:
    """DuckDB's own default for its extensions, resolved without relying on $HOME being set."""
    return Path.home() / ".duckdb" / "extensions"


@dataclass(frozen=True)
class S3Access:
    """How to reach an S3-compatible store (MinIO when deployed, moto in tests)."""

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str = "us-east-1"


@dataclass(frozen=True)
class Lakehouse:
    """Where everything dbt builds lives, and how to reach the raw zone beside it.

    Args:
        lake_url: root of the lake, a folder or ``s3://bucket/prefix``; raw is under ``raw/``.
        catalog: DuckLake catalog, ``sqlite:<file>`` or ``postgres:<libpq connection string>``.
        s3_endpoint_url, s3_key_id, s3_secret, s3_region: S3 access when the lake is on S3.
        extension_dir: where DuckDB finds its extensions (installed there from PyPI).
        threads: how many threads DuckDB may use (None: as many as the cores).
        snapshot: read the lakehouse as of this DuckLake snapshot (None: the latest); the
            evening's trainings on a cluster read the build they follow, whatever is
            committed while they run.
    """

    lake_url: str
    catalog: str
    s3_endpoint_url: str | None = None
    s3_key_id: str | None = None
    s3_secret: str | None = None
    s3_region: str = "us-east-1"
    extension_dir: Path = field(default_factory=default_extension_directory)
    threads: int | None = None
    snapshot: int | None = None

    @property
    def on_s3(self) -> bool:
        return is_remote(self.lake_url)

    @property
    def data_path(self) -> str:
        return f"{self.lake_url.rstrip('/')}/{WAREHOUSE_ZONE}/"

    def raw(self, table: str) -> str:
        """The raw zone's folder of ``table`` (dlt writes it, dbt and the readers read it)."""
        return raw_path(self.lake_url, table)

    def raw_files(self, table: str) -> str:
        """The glob of ``table``'s Parquet files in the raw zone, as ``read_parquet`` takes it."""
        return f"{self.raw(table)}/*.parquet"

    @property
    def dbt_target(self) -> str:
        if self.catalog.startswith("postgres:"):
            return "deployed"
        return "s3" if self.on_s3 else "local"

    def dbt_environment(self) -> dict[str, str]:
        """Return the variables ``transform/dbt/profiles.yml`` reads."""
        env = {
            "AIRSICK_RAW": raw_path(self.lake_url),
            "AIRSICK_DUCKLAKE_CATALOG": self.catalog,
            "AIRSICK_DUCKLAKE_DATA_PATH": self.data_path,
            "AIRSICK_DBT_TARGET": self.dbt_target,
            "AIRSICK_DUCKDB_EXTENSION_DIR": str(self.extension_dir),
            "AIRSICK_DBT_DUCKDB_THREADS": str(self.threads or os.cpu_count() or 1),
        }
        if self.on_s3:
            endpoint = urlsplit(self.s3_endpoint_url or "https://s3.amazonaws.com")
            env |= {
                "AIRSICK_S3_ENDPOINT": endpoint.netloc,
                "AIRSICK_S3_USE_SSL": "true" if endpoint.scheme == "https" else "false",
                "AWS_ACCESS_KEY_ID": self.s3_key_id or "",
                "AWS_SECRET_ACCESS_KEY": self.s3_secret or "",
                "AWS_REGION": self.s3_region,
            }
        return env

    def s3_secret_sql(self) -> str | None:
        if not self.on_s3:
            return None
        endpoint = urlsplit(self.s3_endpoint_url or "https://s3.amazonaws.com")
        return (
            "CREATE OR REPLACE SECRET airsick_s3 (TYPE s3, KEY_ID $key, SECRET $secret, "
            f"REGION $region, ENDPOINT '{endpoint.netloc}', URL_STYLE 'path', "
            f"USE_SSL {'true' if endpoint.scheme == 'https' else 'false'})"
        )
