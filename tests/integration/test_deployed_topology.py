"""compose.yml's topology with its real processes, natively on loopback (no Docker here).

PostgreSQL from Debian's packages, set up by compose's own init script (one database and
owner each for Prefect, MLflow and the DuckLake catalog); moto's S3 server in MinIO's place
with the same buckets; `mlflow server` on Postgres with artifacts on S3; `prefect server`
on Postgres; a Dask scheduler and two workers as processes of their own. The daily flow
then runs against them with the deployed settings for twenty people, their trainings on
the Dask workers (training, registering and loading each champion all through the tracking
server), one worker killed (`kill -9`) in the middle, and the lake, the registry and the
predictions are checked where compose would keep them. Before it, a run whose scheduler is
gone is refused in one sentence.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import boto3
import httpx
from airsick_core.http import free_port

from tests.conftest import airsick_command, process_environment
from tests.postgres import PASSWORDS, ducklake_catalog, postgres

# Nineteen people beside the demo person, all at its home.
PEOPLE = ("ann", "ben", "cy", *(f"p{number:02d}" for number in range(4, 20)))
MADRID = "flat=40.4168,-3.7038,Europe/Madrid"
ADD_PEOPLE = """
import sys
from airsick_core.places import parse_places
from airsick_core.settings import Settings
from airsick_orchestration import steps

settings = Settings()
steps.create_persona(settings)  # the demo persona's diary (`airsick diary persona`)
steps.everyone(settings)  # the default person, as on first use
people = steps.stores(settings).people
for name in sys.argv[1:]:
    people.add(name, parse_places("MADRID"))
""".replace("MADRID", MADRID)


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


def airsick(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        airsick_command(*args), env=env, capture_output=True, text=True, timeout=900
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def wait_listening(port: int, process: subprocess.Popen) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


def python(env: dict[str, str], code: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def prefect_logs(prefect: str, **sort) -> Iterator[str]:
    """Every log message the Prefect server holds (``sort``: the newest first)."""
    offset = 0
    while True:
        page = (
            httpx.post(
                f"{prefect}/api/logs/filter",
                json={"offset": offset, "limit": 200, "sort": "TIMESTAMP_ASC", **sort},
            )
            .raise_for_status()
            .json()
        )
        yield from (log["message"] for log in page)
        if len(page) < 200 or sort:
            return
        offset += 200


def training_lines(prefect: str) -> list[tuple[str, str]]:
    """(person, worker address) of each training task's start, in order."""
    return [
        (message.split()[1], message.split()[-1])
        for message in prefect_logs(prefect)
        if message.startswith("training ") and " on Dask worker " in message
    ]


def kill_the_worker_training(
    person: str, prefect: str, workers: dict, evening: subprocess.Popen
) -> str:
    """Wait until ``person``'s training starts on a worker, kill that worker's process group
    (``kill -9``: the nanny and the worker, as a machine that dies); return its address."""
    import re

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert evening.poll() is None, evening.communicate()
        for message in prefect_logs(prefect, sort="TIMESTAMP_DESC"):
            if message.startswith(f"training {person} on Dask worker "):
                address = message.split()[-1]
                for process, log in workers.values():
                    if address in re.findall(r"Start worker at:\s+(\S+)", log.read_text()):
                        os.killpg(process.pid, 9)
                        return address
                raise AssertionError(f"no worker of ours is at {address}")
        time.sleep(0.3)
    raise AssertionError(f"{person}'s training did not start on a worker")


def mlflow_client(url: str):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=url, registry_uri=url)


