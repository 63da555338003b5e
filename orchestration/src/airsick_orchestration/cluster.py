"""The evening's per-person trainings on Dask, when asked (``AIRSICK_DASK_ADDRESS``).

Prefect runs them as tasks through prefect-dask's ``DaskTaskRunner``: on an existing
cluster (a scheduler's address, ``tcp://host:8786``: compose's ``dask-scheduler`` and its
``dask-worker`` services), or on a ``LocalCluster`` of this machine's cores (``local``).
A task is given the person's settings, never their data: each worker reads the lakehouse
and writes its person's runs and versions to MLflow itself. What is shared stays in the
flow's process: the ingest, the one build, the prior, the scoring and the messages.

On a cluster every worker must reach the same state, so a run there refuses a home's own
stores (a SQLite catalog, a lake folder, a local MLflow store).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

from airsick_core.settings import Settings

LOCAL = "local"
SCHEDULER_PORT = 8786
ANSWER_SECONDS = 5
START_IT = "start it (`docker compose up -d dask-scheduler dask-worker`)"


class ClusterError(RuntimeError):
    """The cluster cannot run the evening: the settings, or a scheduler that does not
    answer; the message says what to do."""


def check(settings: Settings) -> None:
    """Refuse, in one sentence, stores that workers on other machines cannot reach, or a
    scheduler that does not answer: before anything is written."""
    if settings.dask_address in (None, "", LOCAL):
        return
    lakehouse = settings.lakehouse
    local = []
    if lakehouse.catalog.startswith("sqlite:"):
        local.append("the DuckLake catalog is a SQLite file (set AIRSICK_DUCKLAKE_CATALOG)")
    if not lakehouse.on_s3:
        local.append("the lake is a folder (set AIRSICK_LAKE_URL to s3://…)")
    if not settings.tracking_uri.startswith(("http://", "https://")):
        local.append("MLflow is a local store (set AIRSICK_MLFLOW_TRACKING_URI to its server)")
    if local:
        raise ClusterError(
            f"The Dask cluster at {settings.dask_address} cannot share this home's own stores: "
            + "; ".join(local)
            + "; or unset AIRSICK_DASK_ADDRESS to run on this machine."
        )
    address = urlsplit(settings.dask_address)
    try:
        socket.create_connection(
            (address.hostname or "127.0.0.1", address.port or SCHEDULER_PORT),
            timeout=ANSWER_SECONDS,
        ).close()
    except OSError as error:
        raise ClusterError(
            f"The Dask scheduler at {settings.dask_address} does not answer ({error}): "
            f"{START_IT}, or unset AIRSICK_DASK_ADDRESS to run on this machine."
        ) from error


def lost(address: str, unfinished: list[str], submitted: int) -> ClusterError:
    """The error of an evening whose cluster went away with trainings unfinished."""
    return ClusterError(
        f"The Dask scheduler at {address} went away during the evening's trainings "
        f"({len(unfinished)} of {submitted} unfinished): {START_IT} again and rerun; "
        "whatever was cut short is settled and trained again."
    )


def local_workers(settings: Settings) -> int:
    """A local cluster's size: AIRSICK_DASK_WORKERS, or as many trainings at once as their
    threads leave cores."""
    if settings.dask_workers:
        return settings.dask_workers
    return max(1, (os.cpu_count() or 1) // max(1, settings.train_threads))


def task_runner(settings: Settings):
    """The ``DaskTaskRunner`` for ``settings.dask_address``."""
    from prefect_dask import DaskTaskRunner

    if settings.dask_address == LOCAL:
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": local_workers(settings),
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    return DaskTaskRunner(address=settings.dask_address)
