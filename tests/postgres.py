"""A throwaway PostgreSQL on loopback, set up as compose's postgres service sets itself up."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from airsick_core.http import free_port

from tests.conftest import REPO

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORDS = {
    "PREFECT_DB_PASSWORD": "prefect-test-password",
    "MLFLOW_DB_PASSWORD": "mlflow-test-password",
    "DUCKLAKE_DB_PASSWORD": "ducklake-test-password",
}


def ducklake_catalog(port: int) -> str:
    """``AIRSICK_DUCKLAKE_CATALOG`` for the DuckLake database of ``postgres()``."""
    return (
        f"postgres:dbname=ducklake host=127.0.0.1 port={port} user=ducklake "
        f"password={PASSWORDS['DUCKLAKE_DB_PASSWORD']}"
    )


@contextlib.contextmanager
def postgres() -> Iterator[int]:
    """A throwaway PostgreSQL cluster on a free loopback port, set up by deploy/postgres."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="airsick-pg-"))
    root.chmod(0o755)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    (root / "sock").mkdir()
    (root / "superuser").write_text("postgres-test-password\n")
    if as_postgres:
        shutil.chown(root, "postgres")
        for path in root.iterdir():
            shutil.chown(path, "postgres")
    port = free_port()
    subprocess.run(
        [
            *as_postgres,
            str(PG_BIN / "initdb"),
            "--pgdata",
            str(root / "data"),
            "--username",
            "postgres",
            "--pwfile",
            str(root / "superuser"),
            "--auth-local",
            "trust",
            "--auth-host",
            "scram-sha-256",
            "--encoding",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root / 'sock'} -c listen_addresses=127.0.0.1"
    pg_ctl = [*as_postgres, str(PG_BIN / "pg_ctl"), "--pgdata", str(root / "data")]
    subprocess.run(
        [*pg_ctl, "--log", str(root / "log"), "--options", options, "--wait", "start"],
        check=True,
        capture_output=True,
    )
    try:
        # The very script the postgres image runs on an empty volume.
        subprocess.run(
            ["sh", str(REPO / "deploy" / "postgres" / "init.sh")],
            env={
                "PATH": os.environ["PATH"],
                "PGHOST": str(root / "sock"),
                "PGPORT": str(port),
                "POSTGRES_USER": "postgres",
                **PASSWORDS,
            },
            check=True,
            capture_output=True,
        )
        yield port
    finally:
        subprocess.run([*pg_ctl, "--mode", "fast", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
