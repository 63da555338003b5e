"""What the benchmarks share: running a command and measuring it, starting the stand-in."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from airsick_core.http import free_port


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    stdout: str


def measure(args: list[str], env: dict[str, str]) -> Measured:
    """Run a command to completion; return its wall time and its own peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out}")
    return Measured(seconds, usage.ru_maxrss / 1024, out)


@contextmanager
def standin_process(env: dict[str, str], *options: str):
    """Run `airsick standin` in its own process (as a real API would be) on a free port."""
    port = free_port()
    args = [sys.executable, "-m", "airsick_orchestration", "standin", "--port", str(port)]
    args += options
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/_standin/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def each_size(
    results_path: Path, sizes: list[int], prefix: str, run: Callable[..., dict]
) -> dict[str, dict]:
    """Measure each size not measured yet (every size with AIRSICK_BENCH_FRESH=1):
    ``run(size, standin_url, folder, results)`` in a temporary folder, beside a stand-in of
    its own; the figures are written to ``results_path`` after each size, and returned."""
    results = {}
    if results_path.exists() and os.environ.get("AIRSICK_BENCH_FRESH") != "1":
        results = json.loads(results_path.read_text())
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRSICK_", "PREFECT_"))}
    with standin_process(env | {"AIRSICK_HOME": str(folder / "standin")}) as url:
        for size in sizes:
            if str(size) in results:
                continue
            results[str(size)] = run(size, url, folder, results)
            results_path.parent.mkdir(exist_ok=True)
            results_path.write_text(json.dumps(results, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    return results


def model_server(home, environment: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Start `airsick serve` for ``home`` on a free port in its own session; wait for /ping."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "airsick_orchestration", "serve", "--port", str(port)],
        env={**os.environ, "AIRSICK_HOME": str(home), **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/ping", timeout=2).ok:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop(process)
    raise RuntimeError("the model server did not come up")


def stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything under it."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def log_skill_run(
    run_name: str, metrics: list[tuple[str, float, int]], figure, table: object = None
) -> str:
    """Log a skill benchmark's figures (name, value, step), its plot and, when given, its
    table (JSON) to MLflow's ``airsick-skill`` experiment in AIRSICK_HOME; return its URL."""
    import mlflow
    from airsick_core.settings import Settings

    settings = Settings()
    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri)
    experiment = client.get_experiment_by_name("airsick-skill")
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment("airsick-skill", artifact_location=settings.artifact_location)
    )
    run = client.create_run(experiment_id, run_name=run_name)
    for name, value, step in metrics:
        client.log_metric(run.info.run_id, name, value, step=step)
    client.log_figure(run.info.run_id, figure, f"{run_name}.png")
    if table is not None:
        client.log_dict(run.info.run_id, table, f"{run_name}.json")
    client.set_terminated(run.info.run_id)
    return (
        f"{settings.mlflow_ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run.info.run_id}"
    )
