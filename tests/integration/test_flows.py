"""The Prefect flows for real, run in this process against the session's Prefect server,
on a copy of the demo home.

The daily flow's whole evening, its artifacts among them, is run as users run it by the
README's main job (``demo_home``; its artifacts are read back through `airsick up`'s Prefect
server in ``test_stack``) and on the deployed topology (``test_deployed_topology``).
"""

from __future__ import annotations

import shutil

import pytest
from airsick_core.settings import Settings
from airsick_standin.server import StandIn


@pytest.fixture(scope="module")
def prefect_server(prefect_api):
    """This process's flows record their runs on the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_api}):
        yield


@pytest.fixture
def flow_home(demo_settings, tmp_path, prefect_server):
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
