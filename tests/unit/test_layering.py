"""How the members stand on each other: core at the bottom with nothing heavy, and library
code that names the MLflow store it talks to."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_core_imports_no_dbt_dlt_duckdb_prefect_or_mlflow():
    code = (
        "import sys, airsick_core.settings, airsick_core.names, airsick_core.lake,"
        " airsick_core.places, airsick_core.http;"
        "heavy = ('dbt', 'dlt', 'duckdb', 'prefect', 'mlflow', 'pandas', 'numpy');"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_library_code_names_the_mlflow_store_it_talks_to():
    """No bare ``MlflowClient()`` (it would follow whichever store the process last set)."""
    bare = re.compile(r"MlflowClient\(\s*\)")
    found = [
        str(path.relative_to(REPO))
        for path in REPO.glob("*/src/airsick_*/**/*.py")
        if bare.search(path.read_text())
    ]
    assert found == []


def test_one_place_builds_the_mlflow_client():
    """The registry store owns the MLflow client: every other member asks it for one; the
    router alone builds its own, inside `mlflow models serve` where the stores are not."""
    found = [
        str(path.relative_to(REPO))
        for path in REPO.glob("*/src/airsick_*/**/*.py")
        if "MlflowClient(" in path.read_text()
    ]
    assert sorted(found) == [
        "stores/src/airsick_stores/registry.py",
        "training/src/airsick_training/router.py",
    ]


def test_production_members_do_not_import_the_stand_in():
    """The stand-in is for the demo, tests and benchmarks; only the CLI's offline commands
    reach it, through ``optional.offline``."""
    found = [
        str(path.relative_to(REPO))
        for path in REPO.glob("*/src/airsick_*/**/*.py")
        if not path.is_relative_to(REPO / "standin")
        and re.search(r"^\s*(from|import) airsick_standin", path.read_text(), re.M)
    ]
    assert found == []
