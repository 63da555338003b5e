"""Purging deleted runs from a local MLflow store: ``mlflow gc``, and what it leaves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from airsick_core.sqlite import sqlite_file, vacuum


def purge(tracking_uri: str, run_ids: set[str], logged: list[str], folders: list[str]) -> None:
    """Purge deleted runs and logged models with their artifacts, then what ``mlflow gc``
    (MLflow 3.17) leaves: dataset links, emptied folders, the SQLite file's free pages."""
    command = [
        sys.executable, "-m", "mlflow", "gc",
        "--backend-store-uri", tracking_uri,
        "--run-ids", ",".join(sorted(run_ids)),
    ]  # fmt: skip
    if logged:
        command += ["--logged-model-ids", ",".join(logged)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri},
    )
    if done.returncode:
        raise RuntimeError(f"mlflow gc failed: {done.stderr.strip().splitlines()[-1]}")
    _purge_dataset_links(tracking_uri, run_ids)
    _remove_empty_folders(folders)
    store = sqlite_file(tracking_uri)
    if store is not None:
        vacuum(store)


def _remove_empty_folders(uris: list[str]) -> None:
    """Remove the local artifact folders ``mlflow gc`` emptied (and leaves behind)."""
    for uri in uris:
        if not uri.startswith("file:"):
            continue
        folder = Path(urlsplit(uri).path)
        top = folder.parent if folder.name == "artifacts" else folder
        if top.is_dir() and not any(p.is_file() for p in top.rglob("*")):
            shutil.rmtree(top)


def _purge_dataset_links(tracking_uri: str, run_ids: set[str]) -> None:
    """Remove purged runs' input links from a database store, and the datasets no run
    uses any more (``mlflow gc`` keeps both)."""
    import sqlalchemy as sa

    engine = sa.create_engine(tracking_uri)
    ids = sa.bindparam("ids", expanding=True)
    with engine.begin() as con:
        gone = [
            row[0]
            for row in con.execute(
                sa.text(
                    "select input_uuid from inputs "
                    "where destination_id in :ids or source_id in :ids"
                ).bindparams(ids),
                {"ids": sorted(run_ids)},
            )
        ]
        if gone:
            for table in ("input_tags", "inputs"):
                con.execute(
                    sa.text(f"delete from {table} where input_uuid in :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": gone},
                )
        con.execute(
            sa.text(
                "delete from datasets where dataset_uuid not in "
                "(select source_id from inputs where source_type = 'DATASET')"
            )
        )
    engine.dispose()
