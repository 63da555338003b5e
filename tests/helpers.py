"""Small helpers tests share: reading what landed in the lake."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds


def read_raw(lake: Path | str, table: str, filesystem=None) -> pa.Table:
    """Read every Parquet file of one raw table, or an empty table if there is none."""
    path = f"{str(lake).removeprefix('s3://')}/raw/{table}"
    try:
        dataset = ds.dataset(path, format="parquet", filesystem=filesystem)
    except FileNotFoundError:
        return pa.table({})
    return dataset.to_table()


class Receiver:
    """A loopback webhook that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/alert"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def files_mentioning(root: Path, needles: list[str]) -> dict[str, list[str]]:
    """Every file under ``root`` that holds any of ``needles``, with the needles found.

    Reads each file as bytes (SQLite's free pages and logs included), Parquet as its decoded
    values, and gzip, zlib or base64-wrapped compressed text (dlt's state) as its content.
    """
    import base64
    import contextlib
    import gzip
    import re
    import zlib

    import pyarrow.parquet as pq

    def texts(path: Path) -> list[bytes]:
        data = path.read_bytes()
        found = [data]
        # A file being written, or not whole: its bytes were read above.
        if data[:4] == b"PAR1":
            with contextlib.suppress(Exception):
                # Text lives in string (or nested) columns; numbers cannot spell a name.
                plain = (pa.types.is_integer, pa.types.is_floating, pa.types.is_temporal)
                text = [
                    f.name
                    for f in pq.read_schema(path)
                    if not any(is_plain(f.type) for is_plain in plain)
                    and not pa.types.is_boolean(f.type)
                ]
                if text:
                    found.append(str(pq.read_table(path, columns=text).to_pylist()).encode())
        if data[:2] == b"\x1f\x8b":
            with contextlib.suppress(Exception):
                found.append(gzip.decompress(data))
        unwrapped = []
        for blob in found:
            for token in re.findall(rb"[A-Za-z0-9+/=]{40,}", blob):
                try:
                    unwrapped.append(zlib.decompress(base64.b64decode(token)))
                except Exception:  # not compressed state
                    continue
        return found + unwrapped

    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        contents = texts(path)
        present = [n for n in needles if any(n.encode() in blob for blob in contents)]
        if present:
            hits[str(path.relative_to(root))] = present
    return hits
