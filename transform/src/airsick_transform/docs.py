"""Serve the generated dbt docs page on loopback."""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from airsick_core.http import BackgroundServer


class _Handler(SimpleHTTPRequestHandler):
    page = "static_index.html"

    def do_GET(self) -> None:
        if self.path in ("/", "/index.html"):
            self.path = f"/{self.page}"
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


class DocsServer(BackgroundServer):
    """A small HTTP server for dbt's self-contained docs page (``dbt docs generate --static``)."""

    def __init__(self, page: Path, host: str = "127.0.0.1", port: int = 8580) -> None:
        super().__init__(host, port, partial(_Handler, directory=str(page.parent)))
