"""Run the dbt project through dbt's Python API, and say clearly what failed.

``airsick transform``, ``airsick docs`` and the transform flow all run dbt through here; the
flow publishes each node's result (``BuildSummary.nodes``) as a Prefect table artifact.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from airsick_core import names
from airsick_lakehouse import Lakehouse, after_build, has_raw, prepare

# The dbt project: transform/dbt in a checkout; packaged inside the wheel (images).
_PACKAGED = Path(__file__).resolve().parent / "dbt"
PROJECT_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[2] / "dbt"


class TransformError(RuntimeError):
    """dbt failed; the message names the model or test and what to do.

    ``nodes`` holds each node's result when dbt got as far as running them.
    """

    def __init__(self, message: str, nodes: list[dict] | None = None) -> None:
        super().__init__(message)
        self.nodes = nodes or []


@dataclass(frozen=True)
class BuildSummary:
    """What one ``dbt build`` did."""

    models: int
    tests: int
    unit_tests: int
    feature_rows: int
    scoring_rows: int
    seconds: float
    warnings: list[str] = field(default_factory=list)  # dbt tests that warned
    notes: list[str] = field(default_factory=list)  # what the data report found
    nodes: list[dict] = field(default_factory=list)  # each node's result, as dbt ran them


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for dbt's ``env_var()`` and restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_args(
    command: list[str], lakehouse: Lakehouse, state_dir: Path, variables: dict
) -> list[str]:
    """Return the dbt command line for this lakehouse, keeping dbt's files under ``state_dir``."""
    return [
        "--quiet",  # airsick prints its own summary; failures still come back in the result
        *command,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        lakehouse.dbt_target,
        "--target-path",
        str(state_dir / "target"),
        "--log-path",
        str(state_dir / "logs"),
        "--vars",
        json.dumps(variables),
    ]


def invoke(command: list[str], lakehouse: Lakehouse, state_dir: Path, variables: dict, today: date):
    """Run one dbt command in this process; return dbt's result object."""
    from dbt.cli.main import dbtRunner

    prepare(lakehouse)
    state_dir.mkdir(parents=True, exist_ok=True)
    with environment(lakehouse.dbt_environment() | {"AIRSICK_TODAY": today.isoformat()}):
        return dbtRunner().invoke(dbt_args(command, lakehouse, state_dir, variables))


def check_raw(lakehouse: Lakehouse) -> None:
    """Refuse to build before there is any air to build from, with what to run first.

    An empty diary is not an error: a new person gets a prediction from the first day.
    """
    if lakehouse.on_s3:
        return  # listing S3 here would need credentials twice; dbt's error is clear enough
    if not has_raw(lakehouse, names.AIR_QUALITY):
        raise TransformError(
            f"No air quality in {lakehouse.raw(names.AIR_QUALITY)}; run `airsick ingest` first."
        )


def build_vars(lakehouse: Lakehouse, person: str) -> dict:
    """Return the dbt vars of a build: the shared names (``airsick_core.names``), the
    default person (everyone's features are built; a home that never added anyone is this
    person with every place), are there people, is there a diary and is there weather (a
    home that loaded air before weather existed has none yet). Which day is today goes in
    AIRSICK_TODAY (see ``invoke``): a var that changes daily would defeat partial parsing."""
    return names.dbt_vars() | {
        "person": person,
        "people_present": has_raw(lakehouse, names.PEOPLE),
        "diary_present": has_raw(lakehouse, names.DIARY),
        "weather_present": has_raw(lakehouse, names.WEATHER),
    }


