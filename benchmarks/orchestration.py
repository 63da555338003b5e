"""The daily run as a user waits for it: every figure from one run, CLI wall time in fresh
processes (imports, Prefect's temporary server and every stage included).

1. First prediction: `airsick demo --once` from an empty home. Target <= 60 s.
2. The next day (AIRSICK_AS_OF one day on, that day logged in the diary first):
   `airsick run daily`, no training due. Target <= 20 s.
3. A training day (seven more days logged): `airsick run daily` retrains. Target <= 35 s.
4. The next training day with a second CPU-bound process running beside it.
   Target <= 2.5x the training day alone.
5. dbt inside the transform flow against the same build alone, in one warm process.
   Target <= 1.3x.
6. 1, 10 and 100 places x 3 years: `airsick ingest`, `airsick transform` and `airsick train`
   in turn, wall time and peak RSS. Target: 100 places <= 60 s and <= 2 GiB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks._util import Measured, measure, standin_process
from benchmarks.transform import places as place_grid

AIRSICK = [sys.executable, "-m", "airsick_orchestration"]


def _environment(home: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRSICK_", "PREFECT_"))}
    return env | {"AIRSICK_HOME": str(home), **settings}


def _airsick(env: dict[str, str], *args: str) -> Measured:
    return measure([*AIRSICK, *args], env)


def _today(env: dict[str, str]) -> date:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from airsick_core.settings import Settings as S;print(S().today())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return date.fromisoformat(out.strip())


def daily_runs() -> tuple[dict[str, Measured], Path]:
    """The first evening, the next day, a training day, and a training day under load."""
    home = Path(tempfile.mkdtemp(prefix="airsick-bench-daily-")) / "home"
    env = _environment(home, AIRSICK_STANDIN_PORT="0")
    runs = {"first prediction": _airsick(env, "demo", "--once")}
    today = _today(env)
    for name, days_on in (("next day", 1), ("training day", 8), ("training, loaded", 15)):
        evening = today + timedelta(days=days_on)
        # The stand-in answers as Open-Meteo would on that evening.
        with standin_process(env, "--now", f"{evening}T18:00:00") as url:
            day = env | {
                "AIRSICK_AS_OF": evening.isoformat(),
                "AIRSICK_OPEN_METEO_URL": url,
                "AIRSICK_OPEN_METEO_CALLS_PER_MINUTE": "0",
            }
            _airsick(day, "diary", "persona")  # the days since, logged as the person would
            if name == "training, loaded":
                hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                try:
                    runs[name] = _airsick(day, "run", "daily")
                finally:
                    hog.kill()
                    hog.wait()
            else:
                runs[name] = _airsick(day, "run", "daily")
            trained = '"trained": true' in runs[name].stdout
            if trained != (name != "next day"):
                raise RuntimeError(f"the {name} run trained: {trained}\n{runs[name].stdout}")
    return runs, home


def dbt_in_the_flow(home: Path) -> tuple[float, float]:
    """The transform flow and the same build as bare steps, alternately, best of two each."""
    os.environ.update(_environment(home) | {"PREFECT_LOGGING_LEVEL": "WARNING"})
    from airsick_core.settings import Settings
    from airsick_orchestration import flows, steps
    from prefect import flow

    os.environ.update(Settings().prefect_environment())
    flow(name="warm-up")(lambda: None)()  # Prefect's temporary server starts once
    bare, in_flow = [], []
    settings = Settings()
    for _ in range(2):
        started = time.perf_counter()
        steps.transform(settings, unit_tests=False)  # as the flow builds
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        flows.transform_flow(settings)
        in_flow.append(time.perf_counter() - started)
    return min(bare), min(in_flow)


def places_curve(counts: tuple[int, ...] = (1, 10, 100)) -> dict[int, dict[str, float]]:
    """Ingest, build and train N places x 3 years from an empty home, one command each."""
    curve = {}
    for n in counts:
        home = Path(tempfile.mkdtemp(prefix=f"airsick-bench-places-{n}-")) / "home"
        env = _environment(home, AIRSICK_PLACES=place_grid(n))
        _airsick(env, "diary", "persona")
        with standin_process(env) as url:
            online = env | {
                "AIRSICK_OPEN_METEO_URL": url,
                "AIRSICK_OPEN_METEO_CALLS_PER_MINUTE": "0",
            }
            stages = {"ingest": _airsick(online, "ingest")}
        stages["build"] = _airsick(env, "transform")
        stages["train"] = _airsick(env, "train")
        curve[n] = {name: run.seconds for name, run in stages.items()} | {
            "total": sum(run.seconds for run in stages.values()),
            "peak_mb": max(run.peak_rss_mb for run in stages.values()),
        }
        row = curve[n]
        print(
            f"  {n:>4} places: ingest {row['ingest']:5.1f} s, build {row['build']:5.1f} s, "
            f"train {row['train']:5.1f} s, total {row['total']:5.1f} s, "
            f"peak {row['peak_mb']:6.0f} MB",
            flush=True,
        )
    return curve


def main() -> None:
    print("Orchestration: the daily run as a user waits for it (CLI wall time, fresh processes)")
    runs, home = daily_runs()
    targets = {"first prediction": 60, "next day": 20, "training day": 35}
    for name, run in runs.items():
        target = f" (target <= {targets[name]} s)" if name in targets else ""
        print(f"  {name:<18}{run.seconds:6.1f} s  peak {run.peak_rss_mb:5.0f} MB{target}")
    ratio = runs["training, loaded"].seconds / runs["training day"].seconds
    print(f"  a training day beside a CPU-bound process: {ratio:.2f}x alone (target <= 2.5x)")

    bare, in_flow = dbt_in_the_flow(home)
    print(
        f"  dbt build alone {bare:.1f} s, in the transform flow {in_flow:.1f} s: "
        f"{in_flow / bare:.2f}x (target <= 1.3x)"
    )

    print("  places x 3 years, from an empty home (target: 100 places <= 60 s, <= 2048 MB)")
    places_curve()


if __name__ == "__main__":
    main()
