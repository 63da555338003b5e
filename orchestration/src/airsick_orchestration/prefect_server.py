"""Which Prefect server a command records its runs in: the one `airsick up` runs for this
home (it leaves ``HOME/prefect/server.json`` while it runs), else a temporary one started
for the command, as Prefect itself would, but at once.

``airsick run``, ``airsick forget`` and the demo use it; ``stack`` writes the marker.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from airsick_core.http import answers, free_port, wait_until
from airsick_core.settings import Settings

HOST = "127.0.0.1"


class PrefectServerError(RuntimeError):
    """Prefect's temporary server did not start."""


def prefect_marker(settings: Settings) -> Path:
    """Where a running stack says which Prefect server it runs, for other commands to use."""
    return settings.home / "prefect" / "server.json"


def running_prefect_api(settings: Settings) -> str | None:
    """The API of the Prefect server `airsick up` runs for this home, if it is up."""
    try:
        marker = json.loads(prefect_marker(settings).read_text())
        os.kill(int(marker["pid"]), 0)  # the stack that wrote it still runs
        if answers(f"{marker['api_url']}/health"):
            return str(marker["api_url"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


class TemporaryPrefectServer:
    """The temporary Prefect server Prefect itself starts when no API is set, started by us.

    Prefect's own (``SubprocessASGIServer``) is started on the first API call, after the
    command has imported the flows, and it imports the whole server into the command's
    process to do so. This one runs the same ``uvicorn`` command (UI off, ephemeral) as soon
    as the command knows it needs a server, so the server boots while the command imports
    and reads; nothing of the server is imported here. ``stop`` ends it with the command.
    """

    def __init__(self, settings: Settings) -> None:
        import importlib.util
        import subprocess

        self.port = free_port(HOST)
        prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent
        environment = {
            **os.environ,
            **settings.prefect_environment(),
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        environment.pop("PREFECT_API_URL", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(prefect_dir.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=environment,
        )

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    def wait(self, timeout: float = 180) -> None:
        """Return once the server answers; raise PrefectServerError if it ended or timed out."""

        def exited() -> bool:
            return self.process.poll() is not None

        if wait_until(
            lambda: answers(f"{self.api_url}/health"), timeout, interval=0.05, gone=exited
        ):
            return
        if exited():
            raise PrefectServerError(
                f"Prefect's temporary server exited with code {self.process.returncode}; "
                "run with --verbose to see why."
            )
        self.stop()
        raise PrefectServerError(
            f"Prefect's temporary server did not answer within {timeout:.0f} s."
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except Exception:
                self.process.kill()
                self.process.wait()
