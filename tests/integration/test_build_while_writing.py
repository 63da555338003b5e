"""A build while people write: diary entries logged (one after another, and several at
once) and air ingested while `airsick transform` runs never fail the build, and the next
build has every entry exactly once, its label in the feature mart.

Every staging model that reads the raw zone is a table built at the start of the build, so
each build reads each raw table once; what lands later waits for the next build.
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import timedelta

import pytest
from airsick_core.settings import Settings
from airsick_lakehouse.lakehouse import connect
from airsick_orchestration import optional, steps

from tests.conftest import airsick_command, process_environment
from tests.helpers import read_raw

pytestmark = pytest.mark.integration

ENTRIES = 15


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Four months of the demo persona's diary and air, not yet built."""
    root = tmp_path_factory.mktemp("build-while-writing")
    settings = Settings(home=root / "home", standin_port=0)
    settings = settings.model_copy(update={"history_start": settings.today() - timedelta(days=120)})
    with optional.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    return settings


def test_entries_and_an_ingest_during_a_build_never_fail_it(home):
    env = process_environment(
        home.home, AIRSICK_HISTORY_START=home.history_start.isoformat(), AIRSICK_STANDIN_PORT="0"
    )
    build = subprocess.Popen(
        airsick_command("transform"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    written: list[str] = []
    # Four people's worth of entries at the same moment (older days), each its own process.
    burst = [(home.today() - timedelta(days=back)).isoformat() for back in range(20, 24)]
    writers = [
        subprocess.Popen(
            airsick_command("diary", "log", "--sick", "--date", day, "--note", f"at once {day}"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for day in burst
    ]
    # An ingest of the last days, in this process, while the build runs.
    ingest = threading.Thread(target=lambda: _ingest_recent(home))
    ingest.start()
    # Corrections of the last fifteen days, one `airsick diary log` each, as a person would.
    for back in range(ENTRIES):
        day = (home.today() - timedelta(days=back)).isoformat()
        logged = subprocess.run(
            airsick_command("diary", "log", "--sick", "--date", day, "--note", f"during {back}"),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert logged.returncode == 0, logged.stdout + logged.stderr
        written.append(day)
        if build.poll() is not None:
            break
    assert [w.wait(timeout=300) for w in writers] == [0] * len(writers)
    ingest.join(timeout=600)
    output, _ = build.communicate(timeout=600)
    assert build.returncode == 0, output
    assert written, "no entry was logged while the build ran"

    # The next build has every entry, once, and the latest of each day.
    again = subprocess.run(
        airsick_command("transform"), env=env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stdout + again.stderr
    raw = read_raw(home.lake, "diary").to_pandas()
    with connect(home.lakehouse) as con:
        staged = con.execute(
            "select cast(diary_date as varchar), is_sick, note from lake.staging.stg_diary__events"
        ).fetchall()
    days = [row[0] for row in staged]
    assert len(days) == len(set(days)) == raw["date"].astype(str).nunique()
    notes = {day: (sick, note) for day, sick, note in staged}
    for back, day in enumerate(written):
        assert notes[day] == (True, f"during {back}"), day
    for day in burst:
        assert notes[day] == (True, f"at once {day}"), day
    # Each entry is the label of the day before it in the feature mart.
    with connect(home.lakehouse) as con:
        labelled = con.execute(
            "select count(*) from lake.marts.fct_daily_features "
            "where cast(local_date + 1 as varchar) in (select unnest(?)) and sick_next_day",
            [burst + written],
        ).fetchone()[0]
    assert labelled == len(burst) + len(written)


def _ingest_recent(settings: Settings) -> None:
    time.sleep(1)  # let the build start first
    recent = settings.model_copy(update={"history_start": settings.today() - timedelta(days=10)})
    with optional.standin_serving(recent) as pointed:
        steps.ingest(pointed)
