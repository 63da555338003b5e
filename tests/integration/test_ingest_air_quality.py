"""Ingestion over HTTP against the stand-in: incremental, revised, faulty and interrupted runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.compute as pc
import pytest
import requests
from airsick_core.places import Place
from airsick_ingestion.open_meteo.client import (
    OpenMeteoClient,
    OpenMeteoRequestError,
    RateBudget,
    RetryPolicy,
    UnexpectedResponseError,
)
from airsick_ingestion.open_meteo.constants import HOURLY_VARIABLES
from airsick_ingestion.open_meteo.source import FetchPlan, load_air_quality, open_meteo_source
from airsick_ingestion.pipelines import make_pipeline

from tests.conftest import NOW
from tests.helpers import read_raw

HOME = Place("home", 40.4168, -3.7038, "Europe/Madrid")
WORK = Place("work", 41.3874, 2.1686, "Europe/Madrid")
START = date(2025, 11, 20)  # six months of history before NOW


def client_for(url: str, timeout: float = 30.0) -> OpenMeteoClient:
    quick = RetryPolicy(attempts=6, backoff=0.01, rate_limit_wait=0.05)
    return OpenMeteoClient(url, timeout=timeout, retry=quick, budget=RateBudget(0))


def ingest(standin, tmp_path: Path, now=NOW, places=(HOME,), client=None, **plan):
    standin.control.now = now
    return load_air_quality(
        list(places),
        lake_url=str(tmp_path / "lake"),
        pipelines_dir=tmp_path / "dlt",
        client=client or client_for(standin.url),
        plan=FetchPlan(today=now.date(), history_start=START, **plan),
        now=lambda: now,
    )


def hours_of(table, place="home"):
    rows = table.filter(pc.equal(table["place"], place))
    return rows


def test_backfill_then_rerun_adds_nothing_new(standin, tmp_path):
    first = ingest(standin, tmp_path, places=(HOME, WORK))
    # From the UTC day before the first local day (it makes that day whole) to the forecast.
    days = (NOW.date() + timedelta(days=4) - START).days + 2
    assert first.rows == 2 * days * 24
    assert first.new_hours == 2 * days * 24
    table = read_raw(tmp_path / "lake", "air_quality")
    assert table.num_rows == first.rows
    assert set(table.column_names) >= set(HOURLY_VARIABLES) | {"time", "fetched_at", "is_forecast"}
    home = hours_of(table)
    assert pc.count_distinct(home["time"]).as_py() == days * 24
    forecast = home.filter(home["is_forecast"])
    assert forecast.num_rows == pytest.approx(4 * 24 + 5, abs=1)  # after 18:00 today + 4 days

    again = ingest(standin, tmp_path, places=(HOME, WORK))
    assert again.new_hours == 0
    assert again.requests == 2  # one window per place: the overlap and the forecast
    table = read_raw(tmp_path / "lake", "air_quality")
    latest = table.group_by(["place", "time"]).aggregate([("fetched_at", "count")])
    assert latest.num_rows == 2 * days * 24  # no hour went missing, only re-fetched


def test_next_day_fetches_only_new_hours_and_picks_up_revised_forecasts(standin, tmp_path):
    ingest(standin, tmp_path)
    before = standin.control.counts["requests"]
    tomorrow = NOW + timedelta(days=1)
    result = ingest(standin, tmp_path, now=tomorrow)
    assert standin.control.counts["requests"] - before == 1
    assert result.new_hours == 24
    # The three overlap days, the day that was today last time, today and four forecast days.
    assert result.rows == (3 + 1 + 1 + 4) * 24

    table = read_raw(tmp_path / "lake", "air_quality")
    target = NOW.replace(hour=0) + timedelta(days=3)  # forecast on both days
    rows = table.filter(pc.equal(table["time"], target)).sort_by("fetched_at")
    assert rows.num_rows == 2
    assert rows["is_forecast"].to_pylist() == [True, True]
    old, new = rows["pm2_5"].to_pylist()
    assert old != new, "the stand-in revises forecasts from one day to the next"
    answer = requests.get(
        f"{standin.url}/v1/air-quality",
        params={
            "latitude": HOME.latitude,
            "longitude": HOME.longitude,
            "hourly": "pm2_5",
            "start_date": target.date().isoformat(),
            "end_date": target.date().isoformat(),
        },
        timeout=10,
    ).json()
    assert answer["hourly"]["pm2_5"][0] == new


def test_faults_are_retried_and_yield_identical_data(standin, tmp_path):
    clean = ingest(standin, tmp_path / "clean")
    requests.post(
        f"{standin.url}/_standin/faults",
        timeout=5,
        json={
            "faults": ["429", "503", "truncated", "slow", "503"],
            "slow_seconds": 2,
        },
    )
    faulty = ingest(standin, tmp_path / "faulty", client=client_for(standin.url, timeout=0.5))
    assert faulty.requests == clean.requests + 5  # five failures, each retried
    columns = ["place", "time", *HOURLY_VARIABLES]
    a = read_raw(tmp_path / "clean" / "lake", "air_quality").select(columns).sort_by("time")
    b = read_raw(tmp_path / "faulty" / "lake", "air_quality").select(columns).sort_by("time")
    assert a.equals(b)


def test_a_400_quotes_the_reason_and_loads_nothing(standin, tmp_path):
    with pytest.raises(OpenMeteoRequestError, match="out of allowed range from 2013-01-01"):
        ingest(standin, tmp_path, backfill=(date(2012, 12, 1), date(2013, 2, 1)))
    assert read_raw(tmp_path / "lake", "air_quality").num_rows == 0
    # The pipeline is still usable afterwards.
    assert ingest(standin, tmp_path).rows > 0


def test_an_unexpected_body_loads_nothing_of_it(standin, tmp_path):
    requests.post(f"{standin.url}/_standin/faults", json={"faults": ["garbage"]}, timeout=5)
    with pytest.raises(UnexpectedResponseError, match="nothing of it was loaded"):
        ingest(standin, tmp_path)
    assert read_raw(tmp_path / "lake", "air_quality").num_rows == 0


def test_a_load_interrupted_after_extract_is_completed_by_the_next_run(standin, tmp_path):
    """Extract and normalize, then stop as a crash would: the next run finishes the package."""
    standin.control.now = NOW
    plan = FetchPlan(today=NOW.date(), history_start=START)
    pipeline = make_pipeline("airsick_air_quality", str(tmp_path / "lake"), tmp_path / "dlt", None)
    pipeline.extract(open_meteo_source([HOME], client_for(standin.url), plan, lambda: NOW))
    pipeline.normalize()
    assert pipeline.has_pending_data
    assert read_raw(tmp_path / "lake", "air_quality").num_rows == 0
    del pipeline

    result = ingest(standin, tmp_path)
    assert result.resumed_packages == 1
    table = read_raw(tmp_path / "lake", "air_quality")
    per_hour = table.group_by(["time"]).aggregate([("fetched_at", "count_distinct")])
    assert pc.max(per_hour["fetched_at_count_distinct"]).as_py() <= 2
    # From the UTC day before the first local day (it makes that day whole) to the forecast.
    days = (NOW.date() + timedelta(days=4) - START).days + 2
    assert pc.count_distinct(table["time"]).as_py() == days * 24
    # Nothing was fetched twice from history: the resumed package moved the state on.
    assert result.requests == 1


def test_a_process_killed_mid_ingest_loses_and_doubles_nothing(standin, tmp_path):
    """SIGKILL the real CLI while it fetches; the rerun completes the place exactly once."""
    env = {
        **os.environ,
        "AIRSICK_HOME": str(tmp_path / "home"),
        "AIRSICK_OPEN_METEO_URL": standin.url,
        "AIRSICK_OPEN_METEO_CALLS_PER_MINUTE": "0",
        "AIRSICK_PLACES": "home=40.4168,-3.7038,Europe/Madrid",
    }
    requests.post(
        f"{standin.url}/_standin/faults",
        timeout=5,
        json={"faults": ["slow"] * 3, "slow_seconds": 1},
    )
    args = [
        sys.executable,
        "-m",
        "airsick_orchestration",
        "ingest",
        "--start",
        "2024-01-01",
        "--end",
        "2024-12-31",
    ]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while standin.control.counts["requests"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    table = read_raw(tmp_path / "home" / "lake", "air_quality")
    # 2024's 366 local days, and the UTC day on each side that makes the first and last whole.
    assert table.num_rows == (366 + 2) * 24
    assert pc.count_distinct(table["time"]).as_py() == (366 + 2) * 24


def test_the_same_against_s3_on_moto(standin, tmp_path, moto_s3):
    import s3fs
    from airsick_core.lake import S3Access

    access = S3Access(moto_s3["AWS_ENDPOINT_URL"], "testing", "testing")
    lake = f"s3://lake/{tmp_path.name}"

    def run(now):
        standin.control.now = now
        return load_air_quality(
            [HOME],
            lake_url=lake,
            pipelines_dir=tmp_path / "dlt",
            client=client_for(standin.url),
            plan=FetchPlan(today=now.date(), history_start=START),
            s3=access,
            now=lambda: now,
        )

    first = run(NOW)
    assert first.rows > 0
    # Lose the local pipeline folder: dlt restores the incremental state from S3.
    import shutil

    shutil.rmtree(tmp_path / "dlt")
    second = run(NOW + timedelta(days=1))
    assert second.new_hours == 24 and second.requests == 1
    fs = s3fs.S3FileSystem(
        key="testing", secret="testing", endpoint_url=moto_s3["AWS_ENDPOINT_URL"]
    )
    table = read_raw(lake, "air_quality", filesystem=fs)
    assert table.num_rows == first.rows + second.rows
    assert json.dumps(sorted(fs.ls(f"lake/{tmp_path.name}/raw")))  # raw zone exists on S3


@pytest.mark.parametrize(
    "place",
    [
        Place("sydney", -33.8688, 151.2093, "Australia/Sydney"),  # UTC+10
        Place("chennai", 13.0827, 80.2707, "Asia/Kolkata"),  # UTC+5:30
        Place("lima", -12.0464, -77.0428, "America/Lima"),  # UTC-5
    ],
)
def test_a_backfill_of_local_days_lands_them_whole(standin, tmp_path, place):
    first, last = date(2026, 3, 1), date(2026, 3, 7)
    load_air_quality(
        [place],
        lake_url=str(tmp_path / "lake"),
        pipelines_dir=tmp_path / "dlt",
        client=OpenMeteoClient(standin.url, budget=RateBudget(0)),
        plan=FetchPlan(today=date(2026, 5, 20), history_start=first, backfill=(first, last)),
    )
    hours = read_raw(tmp_path / "lake", "air_quality")["time"].to_pylist()
    zone = ZoneInfo(place.timezone)
    start = datetime.combine(first, clock(), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(last + timedelta(days=1), clock(), zone).astimezone(UTC)
    # Every hour of the first and the last local day is there (as the place lives them).
    assert min(hours).replace(tzinfo=None) <= start
    assert max(hours).replace(tzinfo=None) >= end.replace(tzinfo=None) - timedelta(hours=1)
