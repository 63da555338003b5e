"""One run at a time: the second is told which run holds the lock; the lock dies with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from airsick_orchestration.locks import RunInProgressError, exclusive


def test_a_second_holder_is_refused_with_who_holds_it(tmp_path):
    with exclusive(tmp_path, "daily"):
        with (
            pytest.raises(RunInProgressError, match=rf"pid {os.getpid()} on .*, started"),
            exclusive(tmp_path, "daily"),
        ):
            pass
        with exclusive(tmp_path, "training"):  # another name is another lock
            pass
    with exclusive(tmp_path, "training", "ann"):
        with exclusive(tmp_path, "training", "ben"):  # another key too
            pass
        with (
            pytest.raises(RunInProgressError, match="A training run"),
            exclusive(tmp_path, "training", "ann"),
        ):
            pass
    with exclusive(tmp_path, "daily"):  # released on exit
        pass


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from airsick_orchestration.locks import exclusive\n"
            f"with exclusive(Path({str(tmp_path)!r}), 'daily'):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunInProgressError), exclusive(tmp_path, "daily"):
        pass
    holder.kill()
    holder.wait()
    with exclusive(tmp_path, "daily"):
        pass


def test_a_shared_lock_in_a_home_waits_for_its_holder_then_gives_up(tmp_path):
    from airsick_core.settings import Settings
    from airsick_orchestration.locks import shared

    settings = Settings(home=tmp_path)
    with shared(settings, "build"):
        with pytest.raises(RunInProgressError, match="A build run"), shared(settings, "build"):
            pass
        started = time.monotonic()
        with pytest.raises(RunInProgressError), shared(settings, "build", wait=1.5):
            pass
        assert time.monotonic() - started >= 1.5
    with shared(settings, "build"):  # released, also after a failed wait
        pass


def test_an_error_inside_a_shared_lock_is_raised_once_and_releases_it(tmp_path):
    from airsick_core.settings import Settings
    from airsick_orchestration.locks import shared

    settings = Settings(home=tmp_path)
    with pytest.raises(RunInProgressError, match="inner"), shared(settings, "daily", wait=5):
        raise RunInProgressError("inner")
    with shared(settings, "daily"):
        pass
