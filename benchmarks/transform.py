"""dbt build time for 1 place x 3 years and 50 places x 3 years, against bare DuckDB.

For each size: `dbt build` (models, data tests and unit tests) in a fresh home and again as
on a later day, `dbt run` (models only), and the very SQL dbt compiled, run bare in one
DuckDB process into a fresh DuckLake. The ratios, measured in one run, show what dbt's
start-up, parsing, tests and bookkeeping cost.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import airsick_lakehouse
import duckdb
from airsick_core.settings import Settings
from airsick_lakehouse import Lakehouse, connect
from airsick_orchestration import optional, steps
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
    with optional.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    return settings


def bare_sql(settings: Settings, manifest: dict) -> tuple[float, float]:
    """Run dbt's compiled SQL in one DuckDB process: the models in dependency order, then the
    data tests; return the seconds of the models alone and of models and tests."""
    # What the build ran: the hindcast waits for the first predictions.
    models = {
        k: v
        for k, v in manifest["nodes"].items()
        if v["resource_type"] == "model" and "hindcast" not in v["tags"]
    }
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
    tests = [
        v
        for v in manifest["nodes"].values()
        if v["resource_type"] == "test"
        and v.get("compiled_code")
        and all(n in models for n in v["depends_on"]["nodes"] if n.startswith("model."))
    ]
    scratch = Path(tempfile.mkdtemp(prefix="airsick-bare-"))
    bare = Lakehouse(settings.lake, f"sqlite:{scratch / 'catalog.sqlite'}")
    airsick_lakehouse.prepare(bare)
    started = time.perf_counter()
    with connect(bare, read_only=False) as con:
        assert isinstance(con, duckdb.DuckDBPyConnection)
        for node in order:
            schema, name = node["schema"], node["alias"]
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create schema if not exists lake.{schema}")
            con.execute(f"create or replace {kind} lake.{schema}.{name} as {node['compiled_code']}")
        models_done = time.perf_counter()
        # dbt's data tests as it compiled them, against the tables just built.
        for node in tests:
            con.execute(node["compiled_code"]).fetchall()
    finished = time.perf_counter()
    return models_done - started, finished - started


def run(n_places: int) -> dict:
    settings = prepare(n_places)
    lakehouse, state = settings.lakehouse, settings.dbt_dir
    variables = runner.build_vars(lakehouse, settings.person)

    def dbt(command: list[str]) -> float:
        started = time.perf_counter()
        result = runner.invoke(command, lakehouse, state, variables, settings.today())
        assert result.success, result.exception
        return time.perf_counter() - started

    # What `airsick transform` runs (the hindcast waits for the first predictions): first in
    # a fresh home, where dbt parses the whole project, then as on every later day, where
    # its partial parsing reads only what changed.
    build = ["build", "--exclude", "tag:hindcast"]
    first_s = dbt(build)
    build_s = dbt(build)
    # The build's manifest has every test compiled (`dbt run` rewrites it without them).
    manifest = json.loads((state / "target" / "manifest.json").read_text())
    run_s = dbt(["run", "--exclude", "tag:hindcast"])
    bare_s, bare_with_tests_s = bare_sql(settings, manifest)
    return {
        "places": n_places,
        "first": first_s,
        "build": build_s,
        "run": run_s,
        "bare": bare_s,
        "bare_tests": bare_with_tests_s,
    }


def main() -> None:
    print("transform: dbt-duckdb into DuckLake vs the same SQL bare in one DuckDB process")
    print("(first build: in a fresh home, dbt parses the whole project; build: as every later")
    print(" day, partial parsing; bare: the models' SQL; bare+tests: and the data tests' SQL)")
    print(
        f"{'places':>6} {'first build s':>13} {'build s':>7} {'dbt run s':>9} {'bare s':>7} "
        f"{'bare+tests s':>12} {'build/(bare+tests)':>18} {'first/(bare+tests)':>18} "
        f"{'run/bare':>8}"
    )
    for n in (1, 50):
        r = run(n)
        print(
            f"{r['places']:>6} {r['first']:>13.1f} {r['build']:>7.1f} {r['run']:>9.1f} "
            f"{r['bare']:>7.2f} {r['bare_tests']:>12.2f} "
            f"{r['build'] / r['bare_tests']:>18.2f} {r['first'] / r['bare_tests']:>18.2f} "
            f"{r['run'] / r['bare']:>8.1f}"
        )
    print("target: dbt build of 50 places <= 2x the same SQL bare")


if __name__ == "__main__":
    main()
