"""One build, one view of the raw zone: every dbt model that reads a raw source is a table,
so a build reads each raw table once, at its start, and entries that land during the build
wait for the next one (a view is read again by every model and test after it)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[2] / "transform" / "dbt" / "models"
PROJECT = yaml.safe_load((MODELS.parent / "dbt_project.yml").read_text())


def _folder_materialization(model: Path) -> str:
    config = PROJECT["models"]["airsick"]
    found = config.get("+materialized", "view")
    for part in model.relative_to(MODELS).parts[:-1]:
        config = config.get(part, {})
        found = config.get("+materialized", found)
    return found


def test_every_model_reading_the_raw_zone_is_a_table():
    readers = [m for m in MODELS.rglob("*.sql") if "source(" in m.read_text()]
    assert readers
    for model in readers:
        own = re.search(r'materialized\s*=\s*"(\w+)"', model.read_text())
        assert (own.group(1) if own else _folder_materialization(model)) == "table", model.name
