"""The product as a user meets it: `airsick demo --once` from nothing, then `airsick up`.

The stack runs its real processes (Prefect server, the deployments, MLflow server, model
server, marimo app, dbt docs, the stand-in) on free loopback ports; a deployment run is
started through Prefect's REST API; Ctrl-C must leave no process behind.
"""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import threading
import time

import httpx
import psutil
import pytest
from airsick_core.http import free_port

from tests.conftest import airsick_command

SERVICES = {"standin", "prefect", "mlflow", "deployments", "model", "app", "docs"}


def test_demo_once_from_an_empty_home_then_again(demo_home):
    first = demo_home["output"]
    assert "new entries" in first and "Ingested" in first
    assert "Trained because there is no champion yet" in first
    assert re.search(
        r"home: \w{3} \d{2} \w{3}, .* chance of being sick; .*; model v1, personal, "
        r"from your \d+ logged days\.",
        first,
    )

    # The terminal shows airsick's lines, not its libraries' narration.
    for noise in ("mlflow", "Successfully registered", "Created version", "Traceback"):
        assert noise not in first + demo_home["errors"], noise

    again = demo_home["again"]  # run straight after the first, before any test used the home
    assert "Diary: 0 new entries" in again
    assert "(0 new hours)" in again
    assert "No training: only 0 new labelled days" in again

    # With AIRSICK_NOTIFY_URL on a loopback webhook and the threshold at 0, the first
    # evening sends one alert with tomorrow's chance; the second run the same day, none.
    assert "Evening alert sent" in first and "Evening alert already sent" in again
    (alert,) = demo_home["alerts"]
    assert re.search(r"chance of being sick on \w+day", alert["title"])
    assert re.search(r"home, \w+day \d{2} \w+: .*\(\d+%\) chance of being sick", alert["message"])


def stack_environment(demo_home) -> dict[str, str]:
    ports = {
        name: str(free_port()) for name in ("PREFECT", "MLFLOW", "SERVE", "APP", "DOCS", "STANDIN")
    }
    return {
        **demo_home["env"],
        **{f"AIRSICK_{name}_PORT": port for name, port in ports.items()},
        "AIRSICK_SERVE_POLL_SECONDS": "1",
    }


class Lines:
    """A process's output, line by line, readable with a timeout."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} within {timeout} s; output:\n{''.join(self.seen)}")


def run_deployment(prefect: str, name: str, parameters: dict, timeout: float = 600) -> dict:
    """Start a deployment's run through Prefect's REST API and wait for its final state."""
    with httpx.Client(base_url=f"{prefect}/api", timeout=30) as api:
        deployment = api.get(f"/deployments/name/{name}").raise_for_status().json()
        run = (
            api.post(
                f"/deployments/{deployment['id']}/create_flow_run",
                json={"parameters": parameters},
            )
            .raise_for_status()
            .json()
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = api.get(f"/flow_runs/{run['id']}").raise_for_status().json()["state"]
            if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return state
            time.sleep(2)
    raise AssertionError(f"the {name} run did not finish within {timeout} s")


def score_runs(prefect: str) -> list[str]:
    """The final states of the score flow's runs the server has recorded."""
    answer = httpx.post(
        f"{prefect}/api/flow_runs/filter",
        json={"flows": {"name": {"any_": ["score"]}}},
        timeout=30,
    ).raise_for_status()
    return [run["state"]["type"] for run in answer.json()]


def build_reports(prefect: str) -> int:
    """How many dbt build reports (the transform flow's artifact) the server holds."""
    answer = httpx.post(
        f"{prefect}/api/artifacts/filter",
        json={"artifacts": {"key": {"any_": ["dbt-build"]}}},
        timeout=30,
    ).raise_for_status()
    return len(answer.json())


def test_stack_comes_up_runs_a_deployment_and_stops_on_ctrl_c(demo_home):
    env = stack_environment(demo_home)
    up = subprocess.Popen(
        airsick_command("up", "--standin"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = Lines(up)
    processes: list[psutil.Process] = []
    try:
        lines.wait_for("services are up", timeout=400)
        urls = dict(
            re.match(r"(\w+)\s+(http://127\.0\.0\.1:\d+\S*)", line).groups()
            for line in lines.seen
            if re.match(r"\w+\s+http://127\.0\.0\.1", line)
        )
        assert set(urls) == SERVICES
        for name, url in urls.items():
            answer = httpx.get(url, timeout=30, follow_redirects=True)
            # The stand-in's API root wants parameters: a 400 that says so is its answer.
            assert answer.status_code < 500 if name == "standin" else answer.is_success, name
        assert httpx.get(f"{urls['model']}/ping", timeout=30).is_success
        for name in SERVICES:
            assert (demo_home["home"] / "logs" / f"{name}.log").exists(), name

        processes = psutil.Process(up.pid).children(recursive=True)
        # A stage from the UI's Run button: the worker runs the build and publishes its report.
        before = build_reports(urls["prefect"])
        state = run_deployment(urls["prefect"], "transform/transform", {})
        assert state["type"] == "COMPLETED", state
        assert build_reports(urls["prefect"]) == before + 1

        # `airsick run` in another terminal records its run in the stack's Prefect server
        # rather than starting a temporary one on the same database.
        assert "AIRSICK_PREFECT_API_URL" not in demo_home["env"]
        runs_before = score_runs(urls["prefect"])
        scored = subprocess.run(
            airsick_command("--verbose", "run", "score"),
            env=demo_home["env"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert scored.returncode == 0, scored.stderr
        assert "temporary" not in scored.stdout + scored.stderr
        runs_after = score_runs(urls["prefect"])
        assert len(runs_after) == len(runs_before) + 1
        assert runs_after.count("COMPLETED") == runs_before.count("COMPLETED") + 1
    finally:
        up.send_signal(signal.SIGINT)  # what Ctrl-C sends
        code = up.wait(timeout=90)
    assert code == 0, "".join(lines.seen)
    assert not (demo_home["home"] / "prefect" / "server.json").exists()
    time.sleep(1)
    alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]
    for key in ("AIRSICK_PREFECT_PORT", "AIRSICK_MLFLOW_PORT", "AIRSICK_SERVE_PORT"):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", int(env[key]))) != 0, f"{key} still answers"


def test_a_taken_port_is_named_with_the_setting_that_moves_it(demo_home):
    env = stack_environment(demo_home)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["AIRSICK_APP_PORT"])))
        taken.listen()
        result = subprocess.run(
            airsick_command("up"), env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"Port {env['AIRSICK_APP_PORT']} (app) is taken" in message
    assert "AIRSICK_APP_PORT" in message


def test_up_before_anything_is_built_says_what_to_run(tmp_path):
    from tests.conftest import process_environment

    result = subprocess.run(
        airsick_command("up"),
        env=process_environment(tmp_path / "empty"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "airsick demo --once" in " ".join(result.stderr.split())


@pytest.mark.parametrize("command", [["up"], ["schedule"], ["app"], ["explore"], ["run"]])
def test_stack_commands_explain_themselves(command):
    result = subprocess.run(
        airsick_command(*command, "--help"), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "Usage" in result.stdout
