"""A run on a Dask cluster refuses the stores its workers on other machines cannot reach."""

from __future__ import annotations

import socket

import pytest
from airsick_core.settings import Settings
from airsick_orchestration import cluster

DEPLOYED = {
    "lake_url": "s3://lake/airsick",
    "ducklake_catalog": "postgres:dbname=ducklake host=db",
    "mlflow_tracking_uri": "http://mlflow:5000",
}


def test_a_cluster_refuses_each_store_of_the_home_in_one_sentence(tmp_path):
    settings = Settings(home=tmp_path, dask_address="tcp://scheduler:8786")
    with pytest.raises(cluster.ClusterError) as refused:
        cluster.check(settings)
    message = str(refused.value)
    assert message.count(".") <= 2 and "\n" not in message  # one sentence
    for setting in ("AIRSICK_DUCKLAKE_CATALOG", "AIRSICK_LAKE_URL", "AIRSICK_MLFLOW_TRACKING_URI"):
        assert setting in message
    assert "unset AIRSICK_DASK_ADDRESS" in message


def test_shared_stores_and_a_scheduler_that_answers_or_this_machine_are_accepted(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as scheduler:
        address = f"tcp://127.0.0.1:{scheduler.getsockname()[1]}"
        cluster.check(Settings(home=tmp_path, dask_address=address, **DEPLOYED))
    cluster.check(Settings(home=tmp_path, dask_address="local"))  # one machine: its own home
    cluster.check(Settings(home=tmp_path))


def test_a_scheduler_that_does_not_answer_is_said_before_anything_runs(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as gone:
        address = f"tcp://127.0.0.1:{gone.getsockname()[1]}"
    with pytest.raises(cluster.ClusterError) as refused:
        cluster.check(Settings(home=tmp_path, dask_address=address, **DEPLOYED))
    message = str(refused.value)
    assert message.startswith(f"The Dask scheduler at {address} does not answer (")
    assert "docker compose up -d dask-scheduler" in message and "\n" not in message


def test_a_scheduler_lost_mid_evening_is_one_sentence_naming_what_is_unfinished():
    message = str(cluster.lost("tcp://10.0.0.5:8786", ["ann", "ben"], 20))
    assert message.startswith("The Dask scheduler at tcp://10.0.0.5:8786 went away")
    assert "(2 of 20 unfinished)" in message and "rerun" in message


def test_a_local_cluster_runs_as_many_trainings_as_their_threads_leave_cores(tmp_path):
    settings = Settings(home=tmp_path, dask_address="local", train_threads=1)
    runner = cluster.task_runner(settings)
    assert runner.cluster_kwargs["n_workers"] == cluster.local_workers(settings) >= 1
    assert runner.cluster_kwargs["threads_per_worker"] == 1
    remote = cluster.task_runner(Settings(home=tmp_path, dask_address="tcp://127.0.0.1:8786"))
    assert remote.address == "tcp://127.0.0.1:8786"