def build(
    lakehouse: Lakehouse,
    state_dir: Path,
    *,
    person: str,
    today: date,
    select: list[str] | None = None,
    unit_tests: bool = True,
) -> BuildSummary:
    """Run ``dbt build`` (models, data tests and, unless told not to, unit tests); raise
    TransformError on failure.

    Unit tests check airsick's SQL on static inputs, not the day's data: dbt recommends
    running them in development and CI, not in every production build, and the daily flow
    leaves them out (``unit_tests=False``). `airsick transform` and the test suite run them.
    """
    check_raw(lakehouse)
    started = time.perf_counter()
    variables = build_vars(lakehouse, person)
    command = ["build", *(["--select", *select] if select else [])]
    if not unit_tests:
        command += ["--exclude-resource-type", "unit_test"]
    if not has_raw(lakehouse, names.PREDICTIONS):
        # The hindcast joins past predictions to outcomes: nothing to join before the first.
        command += ["--exclude", "tag:hindcast"]
    result = invoke(command, lakehouse, state_dir, variables, today)
    if result.exception is not None:
        raise TransformError(f"dbt could not run: {result.exception}") from result.exception
    nodes = node_results(result.result)
    counts = Counter(node["kind"] for node in nodes)
    failures = [n for n in nodes if n["status"] in ("error", "fail", "runtime error")]
    warnings = [f"{n['kind']} {n['node']}: {n['message']}" for n in nodes if n["status"] == "warn"]
    if failures or not result.success:
        shown = "; ".join(
            f"{n['kind']} {n['node']}: {n['message']}{failing_rows(lakehouse, n)}"
            for n in failures[:3]
        )
        raise TransformError(
            f"dbt build failed ({shown or 'see the dbt log'}); "
            "fix the data or the model, then run `airsick transform` again.",
            nodes,
        )
    feature_rows, scoring_rows, notes = after_build(lakehouse, person, notes=select is None)
    return BuildSummary(
        models=counts["model"],
        tests=counts["test"],
        unit_tests=counts["unit_test"],
        feature_rows=feature_rows,
        scoring_rows=scoring_rows,
        seconds=time.perf_counter() - started,
        warnings=warnings,
        notes=notes,
        nodes=nodes,
    )


def node_results(results) -> list[dict]:
    """dbt's run results as plain rows: node, kind, status, seconds, rows and message."""
    rows = []
    for node_result in results:
        node = node_result.node
        kind = "unit_test" if node.resource_type == "unit_test" else str(node.resource_type)
        status = str(node_result.status)
        response = node_result.adapter_response or {}
        rows.append(
            {
                "node": node.name,
                "kind": kind,
                "status": status,
                "seconds": round(float(node_result.execution_time or 0), 3),
                "rows": response.get("rows_affected"),
                "failures": node_result.failures,
                "message": (node_result.message or status).strip(),
                "sql": getattr(node, "compiled_code", None) if kind == "test" else None,
            }
        )
    return rows


def failing_rows(lakehouse: Lakehouse, node: dict, limit: int = 3) -> str:
    """A failed data test's first rows, e.g. ``(column_name=place, null_rows=1)``: our tests
    of several columns (``not_null_columns``, ``values_between``) name the column that
    failed there. Empty when there is nothing to show or it cannot be read."""
    if node["status"] != "fail" or not node.get("sql"):
        return ""
    from airsick_lakehouse import connect

    try:
        with connect(lakehouse) as con:
            found = con.execute(f"select * from ({node['sql']}) limit {limit}")
            names = [column[0] for column in found.description]
            rows = found.fetchall()
    except Exception:  # the message without the rows is still the message
        return ""
    shown = ", ".join(
        "(" + ", ".join(f"{n}={v}" for n, v in zip(names, row, strict=True)) + ")" for row in rows
    )
    return f" {shown}" if shown else ""


def generate_docs(lakehouse: Lakehouse, state_dir: Path, *, person: str, today: date) -> Path:
    """Generate the dbt docs site as one self-contained page; return its path."""
    variables = build_vars(lakehouse, person)
    result = invoke(["docs", "generate", "--static"], lakehouse, state_dir, variables, today)
    if not result.success:
        raise TransformError(
            f"dbt docs generate failed ({result.exception or 'see the dbt log'}); "
            "run `airsick transform` first."
        )
    return state_dir / "target" / "static_index.html"


def forget_outputs(state_dir: Path) -> None:
    """Delete dbt's target and logs (compiled SQL, run results, the docs site): they name
    the person a build was for. The next build and ``airsick docs`` make them again."""
    import shutil

    for folder in ("target", "logs"):
        shutil.rmtree(state_dir / folder, ignore_errors=True)
