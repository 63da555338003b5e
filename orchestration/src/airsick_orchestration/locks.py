"""One daily run at a time per home: an exclusive lock the operating system releases when
the process ends, however it ends (a crash or ``kill -9`` leaves no stale lock behind)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path


class RunInProgressError(RuntimeError):
    """Another run holds the lock; the message says which and what to do."""


@contextlib.contextmanager
def exclusive(folder: Path, name: str, key: str | None = None) -> Iterator[None]:
    """Hold ``<folder>/<name>.lock`` (``<name>-<key>.lock``: one lock per key, e.g. per
    person) for the duration, or raise RunInProgressError at once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (f"{name}-{key}.lock" if key else f"{name}.lock")
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgressError(
                f"A {name} run is already in progress ({holder}); wait for it to finish, "
                "then run again if you still need to."
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock
