"""One build at a time across machines: on a deployment's PostgreSQL catalog the locks are
PostgreSQL advisory locks, which every machine sees and which die with their holder."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from airsick_core.settings import Settings
from airsick_orchestration.locks import RunInProgressError, shared

from tests.postgres import ducklake_catalog, postgres

pytestmark = pytest.mark.integration

HOLD = """
from airsick_core.settings import Settings
from airsick_orchestration.locks import shared
with shared(Settings(), "build"):
    print("held", flush=True)
    input()
"""


def test_a_build_on_another_machine_is_waited_for_and_its_lock_dies_with_it(tmp_path):
    with postgres() as port:
        catalog = ducklake_catalog(port)
        # Two machines: two homes (their own file locks), one catalog.
        env = os.environ | {"AIRSICK_HOME": str(tmp_path / "a")}
        env["AIRSICK_DUCKLAKE_CATALOG"] = catalog
        here = Settings(home=tmp_path / "b", ducklake_catalog=catalog)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "held"
            with (
                pytest.raises(RunInProgressError, match=rf"A build run .*\(pid {holder.pid} on "),
                shared(here, "build", wait=1),
            ):
                pass
            with shared(here, "training", "ann"), shared(here, "training", "ben"):
                pass  # other locks are free
            # A build that waits gets the lock as soon as its holder is gone (kill -9).
            threading.Timer(1.0, holder.kill).start()
            started = time.monotonic()
            with shared(here, "build", wait=60):
                waited = time.monotonic() - started
            assert 0.5 < waited < 30, waited
        finally:
            holder.kill()
            holder.wait()
        with shared(here, "build"), pytest.raises(RunInProgressError), shared(here, "build"):
            pass  # released on exit, and held again
