"""One run at a time: a home's file lock, or, when the lakehouse's catalog is PostgreSQL (a
deployment, a Dask cluster), a PostgreSQL advisory lock that every machine sees.

Either is released when its holder ends, however it ends: the operating system closes the
file, and PostgreSQL ends the session of a process that is gone (a crash or ``kill -9``
leaves no stale lock behind). ``exclusive`` refuses at once; ``shared`` may wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from airsick_core.settings import Settings

logger = logging.getLogger(__name__)
POSTGRES = "postgres:"


class RunInProgressError(RuntimeError):
    """Another run holds the lock; the message says which and what to do."""


def _busy(name: str, holder: str) -> RunInProgressError:
    return RunInProgressError(
        f"A {name} run is already in progress ({holder or 'another process'}); wait for it "
        "to finish, then run again if you still need to."
    )


def _holder() -> str:
    host = socket.gethostname()
    return f"pid {os.getpid()} on {host}, started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


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
            raise _busy(name, handle.read().strip()) from error
        handle.seek(0)
        handle.truncate()
        handle.write(_holder())
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


@contextlib.contextmanager
def shared(
    settings: Settings, name: str, key: str | None = None, wait: float = 0
) -> Iterator[None]:
    """Hold the lock ``name`` (per ``key``) wherever this run's state is shared: across
    machines on the catalog's PostgreSQL, in the home otherwise. Wait up to ``wait`` seconds
    for its holder to finish, then raise RunInProgressError."""
    catalog = settings.lakehouse.catalog
    if catalog.startswith(POSTGRES):
        with _advisory(catalog.removeprefix(POSTGRES), name, key, wait):
            yield
        return
    deadline = time.monotonic() + wait
    held = contextlib.ExitStack()
    while True:
        try:
            held.enter_context(exclusive(settings.home / "locks", name, key))
            break
        except RunInProgressError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)
    with held:
        yield


def _advisory_keys(name: str, key: str | None) -> tuple[int, int]:
    """The lock's two int4 keys (as ``pg_locks`` shows them: classid, objid)."""

    def digest(text: str) -> int:
        return int.from_bytes(hashlib.sha256(f"airsick:{text}".encode()).digest()[:4]) >> 1

    return digest(name), digest(key or "")


@contextlib.contextmanager
def _advisory(conninfo: str, name: str, key: str | None, wait: float) -> Iterator[None]:
    """A session-level advisory lock on PostgreSQL, held by a connection of our own (named
    after the holder, so that the next one can say who it waits for)."""
    import psycopg

    keys = _advisory_keys(name, key)
    with psycopg.connect(
        conninfo,
        autocommit=True,
        application_name=f"airsick {name}: {_holder()}"[:63],
        # A holder whose machine vanished is noticed within a minute or two, not hours.
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    ) as connection:
        deadline = time.monotonic() + wait
        said = False
        while not connection.execute("select pg_try_advisory_lock(%s, %s)", keys).fetchone()[0]:
            holder = _advisory_holder(connection, keys)
            if time.monotonic() >= deadline:
                raise _busy(name, holder)
            if not said:
                logger.info("waiting for the %s run of %s to finish", name, holder)
                said = True
            time.sleep(1)
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                connection.execute("select pg_advisory_unlock(%s, %s)", keys)


def _advisory_holder(connection, keys: tuple[int, int]) -> str:
    row = connection.execute(
        "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.granted and l.objsubid = 2 "
        "and l.classid::bigint = %s and l.objid::bigint = %s",
        keys,
    ).fetchone()
    return row[0].split(": ", 1)[-1] if row else "another machine"
