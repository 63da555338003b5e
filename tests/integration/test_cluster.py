"""A run on a Dask cluster from a home with its own stores is refused before anything runs.

The evening on a real cluster (a scheduler and two workers, twenty people, a worker killed)
is ``test_deployed_topology``; a `local` cluster's evening is the ``cluster`` benchmark.
"""

from __future__ import annotations


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
