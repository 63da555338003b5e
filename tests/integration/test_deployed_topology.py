"""compose.yml's topology with its real processes, natively on loopback (no Docker here).

PostgreSQL from Debian's packages, set up by compose's own init script (one database and
owner each for Prefect, MLflow and the DuckLake catalog); moto's S3 server in MinIO's place
with the same buckets; `mlflow server` on Postgres with artifacts on S3; `prefect server`
on Postgres; a Dask scheduler and two workers as processes of their own. The daily flow
then runs against them with the deployed settings for four people, their trainings on the
Dask workers (training, registering and loading each champion all through the tracking
server), and the lake, the registry and the predictions are checked where compose would
keep them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import boto3
import httpx
from airsick_core.http import free_port

from tests.conftest import airsick_command, process_environment
from tests.postgres import PASSWORDS, ducklake_catalog, postgres

PEOPLE = ("ann", "ben", "cy")  # beside the demo person


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} not healthy within {timeout} s:\n{log.read_text()[-3000:]}")


def keys(s3, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def persons(s3, prefix: str) -> set[str]:
    """Whose rows the Parquet files under ``prefix`` in the lake bucket hold."""
    import io

    import pyarrow.parquet as pq

    found = set()
    for key in keys(s3, "lake", prefix):
        body = s3.get_object(Bucket="lake", Key=key)["Body"].read()
        found |= set(pq.read_table(io.BytesIO(body)).column("person").to_pylist())
    return found


def test_the_daily_flow_on_the_deployed_topology(moto_s3, tmp_path):
    from airsick_standin.server import StandIn

    s3 = boto3.client(
        "s3",
        endpoint_url=moto_s3["AWS_ENDPOINT_URL"],
        aws_access_key_id=moto_s3["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=moto_s3["AWS_SECRET_ACCESS_KEY"],
        region_name=moto_s3["AWS_REGION"],
    )
    s3.create_bucket(Bucket="mlflow")  # the lake bucket exists already, like minio-init's
    bin_dir = Path(sys.executable).parent
    processes: list[subprocess.Popen] = []

    def start(name: str, command: list[str], env: dict[str, str]) -> tuple[Path, int]:
        log = tmp_path / f"{name}.log"
        processes.append(
            subprocess.Popen(
                command,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        return log

    with postgres() as pg_port, StandIn() as standin:
        try:
            mlflow_port, prefect_port = free_port(), free_port()
            base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PREFECT_"))}
            mlflow_log = start(
                "mlflow",
                [
                    str(bin_dir / "mlflow"),
                    "server",
                    "--backend-store-uri",
                    f"postgresql://mlflow:{PASSWORDS['MLFLOW_DB_PASSWORD']}"
                    f"@127.0.0.1:{pg_port}/mlflow",
                    "--artifacts-destination",
                    "s3://mlflow/artifacts",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(mlflow_port),
                    "--workers",
                    "1",
                ],
                base | moto_s3 | {"MLFLOW_S3_ENDPOINT_URL": moto_s3["AWS_ENDPOINT_URL"]},
            )
            prefect_log = start(
                "prefect",
                [
                    str(bin_dir / "prefect"),
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(prefect_port),
                ],
                base
                | {
                    "PREFECT_HOME": str(tmp_path / "prefect"),
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                    "PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://prefect:"
                    f"{PASSWORDS['PREFECT_DB_PASSWORD']}@127.0.0.1:{pg_port}/prefect",
                },
            )
            mlflow, prefect = f"http://127.0.0.1:{mlflow_port}", f"http://127.0.0.1:{prefect_port}"
            wait_healthy(f"{mlflow}/health", processes[0], mlflow_log)
            wait_healthy(f"{prefect}/api/health", processes[1], prefect_log)

            # The deployments' settings in compose.yml, with loopback addresses.
            env = process_environment(
                tmp_path / "home",
                AIRSICK_LAKE_URL="s3://lake/airsick",
                AIRSICK_DUCKLAKE_CATALOG=ducklake_catalog(pg_port),
                AIRSICK_MLFLOW_TRACKING_URI=mlflow,
                AIRSICK_PREFECT_API_URL=f"{prefect}/api",
                AIRSICK_OPEN_METEO_URL=standin.url,
                AIRSICK_OPEN_METEO_CALLS_PER_MINUTE="0",
                # Two months of air and diary: what is checked here is where everything
                # lands, which three years would only make slower to reach.
                AIRSICK_HISTORY_START=(date.today() - timedelta(days=60)).isoformat(),
                **moto_s3,
            )
            # compose's dask-scheduler and two dask-workers, with the deployments' settings:
            # the evening's trainings run on them (AIRSICK_DASK_ADDRESS).
            dask_port = free_port()
            start(
                "dask-scheduler",
                [
                    str(bin_dir / "dask"),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(dask_port),
                    "--no-dashboard",
                ],
                env,
            )
            scheduler = f"tcp://127.0.0.1:{dask_port}"
            for worker in ("a", "b"):
                start(
                    f"dask-worker-{worker}",
                    [
                        str(bin_dir / "dask"),
                        "worker",
                        scheduler,
                        "--nthreads",
                        "1",
                        "--name",
                        worker,
                        "--no-dashboard",
                    ],
                    env,
                )
            env["AIRSICK_DASK_ADDRESS"] = scheduler
            commands = [("diary", "persona")]
            # Three more people at the demo person's home (its air shared): with no diary,
            # their first training registers the prior; four trainings for two workers.
            commands += [
                ("person", "add", name, "--place", "flat=40.4168,-3.7038,Europe/Madrid")
                for name in PEOPLE
            ]
            for command in (*commands, ("run", "daily")):
                done = subprocess.run(
                    airsick_command(*command),
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=900,
                )
                assert done.returncode == 0, done.stdout + done.stderr
            # The evening, as `airsick run` reports it: one place, a first training, tomorrow.
            summary = json.loads(done.stdout)
            assert summary["places"] == 1 and summary["feature_rows"] > 50
            assert summary["trained"] and summary["retrain_reason"] == "there is no champion yet"
            assert summary["tomorrow"] and 0 < summary["tomorrow"][0]["probability"] < 1
            assert summary["stale"] == []
            assert summary["people"] == 1 + len(PEOPLE) == summary["answered"], summary
            # Each training ran on a worker of the cluster, and both workers had some.
            logs = (
                httpx.post(f"{prefect}/api/logs/filter", json={"limit": 200})
                .raise_for_status()
                .json()
            )
            trained_on = [
                log["message"].split()[-1] for log in logs if "on Dask worker" in log["message"]
            ]
            assert len(trained_on) == 1 + len(PEOPLE), trained_on
            assert len(set(trained_on)) == 2, trained_on

            # The lake: raw Parquet, the DuckLake's feature tables, tomorrow's predictions.
            assert keys(s3, "lake", "airsick/raw/air_quality/")
            assert keys(s3, "lake", "airsick/raw/diary/")
            assert [k for k in keys(s3, "lake", "airsick/warehouse/") if k.endswith(".parquet")]
            assert keys(s3, "lake", "airsick/raw/predictions/")
            # The registry: a champion in Postgres, its artifacts in S3 through the server.
            champion = (
                httpx.get(
                    f"{mlflow}/api/2.0/mlflow/registered-models/alias",
                    params={"name": "airsick-demo", "alias": "champion"},
                )
                .raise_for_status()
                .json()["model_version"]
            )
            assert champion["version"] == "1"
            assert [k for k in keys(s3, "mlflow", "artifacts/") if k.endswith("MLmodel")]
            # Prefect kept the runs in Postgres.
            runs = (
                httpx.post(
                    f"{prefect}/api/flow_runs/filter",
                    json={"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}},
                )
                .raise_for_status()
                .json()
            )
            assert {"daily", "ingest", "transform", "trainings"} <= {
                httpx.get(f"{prefect}/api/flows/{r['flow_id']}").json()["name"] for r in runs
            }
            # ...and what the evening published for people to read in its UI.
            artifacts = httpx.post(f"{prefect}/api/artifacts/filter", json={}).raise_for_status()
            assert {"dbt-build", "promotion-decision", "tomorrow", "everyone"} <= {
                a["key"] for a in artifacts.json()
            }

            # Forgetting the person on S3 and Postgres: their raw files go, the air stays,
            # and the tracking server's runs are deleted (its operator purges them).
            done = subprocess.run(
                airsick_command("forget", "--person", "demo", "--yes"),
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "diary rows" in done.stdout and "mlflow gc" in done.stdout
            assert not keys(s3, "lake", "airsick/raw/diary/")
            # The evening's one predictions file keeps the others' rows, not theirs.
            assert persons(s3, "airsick/raw/predictions/") == set(PEOPLE)
            assert keys(s3, "lake", "airsick/raw/air_quality/")
            deleted = httpx.post(
                f"{mlflow}/api/2.0/mlflow/runs/search",
                json={"experiment_ids": ["1"], "filter": "tags.person = 'demo'"},
            ).json()
            assert not deleted.get("runs")
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 15)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
