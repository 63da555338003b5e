"""The Prefect flows for real, in Prefect's test harness, on a copy of the demo home."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from airsick_core.settings import Settings
from airsick_standin.server import StandIn


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def flow_home(demo_settings, tmp_path, harness):
    home = tmp_path / "home"
    shutil.copytree(
        demo_settings.home,
        home,
        ignore=shutil.ignore_patterns(
            "catalog", "warehouse", "dbt", "mlflow", "predictions", "prefect"
        ),
    )
    with StandIn() as standin:
        yield Settings(home=home, open_meteo_url=standin.url, open_meteo_calls_per_minute=0)


def artifact_keys() -> set[str]:
    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts()}

    return asyncio.run(read())


def test_daily_flow_runs_every_stage_and_publishes_artifacts(flow_home):
    from airsick_orchestration.flows import daily_flow

    summary = daily_flow(flow_home)
    assert summary["places"] == 1 and summary["feature_rows"] > 1000
    assert summary["trained"] and summary["retrain_reason"] == "there is no champion yet"
    assert summary["tomorrow"] and 0 < summary["tomorrow"][0]["probability"] < 1
    assert summary["stale"] == []
    assert {"promotion-decision", "tomorrow", "everyone"} <= artifact_keys()

    again = daily_flow(flow_home)
    assert not again["trained"], again["retrain_reason"]
    assert again["retrain_reason"].startswith("only 0 new labelled days")
    assert again["rows_ingested"] > 0 and again["new_hours"] == 0


def test_a_failing_dbt_test_fails_the_flow(flow_home):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from airsick_orchestration.flows import transform_flow

    raw = flow_home.home / "lake" / "raw" / "diary"
    bad = pq.read_table(next(raw.glob("*.parquet"))).slice(0, 1)
    bad = bad.set_column(
        bad.schema.get_field_index("severity"),
        "severity",
        pa.array([7], bad.schema.field("severity").type),
    )
    bad = bad.set_column(
        bad.schema.get_field_index("recorded_at"),
        "recorded_at",
        pa.array(
            [bad["recorded_at"][0].as_py().replace(year=2099)], bad.schema.field("recorded_at").type
        ),
    )
    pq.write_table(bad, raw / "zz-bad.parquet")
    with pytest.raises(Exception, match=r"accepted_values|severity"):
        transform_flow(flow_home)
