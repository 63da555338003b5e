"""Each image on its own: every compose service built from the Dockerfile, run in an
environment made the way its image is made, from a copy of the repository.

No Docker engine runs here, so the image's environment is built as the Dockerfile builds it
(``uv sync --frozen --no-dev --no-editable --package PACKAGE`` on a copy of the sources) in
a temporary folder; then each service's ``command:`` is run far enough to prove it starts
(``--help``), every module of every airsick member in the image is imported, and the app,
the one service that answers without other services, is started and asked for ``/health``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from airsick_core.http import free_port

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "compose.yml").read_text())

# What the runtime image has on PATH and nothing else of this machine's environments.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def _services_by_package() -> dict[str, list[tuple[str, list[str]]]]:
    """The compose services whose image the Dockerfile builds, by the member it installs."""
    images = {
        service["image"]: service["build"]["args"]["PACKAGE"]
        for service in COMPOSE["services"].values()
        if "build" in service
    }
    found: dict[str, list[tuple[str, list[str]]]] = {}
    for name, service in COMPOSE["services"].items():
        if service.get("image") in images:
            found.setdefault(images[service["image"]], []).append((name, service["command"]))
    return found


SERVICES = _services_by_package()


def _help_command(command: list[str]) -> list[str]:
    """The command's program and subcommands (up to its first option), asking for help."""
    words = []
    for word in command:
        if word.startswith("-") and words[-2:] != ["python", "-m"]:
            break
        words.append(word)
    return [*words, "--help"]


def _copy_sources(target: Path) -> None:
    """What ``COPY . .`` brings: the files git knows of (tracked or not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("image-src")
    _copy_sources(target)
    return target


@pytest.fixture(scope="module")
def image(sources, tmp_path_factory):
    """``image(package)``: the venv of that package's image, built once for this module."""
    built: dict[str, Path] = {}

    def venv_of(package: str) -> Path:
        if package not in built:
            built[package] = tmp_path_factory.mktemp(package) / "venv"
            _build_environment(sources, package, built[package])
        return built[package]

    return venv_of


def _build_environment(sources: Path, package: str, venv: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))},
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": sys.executable,
    }
    uv = shutil.which("uv") or "uv"
    built = subprocess.run(
        [uv, "sync", "--frozen", "--no-dev", "--no-editable", "--package", package, "-q"],
        cwd=sources,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr


def _image_env(venv: Path, home: Path) -> dict[str, str]:
    """The runtime image's environment: its venv first on PATH, nothing of the workspace."""
    return {
        "PATH": f"{venv / 'bin'}:{SYSTEM_PATH}",
        "HOME": str(home),
        "AIRSICK_HOME": str(home / "state"),
        "PYTHONUNBUFFERED": "1",
        "LANG": "C.UTF-8",
    }


IMPORT_EVERY_MODULE = """
import importlib, importlib.metadata, pkgutil
members = sorted(
    d.metadata["Name"].replace("-", "_") for d in importlib.metadata.distributions()
    if d.metadata["Name"].startswith("airsick-")
)
for member in members:
    package = importlib.import_module(member)
    for module in pkgutil.walk_packages(package.__path__, member + "."):
        importlib.import_module(module.name)
print(" ".join(members))
"""


@pytest.mark.parametrize("package", sorted(SERVICES))
def test_each_service_starts_in_its_own_image(package, image, tmp_path):
    env = _image_env(image(package), tmp_path)

    def in_image(command: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    imported = in_image(["python", "-c", IMPORT_EVERY_MODULE])
    assert imported.returncode == 0, f"{package}'s image cannot import its code:\n{imported.stderr}"
    assert package.replace("-", "_") in imported.stdout.split()
    assert "airsick_standin" not in imported.stdout.split(), f"{package}'s image ships the stand-in"

    for service, command in SERVICES[package]:
        program = shutil.which(command[0], path=env["PATH"])
        assert program, f"{service}: its image has no {command[0]!r} for {command}"
        helped = in_image(_help_command(command))
        assert helped.returncode == 0, f"{service}: {command} fails in its image:\n{helped.stderr}"
        assert "usage" in helped.stdout.lower(), f"{service}: no help from {command}"


def test_the_app_answers_from_its_own_image(image, tmp_path):
    (service, command), *_ = SERVICES["airsick-notebooks"]
    assert service == "app"
    venv = image("airsick-notebooks")
    port = free_port()
    # compose's command, on loopback and a free port, with the password compose requires.
    command = [*_help_command(command)[:-1], "--host", "127.0.0.1", "--port", str(port)]
    env = {**_image_env(venv, tmp_path), "AIRSICK_APP_PASSWORD": "image-test"}
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not answer /health within 120 s")
        # Behind the sign-in: the page asks for a name and password instead of showing data.
        page = httpx.get(
            f"http://127.0.0.1:{port}/",
            headers={"Accept": "text/html"},
            timeout=10,
            follow_redirects=True,
        )
        assert page.url.path == "/login" and "Password" in page.text
    finally:
        process.terminate()
        process.wait(timeout=30)
