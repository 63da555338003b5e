"""The airsick command as a user runs it: help, the diary, the offline ingest and its errors."""

from __future__ import annotations

import pytest
from airsick_orchestration.cli import app
from typer.testing import CliRunner

from tests.helpers import read_raw

runner = CliRunner()


def airsick(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["ingest"],
        ["standin"],
        ["demo"],
        ["diary"],
        ["diary", "log"],
        ["diary", "import"],
        ["diary", "persona"],
    ],
)
def test_every_command_explains_itself(command):
    result = airsick(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 5


def test_diary_log_and_import_write_once(tmp_path):
    lake = tmp_path / "home" / "lake"
    first = airsick(
        "diary",
        "log",
        "--date",
        "2024-03-01",
        "--sick",
        "--symptoms",
        "cough",
        "--severity",
        "mild",
    )
    assert first.exit_code == 0, first.output
    assert "Logged 2024-03-01 as sick" in first.output
    again = airsick(
        "diary", "log", "--date", "2024-03-01", "--sick", "--symptoms", "cough", "--severity", "1"
    )
    assert "already logged" in again.output

    csv = tmp_path / "diary.csv"
    csv.write_text("date,sick\n2024-03-01,no\n2024-03-02,yes\n")
    imported = airsick("diary", "import", str(csv))
    assert imported.exit_code == 0, imported.output
    assert "2 new or changed" in imported.output
    assert "0 new or changed" in airsick("diary", "import", str(csv)).output

    table = read_raw(lake, "diary").sort_by("recorded_at")
    assert table.num_rows == 3  # the correction of 2024-03-01 is a newer event
    assert table["sick"].to_pylist() == [True, False, True]


def test_a_bad_diary_file_writes_nothing_and_says_why(tmp_path):
    csv = tmp_path / "diary.csv"
    csv.write_text("date,sick\n2024-03-01,no\n2024-03-02,maybe\n")
    result = airsick("diary", "import", str(csv))
    assert result.exit_code == 1
    assert "line 3: 'maybe' is not a sick value" in result.output
    assert "Traceback" not in result.output
    assert read_raw(tmp_path / "home" / "lake", "diary").num_rows == 0


def test_ingest_a_one_off_place_offline_in_the_issue_form(tmp_path):
    result = airsick(
        "ingest",
        "--standin",
        "--place",
        "riyadh=24.7136,46.6753",
        "--timezone",
        "Asia/Riyadh",
        "--start",
        "2024-01-01",
        "--end",
        "2024-03-31",
    )
    assert result.exit_code == 0, result.output
    # 91 local days, whole in Riyadh: the UTC days on each side come too (93 days of hours).
    assert "Ingested 2,232 rows (2,232 new hours) for 1 place" in result.output
    table = read_raw(tmp_path / "home" / "lake", "air_quality")
    assert set(table["timezone"].to_pylist()) == {"Asia/Riyadh"}
    # The weather of the same days, from the archive only (they are long past).
    assert "and 2,232 hours of weather" in result.output
    weather = read_raw(tmp_path / "home" / "lake", "weather")
    assert set(weather["source"].to_pylist()) == {"archive"}
    assert weather["temperature_2m"].null_count == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ingest", "--place", "x=95,1"], "Latitude 95.0 of 'x' must be within -90..90."),
        (["ingest", "--start", "2024-01-01"], "Give both --start and --end"),
        (["ingest", "--start", "2024-02-01", "--end", "2024-01-01"], "before --start"),
        (["diary", "log", "--sick", "--date", "2999-01-01"], "is in the future"),
    ],
)
def test_user_errors_are_one_sentence(args, says):
    result = airsick(*args)
    assert result.exit_code == 1
    assert says in result.output
    assert "Traceback" not in result.output


def test_unreachable_api_is_one_sentence(monkeypatch):
    monkeypatch.setenv("AIRSICK_OPEN_METEO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AIRSICK_OPEN_METEO_ATTEMPTS", "1")
    result = airsick("ingest")
    assert result.exit_code == 1
    assert "check AIRSICK_OPEN_METEO_URL" in result.output


def test_bad_setting_is_one_sentence(monkeypatch):
    monkeypatch.setenv("AIRSICK_FORECAST_DAYS", "12")
    result = airsick("ingest")
    assert result.exit_code == 1
    assert "Setting FORECAST_DAYS is not valid" in result.output


def test_transform_and_docs_commands(demo_settings, monkeypatch, tmp_path):
    import shutil

    home = tmp_path / "copy"
    # Only the raw air and diary and dlt's state: a DuckLake catalog keeps its data path
    # absolute, and the predictions other tests may have made would add the hindcast models.
    shutil.copytree(
        demo_settings.home,
        home,
        ignore=shutil.ignore_patterns("catalog", "warehouse", "dbt", "predictions"),
    )
    monkeypatch.setenv("AIRSICK_HOME", str(home))
    built = airsick("transform")
    assert built.exit_code == 0, built.output
    assert "Built 10 models and passed" in built.output
    assert "rows in marts.fct_daily_features" in built.output
    docs = airsick("docs", "--no-serve")
    assert docs.exit_code == 0, docs.output
    assert (home / "dbt" / "target" / "static_index.html").is_file()


def test_transform_before_ingest_says_what_to_run():
    result = airsick("transform")
    assert result.exit_code == 1
    assert "run `airsick ingest` first" in result.output


def test_train_before_anything_is_built_says_what_to_run():
    result = airsick("train")
    assert result.exit_code == 1
    assert "run `airsick transform` first" in " ".join(result.output.split())


def test_the_app_will_not_listen_beyond_loopback_without_a_password():
    result = airsick("app", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "set AIRSICK_APP_PASSWORD" in result.output


def test_a_flow_run_without_a_server_gets_a_temporary_one_that_ends_with_it(tmp_path):
    """No `airsick up` for this home: the command starts Prefect's temporary server at once,
    records its run there, and leaves no server behind."""
    import os
    import re
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    home = tmp_path / "home"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "airsick"), "-v", "run", "reminder"],
        env={**os.environ, "AIRSICK_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status": "off"' in done.stdout
    (url,) = re.findall(r"started a temporary one at (\S+)", done.stderr)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/health", timeout=2)
    with sqlite3.connect(home / "prefect" / "prefect.db") as db:
        runs = db.execute("select state_name from flow_run").fetchall()
    assert runs == [("Completed",)]
