"""The person's data is theirs: the diary exports and imports back exactly, and `forget`
removes them from the raw zone, the lakehouse (older snapshots' files too), MLflow and the
messages ledger, leaving everyone else's rows; and after it no file under the home holds
anything of theirs (dlt's, dbt's and Prefect's own history included)."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import mlflow
import pytest
from airsick_core.settings import Settings
from airsick_orchestration import optional, steps
from airsick_orchestration.cli import app
from typer.testing import CliRunner

from tests.conftest import airsick_command, process_environment
from tests.helpers import files_mentioning, read_raw

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A person with four months of diary, built, trained, scored and alerted; and another
    person's diary entry in the same lake."""
    root = tmp_path_factory.mktemp("your-data")
    settings = Settings(home=root / "home", standin_port=0, person="ana")
    settings = settings.model_copy(update={"history_start": settings.today() - timedelta(days=120)})
    with optional.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    steps.log_diary(
        settings,
        day=settings.today(),
        sick=True,
        symptoms=["cough"],
        note="line one\nline two, a comma",
    )
    other = settings.model_copy(update={"person": "ben"})
    steps.log_diary(other, day=settings.today(), sick=False)
    steps.transform(settings, unit_tests=False)
    steps.train(settings)
    steps.predict(settings)
    ledger = settings.notifications_dir / "ana"
    ledger.mkdir(parents=True)
    (ledger / f"{settings.today()}-alert.json").write_text("{}")
    return settings


def test_the_diary_exports_and_imports_back_exactly(home, tmp_path):
    first = tmp_path / "diary.csv"
    assert steps.export_diary(home, first) == 121
    elsewhere = home.model_copy(update={"home": tmp_path / "elsewhere", "lake_url": None})
    assert steps.import_diary(elsewhere, first).written == 121
    again = tmp_path / "again.csv"
    steps.export_diary(elsewhere, again)
    assert again.read_bytes() == first.read_bytes()
    assert "line one\nline two, a comma" in first.read_text()
    # Importing one's own export changes nothing.
    assert steps.import_diary(home, first).written == 0


def test_the_stores_and_the_build_agree_on_the_entry_that_counts(home):
    """ "The latest entry of a day counts" is the diary store's rule for every Python reader
    and stg_diary__events' for the build: the two give the same diary."""
    from airsick_lakehouse import connect

    stores = steps.stores(home)
    day = home.today() - timedelta(days=3)
    steps.log_diary(home, day=day, sick=True, symptoms=["cough"])
    steps.log_diary(home, day=day, sick=False)  # they changed their mind: this one counts
    assert stores.diary.logged_on("ana", day)
    assert not stores.diary.logged_on("ana", home.today() - timedelta(days=400))
    assert stores.diary.last_day("ana") == home.today()
    read = stores.diary.latest("ana")
    assert read["date"].is_unique and not read.set_index("date")["sick"][day]
    assert len(stores.diary.latest("ana", since=home.today() - timedelta(days=7))) == 7

    steps.transform(home, unit_tests=False)
    with connect(home.lakehouse) as con:
        built = con.execute(
            "select diary_date, is_sick from lake.staging.stg_diary__events where person = ?",
            ["ana"],
        ).fetchall()
    as_read = {
        (d.date() if hasattr(d, "date") else d, bool(s))
        for d, s in read[["date", "sick"]].itertuples(index=False)
    }
    assert {(d, bool(s)) for d, s in built} == as_read


def test_forget_needs_yes():
    result = CliRunner().invoke(app, ["forget", "--person", "ana"])
    assert result.exit_code == 1 and "--yes" in result.output


