"""One `mlflow models serve` process for one pinned model version."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from airsick_core.http import wait_until

log = logging.getLogger(__name__)


class BackendError(RuntimeError):
    """The model server did not come up; the message says where its log is."""


@dataclass
class Backend:
    """`mlflow models serve -m models:/airsick/N --env-manager local` on a loopback port."""

    model_uri: str
    version: str
    port: int
    tracking_uri: str
    log_path: Path
    host: str = "127.0.0.1"
    # Two uvicorn workers (AIRSICK_SERVE_WORKERS): one model server uses both cores while the
    # front waits on it (at 8 clients: 775 req/s against 479 with one; benchmarks/serving.py).
    workers: int = 2
    environment: dict[str, str] = field(default_factory=dict)  # more for the model's process
    process: subprocess.Popen | None = field(default=None, repr=False)
    in_flight: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Backend:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_REGISTRY_URI": self.tracking_uri,
            # mlflow launches `uvicorn` by name: this interpreter's scripts come first.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **self.environment,
        }
        args = [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            self.model_uri,
            "--env-manager",
            "local",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/ping", timeout=1).ok
        except requests.RequestException:
            return False

    def wait_healthy(self, timeout: float = 120) -> Backend:
        def exited() -> bool:
            return self.process is not None and self.process.poll() is not None

        if wait_until(self.healthy, timeout, gone=exited):
            return self
        if exited():
            raise BackendError(
                f"The model server for version {self.version} exited; see {self.log_path}."
            )
        self.stop()
        raise BackendError(
            f"The model server for version {self.version} was not healthy after {timeout:.0f} s; "
            f"see {self.log_path}."
        )

    def stop(self, drain_seconds: float = 30) -> None:
        """Let requests in flight finish, then stop the process group."""
        deadline = time.monotonic() + drain_seconds
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=5)
