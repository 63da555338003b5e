"""The evening's trainings on Dask (``AIRSICK_DASK_ADDRESS=local``: a cluster of this
machine's cores, two single-thread workers here), through prefect-dask's task runner.

A home of four people on forty-five days of the demo persona's air (three of them with ten
days of diary each) has its first evening: every training runs as a task on a worker process
of the cluster, everyone is answered and gets a champion, and the work is seen on both
workers.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import mlflow
import pytest
from airsick_core.names import model_name
from airsick_core.places import Place
from airsick_core.settings import Settings
from airsick_standin.persona import PersonaDay, diary_events
from airsick_standin.server import StandIn

OTHERS = ("ann", "ben", "cy")


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _training_logs() -> list[str]:
    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return [log.message for log in await client.read_logs()]

    return [m for m in asyncio.run(read()) if "on Dask worker" in m]


def test_the_evening_trains_everyone_on_a_local_dask_cluster(tmp_path, harness):
    from airsick_orchestration import flows, steps

    with StandIn() as standin:
        settings = Settings(
            home=tmp_path / "home",
            open_meteo_url=standin.url,
            open_meteo_calls_per_minute=0,
            dask_address="local",
            train_threads=1,
        )
        settings = settings.model_copy(
            update={"history_start": settings.today() - timedelta(days=45)}
        )
        steps.create_persona(settings)
        people = steps.stores(settings).people
        steps.everyone(settings)  # the default person, as on first use
        today = settings.today()
        for index, name in enumerate(OTHERS):
            people.add(name, [Place("flat", 40.4168, -3.7038, "Europe/Madrid")])
            days = [
                PersonaDay(today - timedelta(days=d), 0.3, d % 3 == index) for d in range(1, 11)
            ]
            steps.stores(settings).diary.append(diary_events(name, days, seed=index))
        summary = flows.daily_flow(settings)

    assert summary["people"] == 4 and summary["answered"] == 4, summary
    assert summary["failed"] == {}, summary
    client = mlflow.MlflowClient(
        tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri
    )
    for person in (settings.person, *OTHERS):
        assert client.get_model_version_by_alias(model_name(person), "champion")
    logs = _training_logs()
    assert sorted(line.split()[1] for line in logs) == sorted((settings.person, *OTHERS))
    workers = {line.rsplit(" ", 1)[1] for line in logs}
    assert len(workers) == 2, logs  # both workers of the cluster trained someone


def test_a_cluster_with_the_homes_own_stores_is_refused_before_anything_runs(tmp_path):
    import subprocess

    from tests.conftest import airsick_command, process_environment

    env = process_environment(tmp_path / "home", AIRSICK_DASK_ADDRESS="tcp://127.0.0.1:8786")
    done = subprocess.run(
        airsick_command("run"), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert said.startswith("error: The Dask cluster at tcp://127.0.0.1:8786 cannot share"), said
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "home" / "lake").exists()  # nothing was written