def prediction_rows(s3):
    """Every prediction row in the lake's raw zone."""
    import io

    import pandas as pd
    import pyarrow.parquet as pq

    frames = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket="lake", Key=key)["Body"].read())).to_pandas()
        for key in keys(s3, "lake", "airsick/raw/predictions/")
        if key.endswith(".parquet")
    ]
    return pd.concat(frames, ignore_index=True)


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
            scheduler = f"tcp://127.0.0.1:{dask_port}"
            # Logs reach Prefect within half a second (2 s by default): the kill below waits
            # for the log line that says which worker trains whom.
            env["PREFECT_LOGGING_TO_API_BATCH_INTERVAL"] = "0.5"

            def start_scheduler() -> subprocess.Popen:
                start(
                    "dask-scheduler",
                    [
                        str(bin_dir / "dask"),
                        "scheduler",
                        *("--host", "127.0.0.1", "--port", str(dask_port)),
                        "--no-dashboard",
                    ],
                    env,
                )
                return processes[-1]

            def start_worker(name: str) -> tuple[subprocess.Popen, Path]:
                log = start(
                    f"dask-worker-{name}",
                    [
                        str(bin_dir / "dask"),
                        "worker",
                        scheduler,
                        *("--nthreads", "1", "--name", name, "--no-dashboard"),
                    ],
                    env,
                )
                return processes[-1], log

            # The scheduler gone (kill -9) before the evening: the run fails at once saying
            # so, and writes nothing; started again (compose restarts it), with its two
            # workers, the next run completes.
            dask_scheduler = start_scheduler()
            wait_listening(dask_port, dask_scheduler)
            os.killpg(dask_scheduler.pid, 9)
            dask_scheduler.wait()
            env["AIRSICK_DASK_ADDRESS"] = scheduler
            refused = airsick(env, "run", "daily", check=False)
            said = " ".join(refused.stderr.split())
            assert refused.returncode == 1, refused.stdout + refused.stderr
            assert said.startswith(f"error: The Dask scheduler at {scheduler} does not answer")
            assert "Traceback" not in refused.stdout + refused.stderr
            assert not keys(s3, "lake", "airsick/")  # nothing was written
            start_scheduler()
            workers = {name: start_worker(name) for name in ("a", "b")}
            # The demo persona's diary, eighteen people at once and one more as a user adds
            # them: all at the demo person's home (its air shared); with no diary, their
            # first training registers the prior. Twenty trainings for two workers.
            python(env, ADD_PEOPLE, *PEOPLE[:-1])
            airsick(env, "person", "add", PEOPLE[-1], "--place", MADRID)

            # The evening, and one worker killed (kill -9, nanny and all) while it trains the
            # demo person: Dask runs that training again on the other worker.
            evening = subprocess.Popen(
                airsick_command("run", "daily"),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            killed = kill_the_worker_training("demo", prefect, workers, evening)
            out, err = evening.communicate(timeout=900)
            assert evening.returncode == 0, out + err
            # The evening, as `airsick run` reports it: one place, a first training, tomorrow.
            summary = json.loads(out)
            assert summary["places"] == 1 and summary["feature_rows"] > 50
            assert summary["trained"] and summary["retrain_reason"] == "there is no champion yet"
            assert summary["tomorrow"] and 0 < summary["tomorrow"][0]["probability"] < 1
            assert summary["stale"] == []
            # Nobody skipped, nobody failed.
            assert summary["people"] == 1 + len(PEOPLE) == summary["answered"], summary
            assert summary["failed"] == {}, summary
            # Each training ran on a worker of the cluster, both workers had some, and the
            # demo person's, cut short by the kill, ran again on the other one.
            trained_on = training_lines(prefect)
            assert {person for person, _ in trained_on} == {"demo", *PEOPLE}, trained_on
            assert len({worker for _, worker in trained_on}) == 2, trained_on
            demo_on = [worker for person, worker in trained_on if person == "demo"]
            assert demo_on[0] == killed and len(demo_on) == 2 and demo_on[1] != killed, demo_on
            # No half-registered version, no run left RUNNING, one champion each.
            client = mlflow_client(mlflow)
            for person in ("demo", *PEOPLE):
                name = f"airsick-{person}"
                assert client.get_model_version_by_alias(name, "champion").tags["decision"] == (
                    "promoted"
                )
                for version in client.search_model_versions(f"name = '{name}'"):
                    assert version.tags.get("decision") in ("promoted", "refused", "abandoned")
            experiments = [e.experiment_id for e in client.search_experiments()]
            assert not client.search_runs(experiments, "attributes.status = 'RUNNING'")
            # No duplicated prediction: one row per person, place, day and model version.
            predictions = prediction_rows(s3)
            assert set(predictions["person"]) == {"demo", *PEOPLE}
            key = ["person", "place", "local_date", "model_version"]
            assert not predictions.duplicated(key).any()

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
            assert "champion" in champion["aliases"]
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
