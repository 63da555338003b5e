"""dbt build time for 1 place x 3 years and 50 places x 3 years, against bare DuckDB.

For each size: `dbt build` (models, 97 data tests and unit tests), `dbt run` (models only),
and the very SQL dbt compiled, run bare in one DuckDB process into a fresh DuckLake. The
ratios, measured in one run, show what dbt's start-up, tests and bookkeeping cost.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import duckdb
from airsick_lakehouse.lakehouse import Lakehouse, connect
from airsick_orchestration import steps
from airsick_orchestration.settings import Settings
from airsick_transform import runner


def places(n: int) -> str:
    # A grid over Spain, France and Italy, on land; the first is near Seville.
    spots = [(37.4 + (i // 10) * 2.0, -6.0 + (i % 10) * 2.0) for i in range(n)]
    return ";".join(
        f"p{i:02d}={lat:.3f},{lon:.3f},Europe/Madrid" for i, (lat, lon) in enumerate(spots)
    )


def prepare(n_places: int) -> Settings:
    home = Path(tempfile.mkdtemp(prefix=f"airsick-bench-transform-{n_places}-"))
    settings = Settings(home=home, places=places(n_places), standin_port=0)
    with steps.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    return settings


def bare_sql(settings: Settings) -> float:
    """Run dbt's compiled model SQL, in dependency order, in one DuckDB process."""
    manifest = json.loads((settings.dbt_dir / "target" / "manifest.json").read_text())
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    order, seen = [], set()

    def visit(key: str) -> None:
        if key in seen or key not in models:
            return
        seen.add(key)
        for parent in models[key]["depends_on"]["nodes"]:
            visit(parent)
        order.append(models[key])

    for key in models:
        visit(key)
    scratch = Path(tempfile.mkdtemp(prefix="airsick-bare-"))
    bare = Lakehouse(settings.lake, f"sqlite:{scratch / 'catalog.sqlite'}")
    bare.prepare()
    started = time.perf_counter()
    with connect(bare, read_only=False) as con:
        assert isinstance(con, duckdb.DuckDBPyConnection)
        for node in order:
            schema, name = node["schema"], node["alias"]
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create schema if not exists lake.{schema}")
            con.execute(f"create or replace {kind} lake.{schema}.{name} as {node['compiled_code']}")
    return time.perf_counter() - started


def run(n_places: int) -> dict:
    settings = prepare(n_places)
    lakehouse, state = settings.lakehouse, settings.dbt_dir
    started = time.perf_counter()
    summary = steps.transform(settings)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    result = runner.invoke(
        ["run"],
        lakehouse,
        state,
        {"person": settings.person, "today": settings.today().isoformat()},
    )
    run_s = time.perf_counter() - started
    assert result.success
    bare_s = bare_sql(settings)
    return {
        "places": n_places,
        "feature_rows": summary.feature_rows,
        "build": build_s,
        "run": run_s,
        "bare": bare_s,
    }


def main() -> None:
    print("transform: dbt-duckdb into DuckLake vs the same SQL bare in one DuckDB process")
    print(
        f"{'places':>6} {'feature rows':>12} {'dbt build s':>11} {'dbt run s':>9} "
        f"{'bare s':>7} {'build/bare':>10} {'run/bare':>9}"
    )
    for n in (1, 50):
        r = run(n)
        print(
            f"{r['places']:>6} {r['feature_rows']:>12,} {r['build']:>11.1f} {r['run']:>9.1f} "
            f"{r['bare']:>7.2f} {r['build'] / r['bare']:>10.1f} {r['run'] / r['bare']:>9.1f}"
        )


if __name__ == "__main__":
    main()
