"""Nothing lost when things overlap: two daily runs at once, diary entries written during a
build, and `kill -9` at each stage of the daily run followed by a rerun.

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
    """An empty home for the demo persona with 200 days of history: `airsick demo --once`
    (the daily run, offline) writes the diary and does every stage on its first run."""
    return process_environment(
        tmp_path / "home",
        prefect_api,
        AIRSICK_STANDIN_PORT="0",
        AIRSICK_HISTORY_START=(date.today() - timedelta(days=200)).isoformat(),
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
    client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri)
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
    still scores.
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
    again = daily(env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "chance of being sick" in again.stdout
    assert_consistent(env)


def test_a_second_daily_run_says_one_is_in_progress_and_the_first_completes(tmp_path, prefect_api):
    env = new_home(tmp_path, prefect_api)
    first = start_daily(env, tmp_path / "markers")
    wait_for_event(first, tmp_path / "markers", "transform")
    second = daily(env)
    assert second.returncode == 1
    assert "A daily run is already in progress (pid" in second.stdout + second.stderr
    assert first.wait(timeout=600) == 0
    assert_consistent(env)


def test_diary_entries_written_during_a_build_land_once_and_reach_the_next(tmp_path, prefect_api):
    env = new_home(tmp_path, prefect_api)
    for command in (("diary", "persona"), ("ingest", "--standin")):
        done = subprocess.run(
            airsick_command(*command), env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    build = subprocess.Popen(airsick_command("transform"), env=env)
    days = [(date.today() - timedelta(days=n)).isoformat() for n in (3, 4, 5, 6)]
    writers = [
        subprocess.Popen(
            airsick_command("diary", "log", "--date", day, "--sick", "--note", f"written {day}"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for day in days
    ]
    assert [w.wait(timeout=300) for w in writers] == [0] * len(writers)
    assert build.wait(timeout=600) == 0
    notes = read_raw(Settings(home=env["AIRSICK_HOME"]).lake, "diary")["note"].to_pylist()
    for day in days:
        assert notes.count(f"written {day}") == 1
    rebuilt = subprocess.run(
        airsick_command("transform"), env=env, capture_output=True, text=True, timeout=600
    )
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    settings = Settings(home=env["AIRSICK_HOME"])
    from airsick_lakehouse import connect

    with connect(settings.lakehouse) as con:
        sick = con.execute(
            "select count(*) from lake.marts.fct_daily_features "
            "where local_date + 1 in (select unnest(?::date[])) and sick_next_day",
            [days],
        ).fetchone()[0]
    assert sick == len(days)
