"""Remove one person from the raw zone: their diary, predictions and persona truth.

The raw zone is append-only for everything else; forgetting is the one exception, asked for
by the person (``airsick forget``). Each Parquet file holding their rows is rewritten
without them (or deleted when nothing else is in it), and the diary pipeline's state
forgets the content hashes of their entries, so that a later import writes them anew.
Other people's rows and the air are untouched.

dlt keeps history of its own that names the person: each loaded package (its state and,
before ``delete_completed_jobs``, its data files) under the pipelines folder, and every
earlier state of the diary pipeline in the lake (``_dlt_pipeline_state``). Both go: the
packages are bookkeeping only, and the pipeline's current state stays in its folder and
reaches the lake again with the next diary entry.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dlt
import fsspec
import pyarrow.compute as pc
import pyarrow.parquet as pq
from airsick_core.lake import S3Access, is_remote, raw_path
from airsick_core.names import PERSONAL_TABLES

from airsick_ingestion.diary.source import PIPELINE_NAME, TABLE_NAME
from airsick_ingestion.pipelines import make_pipeline, pipeline_lock

# Where dlt keeps each pipeline's state in the dataset it loads.
STATE_TABLE = "_dlt_pipeline_state"


def _filesystem(lake_url: str, s3: S3Access | None):
    if not is_remote(lake_url):
        return fsspec.filesystem("file"), str(Path(lake_url).resolve())
    s3 = s3 or S3Access()
    fs = fsspec.filesystem(
        "s3",
        key=s3.access_key_id,
        secret=s3.secret_access_key,
        client_kwargs={"endpoint_url": s3.endpoint_url, "region_name": s3.region},
    )
    return fs, lake_url.split("://", 1)[1].rstrip("/")


def forget_raw(lake_url: str, person: str, s3: S3Access | None = None) -> dict[str, int]:
    """Remove ``person``'s rows from the raw zone; return the rows removed per table."""
    fs, root = _filesystem(lake_url, s3)
    removed: dict[str, int] = {}
    for table in PERSONAL_TABLES:
        for path in sorted(fs.glob(f"{raw_path(root, table)}/*.parquet")):
            with fs.open(path, "rb") as handle:
                rows = pq.read_table(handle)
            if "person" not in rows.column_names:
                continue
            keep = rows.filter(pc.invert(pc.equal(rows["person"], person)))
            gone = rows.num_rows - keep.num_rows
            if not gone:
                continue
            if keep.num_rows:
                # Written beside, then moved over: a crash leaves the old file or the new one.
                with fs.open(f"{path}.forgetting", "wb") as handle:
                    pq.write_table(keep, handle)
                fs.mv(f"{path}.forgetting", path)
            else:
                fs.rm(path)
            removed[table] = removed.get(table, 0) + gone
    return removed


@dlt.resource(name=TABLE_NAME, write_disposition="append")
def _forgotten_entries(person: str):
    """Yield nothing; drop the person's entries from the diary resource's state."""
    latest = dlt.current.resource_state().setdefault("latest", {})
    for key in [k for k in latest if k.split("/", 1)[0] == person]:
        del latest[key]
    yield from ()


@dlt.source(name="diary", max_table_nesting=0)
def _forget_source(person: str):
    return _forgotten_entries(person)


def forget_diary_state(
    lake_url: str, pipelines_dir: Path, person: str, s3: S3Access | None = None
) -> None:
    """Make the diary pipeline forget which entries of ``person`` it has written."""
    with pipeline_lock(pipelines_dir, PIPELINE_NAME):
        pipeline = make_pipeline(PIPELINE_NAME, lake_url, pipelines_dir, s3)
        pipeline.run(_forget_source(person))


def forget_pipeline_history(lake_url: str, pipelines_dir: Path, s3: S3Access | None = None) -> int:
    """Delete dlt's loaded packages and the diary pipeline's earlier states in the lake;
    return how many files and folders went."""
    removed = 0
    for loaded in pipelines_dir.glob("*/load/loaded"):
        for package in loaded.iterdir():
            if package.is_dir():
                shutil.rmtree(package)
            else:
                package.unlink()
            removed += 1
    fs, root = _filesystem(lake_url, s3)
    with pipeline_lock(pipelines_dir, PIPELINE_NAME):
        for path in fs.glob(f"{raw_path(root, STATE_TABLE)}/{PIPELINE_NAME}__*"):
            fs.rm(path)
            removed += 1
    return removed
