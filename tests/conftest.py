"""Shared fixtures: the Open-Meteo stand-in, moto's S3 server, the shared recordings.

Tests under ``integration/`` and ``data/`` are marked by their folder, so that
``pytest -m "not integration and not data"`` is the fast suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from airsick_core.http import free_port

from tests.helpers import Receiver

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "open-meteo"
# A fixed "now" for tests: an evening in the demo persona's season of pollen.
NOW = datetime(2026, 5, 20, 18, 0, tzinfo=UTC)


# Screenshots and other files a person looks at after a run (CI keeps them).
ARTIFACTS = Path(os.environ.get("AIRSICK_TEST_ARTIFACTS", REPO / "test-artifacts"))


# The longest units of work (a minute or more each, by the last timing), started first:
# `make test` gives each unit to one worker as it frees up, and a long one picked up last
# would leave the other worker idle at the end.
LONGEST_FIRST = (
    "integration/test_deployed_topology.py",
    "integration/test_stack.py",
    "browser/test_app.py",
    "integration/test_transform.py",
    "integration/test_many_people.py",
    "integration/test_serving.py",
    "integration/test_new_person.py",
    "integration/test_your_data.py",
    "integration/test_overlaps.py",
    "integration/test_images.py",
    "data/test_learnt_prior.py",
    "integration/test_alert_faults.py",
    "integration/test_build_while_writing.py",
    "data/test_real_people.py",
)
# `make test` runs `--dist loadfile`: a file's tests run on one worker, so its module and
# session fixtures are made once. The exceptions (``pytest_xdist_make_scheduler``): the
# files that use the README's demo home (``demo_home``, two minutes to make) are one unit,
# and so are those that use the demo persona's home and its first training
# (``demo_settings``, ``built_demo``, ``first_training``: a minute), so that each is made
# once; test_real_people is one unit per real series, as each series has a home of its own.
DEMO_SETTINGS = (
    "integration/test_transform.py",
    "integration/test_serving.py",
    "integration/test_training.py",
    "integration/test_cli.py",
    "integration/test_flows.py",
    "integration/test_notify.py",
    "data/test_model_quality.py",
    "data/test_hindcast.py",
    "data/test_drift_measured.py",
    "data/test_features_contract.py",
    "data/test_raw_lake_contract.py",
)
TOGETHER = {
    "integration/test_stack.py": "demo-home",
    "browser/test_app.py": "demo-home",
    **dict.fromkeys(DEMO_SETTINGS, "demo-settings"),
}
BY_SERIES = "data/test_real_people.py"


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """pytest-xdist's own file scheduling, in the order of ``LONGEST_FIRST`` (xdist would
    otherwise start the files with the most tests first), with the units described above."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    from tests.real_people import SERIES

    config.option.loadscopereorder = False

    class Units(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            path = scope.removeprefix("tests/")
            if path == BY_SERIES:
                params = nodeid.partition("[")[2]
                return f"{scope}::" + next((s for s in SERIES if s in params), "")
            return TOGETHER.get(path, scope)

    return Units(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).relative_to(REPO / "tests")
        if path.parts[0] in ("integration", "data", "browser"):
            item.add_marker(getattr(pytest.mark, path.parts[0]))

    def rank(item: pytest.Item) -> int:
        path = Path(str(item.fspath)).relative_to(REPO / "tests").as_posix()
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the others, is kept


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every test away from the developer's .env, home and AWS settings."""
    for name in list(os.environ):
        if name.startswith(("AIRSICK_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIRSICK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture
def standin():
    """A simulator stand-in on a free loopback port, its clock at NOW."""
    from airsick_standin.server import StandIn

    with StandIn(now=NOW) as server:
        yield server


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[dict[str, str]]:
    """moto's S3 server on loopback with a ``lake`` bucket; yields the AWS settings."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    access = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    client = boto3.client(
        "s3",
        endpoint_url=access["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="lake")
    yield access
    server.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real recorded Open-Meteo series; the test skips when ../shared is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/open-meteo is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory):
    """A home with the demo persona's diary and three years of air quality, not yet built."""
    from airsick_core.settings import Settings
    from airsick_orchestration import optional, steps

    home = tmp_path_factory.mktemp("demo-home")
    settings = Settings(home=home, standin_port=0)
    with optional.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    return settings


@pytest.fixture(scope="session")
def built_demo(demo_settings):
    """The demo home with the lakehouse built by dbt, as the evening builds it (models and
    data tests; test_transform runs the unit tests)."""
    from airsick_orchestration import steps

    steps.transform(demo_settings, unit_tests=False)
    return demo_settings


@pytest.fixture(scope="session")
def first_training(built_demo, tmp_path_factory):
    """The demo persona's first training on the demo home (three years of diary), once per
    worker: ``(registry file, report)``. A test that registers more copies the registry
    (``registry_copy``): the copies share the home's artifact store, each run its own folder.
    """
    from airsick_orchestration import steps

    registry = tmp_path_factory.mktemp("first-training") / "mlflow.sqlite"
    report = steps.train(
        built_demo.model_copy(update={"mlflow_tracking_uri": f"sqlite:///{registry}"})
    )
    return registry, report


def registry_copy(first_training, settings, folder: Path):
    """``settings`` with a registry of its own that starts as ``first_training`` left it."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    copy = shutil.copyfile(first_training[0], folder / "mlflow.sqlite")
    return settings.model_copy(update={"mlflow_tracking_uri": f"sqlite:///{copy}"})


def airsick_command(*args: str) -> list[str]:
    """The airsick CLI as a user runs it, in its own process."""
    return [sys.executable, "-m", "airsick_orchestration", *args]


def process_environment(home: Path, prefect_api: str | None = None, **settings: str) -> dict:
    """A clean environment for an airsick process: only the given AIRSICK_ settings, and the
    session's Prefect server when given (``prefect_api``)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRSICK_", "AWS_", "PREFECT_"))
    }
    env |= {
        "AIRSICK_HOME": str(home),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        # One `mlflow models serve` worker per model server: the suite starts several on two
        # cores, and each worker costs seconds of CPU to start (the product's default is two).
        "AIRSICK_SERVE_WORKERS": "1",
        **settings,
    }
    if prefect_api:
        env["AIRSICK_PREFECT_API_URL"] = prefect_api
    return env


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory) -> Iterator[str]:
    """One Prefect server for the airsick processes of this session (one per xdist worker):
    the product's own temporary server (``TemporaryPrefectServer``), kept up.

    A process given it (``AIRSICK_PREFECT_API_URL``, as `airsick up` gives its deployments)
    records its runs there instead of booting a server of its own, which costs 10 to 20 s of
    CPU on a new home: most of a short run, and most of this suite on two cores. The README's
    main job (``demo_home``) and `forget`'s whole-disk scan keep a server of their own.
    """
    from airsick_core.settings import Settings
    from airsick_orchestration.prefect_server import TemporaryPrefectServer

    server = TemporaryPrefectServer(Settings(home=tmp_path_factory.mktemp("prefect-server")))
    try:
        server.wait()
        yield server.api_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> dict:
    """A home made by `airsick demo --once` from empty (the README's main job), offline, then
    run once more before any test touches it.

    Yields the environment its processes use, both runs' output and the alerts they sent.
    """
    home = tmp_path_factory.mktemp("demo-once") / "home"
    env = process_environment(home, AIRSICK_STANDIN_PORT="0")
    outputs, errors = [], []
    # Both runs send the evening alert (threshold 0) to a webhook on loopback.
    with Receiver() as receiver:
        notify = {"AIRSICK_NOTIFY_URL": receiver.url, "AIRSICK_NOTIFY_THRESHOLD": "0"}
        for _ in range(2):
            run = subprocess.run(
                airsick_command("demo", "--once"),
                env=env | notify,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert run.returncode == 0, run.stdout + run.stderr
            outputs.append(run.stdout)
            errors.append(run.stderr)
    return {
        "home": home,
        "env": env,
        "output": outputs[0],
        "again": outputs[1],
        "errors": errors[0],
        "alerts": receiver.received,
    }
