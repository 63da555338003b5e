"""Nothing lost when things overlap: `kill -9` at each stage of the daily run followed by a
rerun, and a second daily run while one is in progress. (Diary entries and an ingest during
a build: ``test_build_while_writing``.)

After every case the lake, the catalog and the registry must be consistent: raw keys
unique, the build's own tests passing, ``@champion`` on a version the gate promoted, no
version left undecided and no run left RUNNING.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import mlflow
import pytest
from airsick_core.names import model_name
from airsick_core.settings import Settings

from tests.conftest import airsick_command, process_environment
from tests.helpers import read_raw

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

# The events a daily run is killed at: `tests/with_markers.py` writes a marker file as each
# begins.
STAGES = ["ingest", "transform", "train", "register", "promote", "score"]


def new_home(tmp_path, prefect_api: str) -> dict[str, str]:
    """An empty home for the demo persona with 60 days of history: `airsick demo --once`
    (the daily run, offline) writes the diary and does every stage on its first run (two
    months of diary train a personal model; what is checked here is only what a kill
    leaves behind)."""
    return process_environment(
        tmp_path / "home",
        prefect_api,
        AIRSICK_STANDIN_PORT="0",
        AIRSICK_HISTORY_START=(date.today() - timedelta(days=60)).isoformat(),
    )


def daily(env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        airsick_command("--verbose", "demo", "--once"),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_daily(env: dict[str, str], markers: Path) -> subprocess.Popen:
    """The daily run, offline, writing a marker file as each event begins (and its output
    to ``markers/output.log``)."""
    markers.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.with_markers", str(markers), "--", "demo", "--once"],
        env=env,
        cwd=REPO,
        stdout=(markers / "output.log").open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: kill -9 takes all of it
    )


def wait_for_event(process: subprocess.Popen, markers: Path, event: str, timeout: float = 600):
    """Wait until the run has begun ``event``; fail at once, with its output, if it ended."""
    assert event in STAGES, event
    started = time.monotonic()
    while not (markers / event).exists():
        if process.poll() is not None:
            output = (markers / "output.log").read_text()[-3000:]
            pytest.fail(f"the run ended before {event!r}:\n{output}")
        assert time.monotonic() - started < timeout, f"no {event!r} within {timeout} s"
        time.sleep(0.05)


def assert_raw_keys_unique(lake: str) -> None:
    with duckdb.connect() as con:
        for table, key in (
            ("air_quality", "place, time, fetched_at"),
            ("weather", "place, time, fetched_at, source"),
            ("diary", "person, date, event_id"),
            ("predictions", "person, place, local_date, model_version"),
        ):
            files = f"{lake}/raw/{table}"
            if not Path(files).is_dir():
                continue  # not written yet: the run was killed before it
            dup = con.execute(
                f"select count(*) from (select {key} from read_parquet("
                f"'{files}/*.parquet', union_by_name = true) "
                f"group by all having count(*) > 1)"
            ).fetchone()[0]
            assert dup == 0, f"{table} has {dup} duplicated keys"


def assert_consistent(env: dict[str, str]) -> None:
    settings = Settings(home=env["AIRSICK_HOME"])
    lake = settings.lake
    assert_raw_keys_unique(lake)
    client = mlflow.MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    champion = client.get_model_version_by_alias(model_name(settings.person), "champion")
    assert champion.status == "READY" and champion.tags["decision"] == "promoted"
    for version in client.search_model_versions(f"name = '{model_name(settings.person)}'"):
        assert version.tags.get("decision") in ("promoted", "refused", "abandoned"), version
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert not client.search_runs(experiments, filter_string="attributes.status = 'RUNNING'")
    assert len(read_raw(lake, "predictions")) > 0


def test_kill_9_at_each_stage_then_a_rerun_leaves_everything_consistent(tmp_path, prefect_api):
    """One home, its daily run killed at each stage in turn: each rerun gets past the point
    where the run before it was killed (nothing the killed run left blocks it or is counted
    twice) and is killed at the next stage; the last rerun completes.

    A home without a champion trains on every rerun, so train, register and promote are each
    reached again; after the kill at promote the champion may already stand, and the rerun
    still scores. While the last rerun builds, a second one is started: it says a run is in
    progress, and the first completes.
    """
    env = new_home(tmp_path, prefect_api)
    lake = Settings(home=env["AIRSICK_HOME"]).lake
    for stage in STAGES:
        markers = tmp_path / f"killed-at-{stage}"
        process = start_daily(env, markers)
        try:
            wait_for_event(process, markers, stage)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
        assert_raw_keys_unique(lake)

    # The last rerun completes; a second daily run started while it builds is turned away
    # and changes nothing.
    markers = tmp_path / "completes"
    last = start_daily(env, markers)
    try:
        wait_for_event(last, markers, "transform")
        second = daily(env)
        code = last.wait(timeout=600)
    finally:
        if last.poll() is None:
            os.killpg(last.pid, signal.SIGKILL)
    assert second.returncode == 1
    assert "A daily run is already in progress (pid" in second.stdout + second.stderr
    output = (markers / "output.log").read_text()
    assert code == 0 and "chance of being sick" in output, output[-3000:]
    assert_consistent(env)
