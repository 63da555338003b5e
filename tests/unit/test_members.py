"""Each workspace member imports only the members it declares: an image installs a member and
what its ``pyproject.toml`` names, so an undeclared import works in the workspace and fails
in the image (the app once did)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MEMBERS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]


def _project(folder: str) -> dict:
    return tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]


def _module(package: str) -> str:
    return package.split("[")[0].split(">")[0].split("=")[0].strip().replace("-", "_")


def _declared(project: dict) -> set[str]:
    names = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        names += extra
    return {_module(name) for name in names if name.startswith("airsick-")}


def _imported(source: Path) -> set[str]:
    """Every airsick module a file imports: statements anywhere in it, and
    ``importlib.import_module`` calls whose name starts with a constant."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
        ):
            name = node.args[0]
            if isinstance(name, ast.JoinedStr) and name.values:
                name = name.values[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.add(name.value.split(".")[0])
    return {name for name in found if name.startswith("airsick_")}


@pytest.mark.parametrize("folder", MEMBERS)
def test_a_member_imports_only_members_it_declares(folder):
    project = _project(folder)
    own = _module(project["name"])
    allowed = _declared(project) | {own}
    undeclared = {
        f"{path.relative_to(REPO)}: {name}"
        for path in (REPO / folder / "src").rglob("*.py")
        for name in _imported(path) - allowed
    }
    assert not undeclared, f"{project['name']} imports members it does not declare: {undeclared}"


def test_the_check_sees_lazy_and_dynamic_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "import importlib\n"
        "def f():\n    from airsick_training.track import x\n"
        "def g(m):\n    return importlib.import_module(f'airsick_standin.{m}')\n"
    )
    assert _imported(source) == {"airsick_training", "airsick_standin"}
