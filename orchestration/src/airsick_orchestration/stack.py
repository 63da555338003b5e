"""`airsick up`: every service of the local stack on 127.0.0.1, supervised by honcho.

honcho (the Python Foreman) starts each service in its own process group, stops them all
with SIGTERM on Ctrl-C (SIGKILL after a grace period) and stops the rest when one dies.
This module adds what honcho leaves to its users: which services and commands, a log file
per service under ``HOME/logs``, a health check per service, one line per service once it
is healthy, and a clear message when a port is taken or a service fails.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import honcho.manager
import httpx
from airsick_core.http import PortTakenError, port_free
from airsick_core.settings import Settings
from honcho.printer import Message

from airsick_orchestration.prefect_server import prefect_marker

HOST = "127.0.0.1"
# Seconds between SIGTERM and SIGKILL: the model server drains requests and stops its backend.
STOP_GRACE_SECONDS = 20
# Prefect and MLflow each need ~20 s on two cores, longer when everything starts at once.
HEALTHY_WITHIN_SECONDS = 300


class StackError(RuntimeError):
    """The stack cannot start, or a service did not become healthy."""


@dataclass(frozen=True)
class Service:
    """One long-running process of the stack."""

    name: str
    purpose: str
    command: list[str]
    port: int
    setting: str  # the variable that moves its port, for the port-taken message
    health: str  # a path that answers 2xx once the service works
    url: str  # what a person opens
    environment: dict[str, str] = field(default_factory=dict)
    ready: Callable[[httpx.Client, str], bool] | None = None  # a stricter check than `health`

    def healthy(self, client: httpx.Client) -> bool:
        base = f"http://{HOST}:{self.port}"
        try:
            if not client.get(base + self.health).is_success:
                return False
            return self.ready is None or self.ready(client, base)
        except httpx.HTTPError:
            return False


def _bin(name: str) -> str:
    """A console script of this environment (the stack runs what this interpreter has)."""
    return str(Path(sys.executable).parent / name)


def _deployments_ready(client: httpx.Client, base: str) -> bool:
    """The runner polls its deployments: Prefect then marks them READY."""
    found = client.post(
        f"{base}/api/deployments/filter", json={"deployments": {"tags": {"all_": ["airsick"]}}}
    )
    listed = found.json() if found.is_success else []
    return bool(listed) and all(d.get("status") == "READY" for d in listed)


def services(settings: Settings, standin: bool = False) -> list[Service]:
    """The local stack, in the order it is listed to the person.

    Long because it is a table: one ``Service`` row per process, each read whole where it
    stands (command, port, health path, environment); split up, the table would be scattered.
    """
    prefect_api = f"http://{HOST}:{settings.prefect_port}/api"
    local_mlflow = not settings.tracking_uri.startswith("http")
    tracking = f"http://{HOST}:{settings.mlflow_port}" if local_mlflow else settings.tracking_uri
    # The deployments fetch from the stand-in when the stack runs offline.
    standin_url = f"http://{HOST}:{settings.standin_port}"
    offline = {"AIRSICK_OPEN_METEO_URL": standin_url} if standin else {}
    # Every airsick process of the stack talks to the stack's servers.
    shared = {
        "AIRSICK_HOME": str(settings.home),
        "AIRSICK_MLFLOW_TRACKING_URI": tracking,
        "AIRSICK_PREFECT_API_URL": prefect_api,
    }
    stack = [
        Service(
            "prefect",
            "flow runs, schedules and artifacts",
            [
                _bin("prefect"),
                "server",
                "start",
                "--host",
                HOST,
                "--port",
                str(settings.prefect_port),
            ],
            settings.prefect_port,
            "AIRSICK_PREFECT_PORT",
            "/api/health",
            f"http://{HOST}:{settings.prefect_port}",
            {k: v for k, v in settings.prefect_environment().items() if k != "PREFECT_API_URL"},
        ),
    ]
    if local_mlflow:
        stack.append(
            Service(
                "mlflow",
                "training runs and the model registry",
                [
                    _bin("mlflow"),
                    "server",
                    "--backend-store-uri",
                    settings.tracking_uri,
                    "--artifacts-destination",
                    str((settings.home / "mlflow" / "artifacts").resolve()),
                    "--host",
                    HOST,
                    "--port",
                    str(settings.mlflow_port),
                    "--workers",
                    "1",
                ],
                settings.mlflow_port,
                "AIRSICK_MLFLOW_PORT",
                "/health",
                tracking,
            )
        )
    stack += [
        Service(
            "deployments",
            f"the daily flow at '{settings.daily_cron}', the diary reminder at "
            f"{settings.remind_at}, each stage on demand: Prefect UI, "
            "Deployments",
            [_bin("airsick"), "schedule"],
            settings.prefect_port,
            "AIRSICK_PREFECT_PORT",
            "/api/health",
            f"http://{HOST}:{settings.prefect_port}",
            {**shared, **offline},
            ready=_deployments_ready,
        ),
        Service(
            "model",
            "everyone's @champion over HTTP (/invocations, params person)",
            [_bin("airsick"), "serve", "--host", HOST, "--port", str(settings.serve_port)],
            settings.serve_port,
            "AIRSICK_SERVE_PORT",
            "/airsick/model",
            f"http://{HOST}:{settings.serve_port}",
            dict(shared),
        ),
        Service(
            "app",
            "tomorrow's risk, the forecast and the diary",
            [_bin("airsick"), "app", "--port", str(settings.app_port)],
            settings.app_port,
            "AIRSICK_APP_PORT",
            "/health",
            f"http://{HOST}:{settings.app_port}",
            dict(shared),
        ),
        Service(
            "docs",
            "the dbt docs: models, columns, tests, lineage",
            [_bin("airsick"), "docs", "--port", str(settings.docs_port)],
            settings.docs_port,
            "AIRSICK_DOCS_PORT",
            "/",
            f"http://{HOST}:{settings.docs_port}",
            dict(shared),
        ),
    ]
    if standin:
        stack.insert(
            0,
            Service(
                "standin",
                "the offline Open-Meteo stand-in",
                [_bin("airsick"), "standin", "--port", str(settings.standin_port)],
                settings.standin_port,
                "AIRSICK_STANDIN_PORT",
                "/_standin/health",
                f"http://{HOST}:{settings.standin_port}/v1/air-quality",
                dict(shared),
            ),
        )
    return stack


def check_ports(stack: list[Service]) -> None:
    """Refuse to start when a port is taken, naming it and the setting that moves it."""
    for service in stack:
        if service.name != "deployments" and not port_free(HOST, service.port):
            raise PortTakenError(
                f"Port {service.port} ({service.name}) is taken by another program; "
                f"stop it or set {service.setting} to a free port."
            )


class LogPrinter:
    """honcho's printer: each service's output to its own file, honcho's own lines to one more."""

    def __init__(self, logs_dir: Path) -> None:
        logs_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir = logs_dir
        self.width = 0  # honcho sets it
        self._files: dict[str, IO[str]] = {}
        self.stopped: list[str] = []

    def path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def write(self, message: Message) -> None:
        name = message.name or "system"
        out = self._files.get(name)
        if out is None:
            out = self._files[name] = self.path(name).open("a", encoding="utf-8")
        text = (
            message.data.decode("utf-8", "replace")
            if isinstance(message.data, bytes)
            else (message.data)
        )
        stamp = message.time.strftime("%Y-%m-%d %H:%M:%S")
        for line in text.splitlines():
            out.write(f"{stamp} {line}\n")
            if name == "system" and " stopped (rc=" in line:
                self.stopped.append(line.split(" ", 1)[0])
        out.flush()

    def close(self) -> None:
        for out in self._files.values():
            out.close()


