"""Where raw data lands: the dlt filesystem destination over a folder or an S3 bucket.

The dataset is the raw zone (``airsick_core.lake``): dlt writes ``<lake>/raw/<table>``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import dlt
from airsick_core.lake import RAW_ZONE, S3Access, is_remote
from airsick_core.places import Place
from dlt.common.configuration.specs import AwsCredentials
from dlt.common.destination import Destination
from dlt.pipeline.exceptions import PipelineStepFailed

# Places per load package: a failure keeps what earlier packages loaded, and each package
# costs dlt's bookkeeping (state, normalize, load) once, not once per place.
PLACES_PER_PACKAGE = 10


def in_packages(places: Sequence[Place]) -> Iterator[list[Place]]:
    """The places, PLACES_PER_PACKAGE at a time, in order."""
    for start in range(0, len(places), PLACES_PER_PACKAGE):
        yield list(places[start : start + PLACES_PER_PACKAGE])


def lake_destination(lake_url: str, s3: S3Access | None = None) -> Destination:
    """Return a dlt filesystem destination writing Parquet under ``lake_url``."""
    if not is_remote(lake_url):
        Path(lake_url).mkdir(parents=True, exist_ok=True)
        return dlt.destinations.filesystem(bucket_url=Path(lake_url).resolve().as_uri())
    s3 = s3 or S3Access()
    credentials = AwsCredentials(
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
    )
    return dlt.destinations.filesystem(bucket_url=lake_url, credentials=credentials)


def quiet_dlt() -> None:
    """Turn off dlt's telemetry (no network here) and stamp each row with its load id."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")


def make_pipeline(
    name: str, lake_url: str, pipelines_dir: Path, s3: S3Access | None
) -> dlt.Pipeline:
    """Build the dlt pipeline that appends to the raw dataset of the lake."""
    quiet_dlt()
    # A loaded package's data files are a second copy of what is in the lake (the diary
    # included): dlt deletes them once loaded, and keeps only the package's bookkeeping.
    dlt.config["load.delete_completed_jobs"] = True
    return dlt.pipeline(
        pipeline_name=name,
        destination=lake_destination(lake_url, s3),
        dataset_name=RAW_ZONE,
        pipelines_dir=str(pipelines_dir),
    )


def finish_interrupted(pipeline: dlt.Pipeline) -> int:
    """Load packages an earlier, interrupted run left behind; return how many there were.

    Normalize and load are called directly: ``pipeline.run`` would first sync with the
    destination, and on a first load that never reached it, dlt wipes the local pipeline,
    pending packages and incremental state included.
    """
    pending = len(pipeline.list_extracted_load_packages()) + len(
        pipeline.list_normalized_load_packages()
    )
    if pipeline.list_extracted_load_packages():
        pipeline.normalize()
    if pipeline.list_normalized_load_packages():
        pipeline.load()
    # Now that nothing is pending, take the state from the lake if it is newer (a lost or
    # fresh pipeline folder resumes where the lake says).
    pipeline.sync_destination()
    return pending


def run_or_explain(pipeline: dlt.Pipeline, data, explained: tuple[type[Exception], ...]):
    """Run ``pipeline`` on ``data``; re-raise the first error in ``explained`` as itself.

    dlt wraps an error raised inside a resource in two layers of its own; a user is better
    served by the original one-sentence message (for example the API's reason for a 400).
    """
    try:
        return pipeline.run(data)
    except PipelineStepFailed as failure:
        cause: BaseException | None = failure
        while cause is not None:
            if isinstance(cause, explained):
                raise cause from failure
            cause = cause.__cause__ or getattr(cause, "exception", None)
        raise


@contextlib.contextmanager
def locked_pipeline(
    name: str, lake_url: str, pipelines_dir: Path, s3: S3Access | None
) -> Iterator[tuple[dlt.Pipeline, int]]:
    """One writer per pipeline at a time: wait for its lock, then yield the pipeline and how
    many packages an earlier, interrupted run left that are now loaded."""
    with pipeline_lock(pipelines_dir, name):
        pipeline = make_pipeline(name, lake_url, pipelines_dir, s3)
        yield pipeline, finish_interrupted(pipeline)


def load_rows(
    pipeline: dlt.Pipeline, data, table: str, explained: tuple[type[Exception], ...] = ()
) -> int:
    """Run ``pipeline`` on ``data`` (see ``run_or_explain``); return the rows ``table`` got."""
    run_or_explain(pipeline, data, explained)
    return pipeline.last_trace.last_normalize_info.row_counts.get(table, 0)


@contextlib.contextmanager
def pipeline_lock(pipelines_dir: Path, name: str) -> Iterator[None]:
    """Wait for, then hold, one dlt pipeline's lock (released when the process ends)."""
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    with (pipelines_dir / f"{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
