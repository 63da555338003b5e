"""dbt-duckdb into DuckLake on the demo persona's lake: build, rebuild, readers, failures, S3."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from airsick_core.settings import Settings
from airsick_lakehouse import connect, maintain, snapshots
from airsick_orchestration import optional, steps
from airsick_transform.docs import DocsServer
from airsick_transform.runner import TransformError, build

FEATURES = "lake.marts.fct_daily_features"


def table_digest(settings: Settings, table: str) -> tuple[int, str]:
    with connect(settings.lakehouse) as con:
        rows, digest = con.execute(
            f"select count(*), md5(string_agg(t::varchar, '|' order by t::varchar)) from {table} t"
        ).fetchone()
    return rows, digest


def test_build_makes_the_marts_with_every_test(built_demo):
    days = (built_demo.today() - built_demo.history_first_day()).days + 1
    rows, _ = table_digest(built_demo, FEATURES)
    assert rows == days
    with connect(built_demo.lakehouse) as con:
        labelled = con.execute(f"select count(sick_next_day) from {FEATURES}").fetchone()[0]
        scoring = con.execute(
            "select min(local_date), max(predicts_date), count(*) "
            "from lake.marts.fct_scoring_features"
        ).fetchone()
    assert labelled == days - 1  # today's label is not known yet
    assert scoring[0] == built_demo.today()
    assert scoring[2] == built_demo.forecast_days + 1


def read_features(settings: Settings):
    with connect(settings.lakehouse) as con:
        return con.execute(f"select * from {FEATURES} order by person, place, local_date").df()


def test_a_rebuild_changes_nothing_and_readers_never_see_it_half_built(built_demo):
    import pandas as pd

    steps.transform(built_demo)  # take in whatever other tests added to the raw zone
    before = read_features(built_demo)

    # The rebuild, with a reader counting the features every 50 ms while it runs.
    counts, errors = [], []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                with connect(built_demo.lakehouse) as con:
                    counts.append(con.execute(f"select count(*) from {FEATURES}").fetchone()[0])
            except Exception as error:  # the test reports any failure a reader met
                errors.append(repr(error))
            time.sleep(0.05)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        summary = steps.transform(built_demo)
    finally:
        stop.set()
        reader.join()
    assert not errors, errors[:3]
    assert len(counts) > 5
    assert set(counts) == {len(before)}, "a reader saw a half-built table"

    assert summary.feature_rows == len(before)
    assert summary.unit_tests > 0  # and airsick's SQL passed its dbt unit tests
    # Equal up to the last bits of floating-point sums, which DuckDB's parallel
    # aggregation may add in another order.
    pd.testing.assert_frame_equal(read_features(built_demo), before, check_exact=False, rtol=1e-9)


def test_every_build_is_a_named_snapshot_and_old_ones_are_expired(built_demo):
    kept = snapshots(built_demo.lakehouse)
    assert len(kept) > 1
    first_id = kept[-1][0]
    with connect(built_demo.lakehouse) as con:
        then = con.execute(
            f"select count(*) from {FEATURES} at (version => {first_id})"
        ).fetchone()[0]
    assert then > 0
    result = maintain(built_demo.lakehouse, retention=timedelta(0))
    assert result["snapshots_expired"] >= 1
    assert len(snapshots(built_demo.lakehouse)) < len(kept)
    assert table_digest(built_demo, FEATURES)[0] == then


def _with_extra_raw_row(demo_settings, tmp_path, column: str, value):
    """A copy of the demo lake with one raw row refetched a day later with ``column`` set."""
    settings = demo_settings.model_copy(update={"home": tmp_path / "home", "lake_url": None})
    shutil.copytree(demo_settings.lake, settings.lake)
    bad = pq.read_table(next((tmp_path / "home/lake/raw/air_quality").glob("*.parquet")))
    bad = bad.slice(0, 1)
    index = bad.schema.get_field_index(column)
    field = pa.field(column, bad.schema.field(column).type, nullable=True)
    bad = bad.set_column(index, field, pa.array([value], field.type))
    bad = bad.set_column(
        bad.schema.get_field_index("fetched_at"),
        "fetched_at",
        pa.array(
            [bad["fetched_at"][0].as_py() + timedelta(days=1)], bad.schema.field("fetched_at").type
        ),
    )
    pq.write_table(bad, tmp_path / "home/lake/raw/air_quality/zz-bad.parquet")
    return settings


def test_an_implausible_value_is_quarantined_not_a_failed_build(demo_settings, tmp_path):
    settings = _with_extra_raw_row(demo_settings, tmp_path, "pm10", -5.0)
    summary = steps.transform(settings)
    assert any("quarantined" in note and "pm10" in note for note in summary.notes)
    with connect(settings.lakehouse) as con:
        quarantined = con.execute(
            "select variable, value_as_sent from lake.intermediate.int_quarantined_values"
        ).fetchall()
    assert ("pm10", -5.0) in quarantined


def test_a_failing_test_of_our_own_logic_fails_with_its_name(demo_settings, tmp_path):
    # Every raw row names its place (ingestion's contract): a row without one is our bug.
    settings = _with_extra_raw_row(demo_settings, tmp_path, "place", None)
    with pytest.raises(
        TransformError, match=r"not_null_stg_open_meteo__air_quality: .*column_name=place"
    ):
        steps.transform(settings)


def test_no_raw_data_says_what_to_run(tmp_path):
    settings = Settings(home=tmp_path / "empty")
    with pytest.raises(TransformError, match="run `airsick ingest` first"):
        build(settings.lakehouse, settings.dbt_dir, person="demo", today=settings.today())


def test_docs_site_shows_lineage_from_sources_to_marts(built_demo):
    page = steps.generate_docs(built_demo)
    server = DocsServer(page, port=0).start()
    try:
        html = requests.get(server.url, timeout=30).text
    finally:
        server.stop()
    for node in (
        "source.airsick.open_meteo.air_quality",
        "source.airsick.diary.diary",
        "model.airsick.stg_open_meteo__air_quality",
        "model.airsick.int_daily_features",
        "model.airsick.fct_daily_features",
        "model.airsick.fct_scoring_features",
    ):
        assert node in html, node
    assert "one row per person, place and local day" in html


def test_the_same_against_s3_on_moto(tmp_path, moto_s3):
    settings = Settings(
        home=tmp_path / "home",
        lake_url=f"s3://lake/{tmp_path.name}",
        standin_port=0,
        history_start="2026-01-01",
        **{
            "AWS_ENDPOINT_URL": moto_s3["AWS_ENDPOINT_URL"],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
    )
    with optional.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    summary = steps.transform(settings)
    assert summary.feature_rows == (settings.today() - settings.history_first_day()).days + 1
    import s3fs

    fs = s3fs.S3FileSystem(
        key="testing", secret="testing", endpoint_url=moto_s3["AWS_ENDPOINT_URL"]
    )
    assert fs.glob(f"lake/{tmp_path.name}/warehouse/marts/**/*.parquet")
