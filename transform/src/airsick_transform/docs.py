"""Serve the generated dbt docs page on loopback."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    page = "static_index.html"

    def do_GET(self) -> None:
        if self.path in ("/", "/index.html"):
            self.path = f"/{self.page}"
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


class DocsServer:
    """A small HTTP server for dbt's self-contained docs page (``dbt docs generate --static``)."""

    def __init__(self, page: Path, host: str = "127.0.0.1", port: int = 8580) -> None:
        handler = partial(_Handler, directory=str(page.parent))
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> DocsServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