def test_forget_removes_the_person_everywhere_and_only_them(home, tmp_path):
    backup = tmp_path / "backup.csv"
    steps.export_diary(home, backup)
    entries = read_raw(home.lake, "diary").to_pandas()
    hers = int((entries["person"] == "ana").sum())  # every entry, corrections included
    assert hers >= 122  # 121 days from the persona, and today's correction on top
    done = steps.forget(home, "ana")
    assert done.stores.raw["diary"] == hers and done.stores.raw["predictions"] > 0
    assert done.stores.lakehouse and sum(done.stores.lakehouse.values()) > 0
    assert (
        done.stores.mlflow.runs >= 1
        and done.stores.mlflow.model_versions >= 1
        and done.stores.mlflow.purged
    )
    assert done.notifications == 1 and not (home.notifications_dir / "ana").exists()

    # No file anywhere in the lake (raw zone or lakehouse data) holds a row of hers.
    lake = home.lake
    con = duckdb.connect()
    for path in Path(lake).rglob("*.parquet"):
        columns = [c[0] for c in con.execute(f"describe select * from '{path}'").fetchall()]
        if "person" in columns:
            found = con.execute(f"select count(*) from '{path}' where person = 'ana'").fetchone()
            assert found[0] == 0, path
    # Ben's entry stays.
    assert read_raw(lake, "diary")["person"].to_pylist() == ["ben"]

    client = mlflow.MlflowClient(tracking_uri=home.tracking_uri, registry_uri=home.tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert not client.search_runs(experiments, filter_string="tags.person = 'ana'")
    assert not client.search_model_versions("name = 'airsick-ana'")
    # What stays is nobody's: the model server's router (code, no weights, no data).
    router = client.get_model_version_by_alias("airsick.everyone", "current")
    kept = [
        client.get_logged_model(router.source.removeprefix("models:/")).artifact_location,
        client.get_run(router.run_id).info.artifact_uri,
    ]
    kept = [Path(uri.removeprefix("file://")) for uri in kept]
    store = sqlite3.connect(home.tracking_uri.removeprefix("sqlite:///"))
    assert store.execute("select count(*) from datasets").fetchone()[0] == 0
    left = "select count(*) from inputs where ? not in (source_id, destination_id)"
    assert store.execute(left, [router.run_id]).fetchone()[0] == 0
    store.close()
    artifacts = home.home / "mlflow" / "artifacts"
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    assert files and all(any(p.is_relative_to(k) for k in kept) for p in files)

    # She can come back: her export imports as new.
    assert steps.import_diary(home, backup).written == 121


def test_after_forget_no_file_the_product_wrote_holds_anything_of_theirs(tmp_path, monkeypatch):
    """The README's main job for a person, a note in their diary, the evening run again, then
    `airsick forget`: every file the processes wrote is read (bytes, Parquet values,
    compressed state) for their name and their note. Their home, their working folder, their
    user folder (HOME) and their temporary files (TMPDIR) all sit under ``tmp_path``. The
    commands share the home's Prefect server, as they do while `airsick up` runs (its
    database in the home, its marker saying where it answers), started here with that HOME
    and TMPDIR."""
    import json
    import os

    from airsick_orchestration.prefect_server import TemporaryPrefectServer, prefect_marker

    person, note = "quetzal-7f3a", "zebra lantern under the bridge"
    for folder in ("user", "tmp", "work"):
        (tmp_path / folder).mkdir()
    for name, folder in (("HOME", "user"), ("TMPDIR", "tmp")):
        monkeypatch.setenv(name, str(tmp_path / folder))
    home = Settings(home=tmp_path / "home")
    prefect_marker(home).parent.mkdir(parents=True)
    prefect = TemporaryPrefectServer(home)
    try:
        prefect.wait()
        prefect_marker(home).write_text(
            json.dumps({"api_url": prefect.api_url, "pid": os.getpid()})
        )
        _forget_everything_of_one_person(tmp_path, person, note)
    finally:
        prefect.stop()
    assert files_mentioning(tmp_path, [person, note]) == {}


def _forget_everything_of_one_person(tmp_path, person: str, note: str) -> None:
    env = process_environment(
        tmp_path / "home",
        AIRSICK_STANDIN_PORT="0",
        AIRSICK_PERSON=person,
        AIRSICK_HISTORY_START=(date.today() - timedelta(days=60)).isoformat(),
        HOME=str(tmp_path / "user"),
        TMPDIR=str(tmp_path / "tmp"),
    )

    def airsick(*args: str) -> str:
        done = subprocess.run(
            airsick_command(*args),
            env=env,
            cwd=tmp_path / "work",
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    airsick("demo", "--once")
    airsick("diary", "log", "--sick", "--symptoms", "cough", "--note", note)
    airsick("demo", "--once")
    assert files_mentioning(tmp_path / "home", [person, note])  # the scan sees them
    said = airsick("forget", "--person", person, "--yes")
    assert "from Prefect" in said and "flow runs" in said
