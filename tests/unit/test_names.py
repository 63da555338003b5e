"""The shared names: spelled once in airsick_core, and dbt's project agrees with them."""

import ast
import re
from pathlib import Path

from airsick_core import names
from airsick_core.lake import Lakehouse, raw_path
from airsick_transform.runner import PROJECT_DIR

REPO = Path(__file__).resolve().parents[2]
MODELS = PROJECT_DIR / "models"


def test_every_table_named_in_core_is_a_model_of_the_dbt_project():
    for table in (
        names.FEATURES,
        names.SCORING,
        names.HINDCAST,
        names.HINDCAST_MONTHLY,
        names.QUARANTINED,
    ):
        schema, model = table.split(".")
        (path,) = MODELS.glob(f"*/{model}.sql")
        configured = path.parent.name  # dbt_project.yml gives each folder its schema
        assert configured == schema, f"{model} is built in schema {configured}, not {schema}"


def test_dbt_reads_the_variable_lists_from_the_var_airsick_transform_passes():
    macros = (PROJECT_DIR / "macros" / "air_quality.sql").read_text()
    for variable in (*names.AIR_VARIABLES, *names.WEATHER_VARIABLES):
        listed = re.search(rf'return\(\[[^\]]*"{variable}"', macros)
        assert listed is None, f"{variable} is listed in a dbt macro; it belongs in names"
    passed = names.dbt_vars()["airsick"]
    assert passed["pollutants"] + passed["indices"] + passed["pollens"] == list(names.AIR_VARIABLES)
    assert passed["weather"] == list(names.WEATHER_VARIABLES)


def test_the_raw_zone_layout_is_one_function():
    lakehouse = Lakehouse(lake_url="s3://bucket/prefix/", catalog="sqlite:/x")
    assert lakehouse.raw(names.DIARY) == "s3://bucket/prefix/raw/diary"
    assert lakehouse.raw_files(names.DIARY) == "s3://bucket/prefix/raw/diary/*.parquet"
    assert lakehouse.dbt_environment()["AIRSICK_RAW"] == raw_path("s3://bucket/prefix")
    assert raw_path("/lake") == "/lake/raw"


def _code_strings(tree: ast.AST) -> list[str]:
    """Every string literal of a module but its docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_component_spells_a_shared_name_again():
    """A mart's name, the model's name, a variable list or the raw zone's layout is written in
    core alone (docstrings may mention them)."""
    strings = re.compile(
        r"^(marts|hindcast|intermediate)\.\w+$|(from|join)\s+(lake\.)?(marts|hindcast)\.|"
        r"/raw/|^raw/|/raw$"
    )
    assignments = re.compile(
        r"^(MODEL_NAME|CHAMPION|CHALLENGER|POLLUTANTS|POLLENS|WEATHER_VARIABLES|RAW_ZONE)\s*=",
        re.MULTILINE,
    )
    offenders = []
    for path in REPO.glob("*/src/airsick_*/**/*.py"):
        if path.is_relative_to(REPO / "core"):
            continue
        text = path.read_text()
        where = path.relative_to(REPO)
        offenders += [
            f"{where}: {s!r}" for s in _code_strings(ast.parse(text)) if strings.search(s)
        ]
        offenders += [f"{where}: {m.group(0)}" for m in assignments.finditer(text)]
    assert offenders == []