@dataclass
class Watch:
    """Health checks in a thread: report each service once healthy, give up after a while."""

    stack: list[Service]
    on_ready: Callable[[Service], None]
    on_all_ready: Callable[[], None]
    on_failure: Callable[[str], None]
    timeout: float = HEALTHY_WITHIN_SECONDS
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        waiting = list(self.stack)
        deadline = time.monotonic() + self.timeout
        with httpx.Client(timeout=3) as client:
            while waiting and not self.stopping.is_set():
                for service in list(waiting):
                    if service.healthy(client):
                        waiting.remove(service)
                        self.on_ready(service)
                if time.monotonic() > deadline and waiting:
                    names = ", ".join(s.name for s in waiting)
                    self.on_failure(f"{names} not healthy after {self.timeout:.0f} s")
                    return
                self.stopping.wait(0.5)
        if not waiting:
            self.on_all_ready()


def _manager(stack: list[Service], printer: LogPrinter) -> honcho.manager.Manager:
    """honcho's process manager with every service of the stack added, not started."""
    honcho.manager.KILL_WAIT = STOP_GRACE_SECONDS
    manager = honcho.manager.Manager(printer=printer)
    for service in stack:
        manager.add_process(
            service.name, shlex.join(service.command), env={**os.environ, **service.environment}
        )
    return manager


def up(
    settings: Settings,
    standin: bool = False,
    say: Callable[[str], None] = print,
    timeout: float = HEALTHY_WITHIN_SECONDS,
) -> int:
    """Run the stack until Ctrl-C (or SIGTERM); return an exit code."""
    stack = services(settings, standin)
    check_ports(stack)
    printer = LogPrinter(settings.logs_dir)
    manager = _manager(stack, printer)
    width = max(len(s.name) for s in stack)
    failure: list[str] = []

    def fail(reason: str) -> None:
        failure.append(reason)
        os.kill(os.getpid(), signal.SIGTERM)  # honcho's handler stops everything

    marker = prefect_marker(settings)

    def ready(service: Service) -> None:
        if service.name == "prefect":
            # `airsick run` in another terminal records its runs here instead of starting
            # a Prefect server of its own on the same database.
            marker.write_text(json.dumps({"api_url": f"{service.url}/api", "pid": os.getpid()}))
        say(f"{service.name:<{width}}  {service.url}  ({service.purpose})")

    watch = Watch(
        stack,
        on_ready=ready,
        on_all_ready=lambda: say(
            f"All {len(stack)} services are up; logs in {settings.logs_dir}. Ctrl-C stops them."
        ),
        on_failure=fail,
        timeout=timeout,
    )
    thread = threading.Thread(target=watch.run, name="health", daemon=True)
    thread.start()
    try:
        manager.loop()
    finally:
        watch.stopping.set()
        thread.join(5)
        printer.close()
        marker.unlink(missing_ok=True)
    died = [name for name in printer.stopped if name in {s.name for s in stack}]
    if failure:
        say(f"The stack stopped: {failure[0]}; see the logs in {settings.logs_dir}.")
        return 1
    if manager.returncode not in (130, 143) and died:
        first = died[0]
        say(f"{first} stopped on its own, so the stack stopped; see {printer.path(first)}.")
        return 1
    say("Every service stopped.")
    return 0
