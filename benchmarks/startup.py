"""What a user waits for before a command does anything: `uv run airsick ...` (as the README
starts every command) against the installed `.venv/bin/airsick`, in fresh processes, median
of five. Target: `uv run` within 0.5 s of the installed command, printing nothing more.

Commands: `--help`, `diary log --well` (what a person runs every evening) in a fresh home,
and the evening's run, `airsick run` (no training due), on a home `airsick demo --once` made
with four months of history, fetching from the stand-in.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._util import standin_process

REPO = Path(__file__).resolve().parents[1]
RUNS = 5


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return seconds, done.stdout + done.stderr


def main() -> None:
    print("Start-up: `uv run airsick` against the installed command (fresh processes, median)")
    uv = shutil.which("uv") or "uv"
    installed = str(Path(sys.executable).parent / "airsick")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRSICK_")}
    with tempfile.TemporaryDirectory() as home:
        env["AIRSICK_HOME"] = home
        for args in (["--help"], ["diary", "log", "--well"]):
            via_uv, direct, extra = [], [], set()
            _timed([installed, *args], env)  # untimed: a first diary entry prints its own line
            for _ in range(RUNS):
                seconds, uv_output = _timed([uv, "run", "airsick", *args], env)
                via_uv.append(seconds)
                seconds, output = _timed([installed, *args], env)
                direct.append(seconds)
                extra |= set(uv_output.splitlines()) - set(output.splitlines())
            _report(args, via_uv, direct, extra)
        _evening(env, uv, installed)


def _report(args: list[str], via_uv: list[float], direct: list[float], extra: set) -> None:
    a, b = statistics.median(via_uv), statistics.median(direct)
    print(
        f"  airsick {' '.join(args):<16} uv run {a:6.2f} s, installed {b:6.2f} s (median): "
        f"{a - b:+.2f} s, fastest {min(via_uv) - min(direct):+.2f} s (target <= 0.5 s); "
        f"extra lines from uv run: {len(extra)}"
    )


def _evening(env: dict[str, str], uv: str, installed: str) -> None:
    """`airsick run` as the README starts it and installed, alternately, three times each."""
    history = (datetime.now(UTC).date() - timedelta(days=120)).isoformat()
    env = env | {"AIRSICK_HISTORY_START": history, "AIRSICK_STANDIN_PORT": "0"}
    _timed([installed, "demo", "--once"], env)
    with standin_process(env) as url:
        evening = env | {"AIRSICK_OPEN_METEO_URL": url, "AIRSICK_OPEN_METEO_CALLS_PER_MINUTE": "0"}
        via_uv, direct = [], []
        for _ in range(3):
            via_uv.append(_timed([uv, "run", "airsick", "run"], evening)[0])
            direct.append(_timed([installed, "run"], evening)[0])
    _report(["run"], via_uv, direct, set())


if __name__ == "__main__":
    main()
