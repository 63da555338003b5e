"""The evening's trainings on Dask (``AIRSICK_DASK_ADDRESS=local``: a cluster of this
machine's cores, two single-thread workers here), through prefect-dask's task runner.

A home of four people on twenty days of the demo persona's air (three of them with ten days
of diary each; a diary this short updates the prior, no backtest) has its first evening:
every training runs as a task on a worker process of the cluster, everyone is answered and
gets a champion, and the work is seen on both workers. The runs are recorded in the
session's Prefect server.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import mlflow
from airsick_core.names import model_name
from airsick_core.places import Place
from airsick_core.settings import Settings
from airsick_standin.persona import PersonaDay, diary_events
from airsick_standin.server import StandIn

OTHERS = ("ann", "ben", "cy")


def _training_logs(people: set[str]) -> list[str]:
    """The log lines of ``people``'s trainings on Dask workers, as the Prefect UI shows."""
    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return [log.message for log in await client.read_logs()]

    lines = [m for m in asyncio.run(read()) if "on Dask worker" in m]
    return [m for m in lines if m.split()[1] in people]


def test_the_evening_trains_everyone_on_a_local_dask_cluster(tmp_path, prefect_api):
    from airsick_orchestration import flows, steps
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with StandIn() as standin, temporary_settings(updates={PREFECT_API_URL: prefect_api}):
        settings = Settings(
            home=tmp_path / "home",
            open_meteo_url=standin.url,
            open_meteo_calls_per_minute=0,
            dask_address="local",
            train_threads=1,
        )
        settings = settings.model_copy(
            update={"history_start": settings.today() - timedelta(days=20)}
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
        logs = _training_logs({settings.person, *OTHERS})

    assert summary["people"] == 4 and summary["answered"] == 4, summary
    assert summary["failed"] == {}, summary
    client = mlflow.MlflowClient(
        tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri
    )
    for person in (settings.person, *OTHERS):
        assert client.get_model_version_by_alias(model_name(person), "champion")
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
