"""What cannot run here is checked as far as it can be: compose.yml against the compose spec
and against the repository, the Dockerfiles, flake.nix and devcontainer.json."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from airsick_core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yml"
# The services that publish a UI or API, with the setting that names their port.
PUBLISHED = {
    "prefect": "prefect_port",
    "mlflow": "mlflow_port",
    "model": "serve_port",
    "app": "app_port",
    "docs": "docs_port",
}
ONE_SHOT = {"minio-init"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def example_env() -> dict[str, str]:
    pairs = re.findall(r"^([A-Z0-9_]+)=(.*)$", (REPO / "example.env").read_text(), re.M)
    return dict(pairs)


def test_compose_validates_against_the_compose_spec():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_variable_compose_reads_is_in_example_env():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    assert used - set(example_env()) == set()


def test_every_airsick_setting_a_service_gets_is_a_real_setting(compose):
    known = {f"AIRSICK_{name.upper()}" for name in Settings.model_fields}
    known |= {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        for key in environment:
            if key.startswith(("AIRSICK_", "AWS_")):
                assert key in known, f"{name} sets {key}, which no setting reads"


def test_secrets_are_empty_in_example_env_and_required_by_compose():
    text = COMPOSE.read_text()
    # Compose's own secrets (the AWS_* ones are the local stack's, set per service here).
    secrets = [
        k
        for k in example_env()
        if re.search(r"PASSWORD|SECRET|ACCESS_KEY", k) and not k.startswith("AWS_")
    ]
    assert len(secrets) >= 10
    for name in secrets:
        assert example_env()[name] == "", f"{name} has a value in example.env"
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, f"{name} is not used by compose.yml"
        assert all(use.startswith(":?") for use in uses), f"{name} may be left empty"


def test_dependencies_and_health_checks_name_real_services(compose):
    services = compose["services"]
    for name, service in services.items():
        for needed, condition in service.get("depends_on", {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            wanted = "service_completed_successfully" if needed in ONE_SHOT else "service_healthy"
            assert condition["condition"] == wanted, f"{name} -> {needed}"
            assert needed in ONE_SHOT or "healthcheck" in services[needed]
        if name not in ONE_SHOT:
            assert "healthcheck" in service, f"{name} has no health check"
            assert service.get("restart") == "unless-stopped", name
        for url in re.findall(r"http://([a-z-]+):\d+", json.dumps(service.get("healthcheck"))):
            assert url in services or url == "127.0.0.1", f"{name} checks unknown {url}"


def test_images_are_pinned_and_dockerfiles_exist(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            build = service["build"]
            dockerfile = REPO / build["context"] / build.get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
            assert "command" in service, f"{name}: the image has no CMD; compose must say"
        else:
            image = service["image"]
            built = {s.get("image") for s in compose["services"].values() if "build" in s}
            assert image in built or re.search(r":[\w.-]*\d[\w.-]*$", image), (
                f"{name}: image {image} is not pinned"
            )
            assert not image.endswith(":latest")


def test_published_ports_match_the_settings_and_bind_to_loopback(compose):
    defaults = Settings()
    for name, field in PUBLISHED.items():
        (port,) = compose["services"][name]["ports"]
        host, container = port.rsplit(":", 1)
        assert host.startswith("${BIND_ADDRESS:-127.0.0.1}:")
        setting = f"AIRSICK_{field.upper()}"
        default = getattr(defaults, field)
        assert host.endswith(f"${{{setting}:-{default}}}"), f"{name}: {host}"
        assert int(container) == default, f"{name} listens on {container}, not {default}"
        assert str(default) in json.dumps(compose["services"][name].get("healthcheck"))
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("${BIND_ADDRESS:-127.0.0.1}:")


def test_mounted_files_exist(compose):
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
    init = (REPO / "deploy" / "minio" / "init.sh").read_text()
    for policy in re.findall(r"\s(lake-\w+|mlflow-\w+)$", init, re.M):
        assert (REPO / "deploy" / "minio" / "policies" / f"{policy}.json").is_file()


def test_one_dockerfile_builds_each_member_from_the_lock_as_non_root(compose):
    text = (REPO / "Dockerfile").read_text()
    assert 'uv sync --frozen --no-dev --no-editable --package "$PACKAGE"' in text
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2, "not multi-stage"
    assert re.search(r"^USER airsick$", text, re.M)
    for image in re.findall(r"^FROM (\S+)", text, re.M):
        assert re.search(r":[\w.-]*\d", image), f"{image} is not pinned"
    members = {
        re.search(r'^name = "(.+)"', path.read_text(), re.M).group(1)
        for path in REPO.glob("*/pyproject.toml")
    }
    built = {s["build"]["args"]["PACKAGE"] for s in compose["services"].values() if "build" in s}
    assert built <= members
    assert built == {
        "airsick-orchestration",
        "airsick-training",
        "airsick-serving",
        "airsick-notebooks",
    }


def test_flake_parses_and_its_lock_pins_nixpkgs():
    nix = shutil.which("nix-instantiate")
    if nix is None:
        pytest.skip("nix-instantiate is not installed (apt-get install nix-bin)")
    result = subprocess.run(
        [nix, "--parse", str(REPO / "flake.nix")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lock = json.loads((REPO / "flake.lock").read_text())
    nixpkgs = lock["nodes"]["nixpkgs"]["locked"]
    assert len(nixpkgs["rev"]) == 40 and nixpkgs["narHash"].startswith("sha256-")
    assert lock["nodes"]["root"]["inputs"] == {"nixpkgs": "nixpkgs"}


def test_devcontainer_parses_and_runs_the_readmes_install():
    text = (REPO / ".devcontainer" / "devcontainer.json").read_text()
    config = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))
    assert re.search(r":\d+\.\d+\.\d+-3\.11-bookworm$", config["image"])
    assert config["postCreateCommand"].endswith("make install")
    assert re.search(r"^install:", (REPO / "Makefile").read_text(), re.M)
    defaults = Settings()
    ports = {getattr(defaults, field) for field in PUBLISHED.values()}
    assert set(config["forwardPorts"]) == ports
    assert all(config["portsAttributes"][str(p)]["label"] for p in ports)


def _installed_members(package: str) -> set[str]:
    """The workspace members `uv sync --no-dev --package PACKAGE` installs (what an image
    built with that PACKAGE carries), read from uv.lock."""
    import tomllib

    lock = tomllib.loads((REPO / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    seen, todo = set(), [package]
    while todo:
        name = todo.pop()
        if name in seen or name not in packages:
            continue
        seen.add(name)
        todo += [d["name"] for d in packages[name].get("dependencies", [])]
    return {name for name in seen if name.startswith("airsick-")}


def test_every_member_copies_its_metadata_and_images_carry_no_stand_in():
    text = (REPO / "Dockerfile").read_text()
    for path in REPO.glob("*/pyproject.toml"):
        folder = path.parent.name
        assert f"COPY {folder}/pyproject.toml {folder}/pyproject.toml" in text, folder
    for package in ("airsick-orchestration", "airsick-training", "airsick-serving"):
        members = _installed_members(package)
        assert "airsick-core" in members
        assert "airsick-standin" not in members, f"{package}'s image would ship the stand-in"
    assert _installed_members("airsick-notebooks").isdisjoint(
        {"airsick-orchestration", "airsick-standin"}
    )
