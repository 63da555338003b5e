"""Local HTTP helpers, in one place: a server run in a background thread (the stand-in, the
dbt docs site), whether a port is free, a free port, whether a URL answers, and waiting
until something answers."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class BackgroundServer:
    """Serve ``handler`` on ``host:port`` (port 0 picks a free one), in a thread or this one.

    ``start`` serves in a daemon thread and ``stop`` shuts it down and closes the socket; as
    a context manager it does both. ``serve_forever`` serves in the calling thread (a
    command that runs until Ctrl-C).
    """

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Serve in a background thread; return self."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving (if it was) and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PortTakenError(RuntimeError):
    """A port airsick wants is used by another program."""


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the system's choice)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether ``url`` answers 2xx now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    *,
    interval: float = 0.25,
    gone: Callable[[], bool] | None = None,
) -> bool:
    """Call ``ready`` until it says yes; False after ``timeout`` seconds, or at once when
    ``gone`` says the thing waited for has ended (a process that exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone is not None and gone():
            return False
        if ready():
            return True
        time.sleep(interval)
    return False
