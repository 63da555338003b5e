"""Time to first prediction from an empty home, and the daily run as history and places grow.

1. `airsick demo --once` from an empty home, as a user runs it (wall time, imports and
   Prefect's start included); then the same work in this process, stage by stage, once as
   the daily Prefect flow and once as the bare steps, so that Prefect's share (its server
   start, task bookkeeping, prefect-dbt's task per dbt node) shows on its own.
2. The daily flow on a home already built (a champion exists, so the retrain rule decides)
   for 1 and 3 years of history and 1 and 10 places, all in one run, with the ratios.

Targets on this 2-core machine: first prediction <= 90 s; daily run <= 30 s; ten times the
data <= 1.5 times the time.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from benchmarks._util import measure
from benchmarks.transform import places as place_grid


def _environment(home: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRSICK_", "PREFECT_"))}
    return env | {"AIRSICK_HOME": str(home), **settings}


def first_prediction_as_a_user() -> float:
    home = Path(tempfile.mkdtemp(prefix="airsick-bench-demo-")) / "home"
    env = _environment(home, AIRSICK_STANDIN_PORT="0")
    run = measure([sys.executable, "-m", "airsick_orchestration", "demo", "--once"], env)
    return run.seconds


def _use(env: dict[str, str]) -> None:
    """Point this process's settings (and so the flows') at a home."""
    for key in [k for k in os.environ if k.startswith("AIRSICK_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in env.items() if k.startswith("AIRSICK_")})


def stage_breakdown() -> tuple[dict[str, float], dict[str, float]]:
    """The first prediction's stages in the daily flow and as bare steps, in this process."""
    from airsick_orchestration import steps
    from airsick_orchestration.settings import Settings

    results = {}
    for mode in ("bare", "prefect"):
        home = Path(tempfile.mkdtemp(prefix=f"airsick-bench-first-{mode}-")) / "home"
        settings = Settings(home=home, standin_port=0)
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        with steps.standin_serving(settings) as pointed:
            steps.create_persona(pointed)
            seconds["diary"] = time.perf_counter() - started
            if mode == "bare":
                for name, step in (
                    ("ingest", partial(steps.ingest, pointed)),
                    ("transform", partial(steps.transform, settings)),
                    ("train", partial(steps.train, settings)),
                    ("score", partial(steps.predict, settings)),
                ):
                    began = time.perf_counter()
                    step()
                    seconds[name] = time.perf_counter() - began
            else:
                _use(
                    _environment(
                        home,
                        AIRSICK_OPEN_METEO_URL=pointed.open_meteo_url,
                        AIRSICK_OPEN_METEO_CALLS_PER_MINUTE="0",
                    )
                )
                from airsick_orchestration import flows
                from prefect import flow

                began = time.perf_counter()
                flow(name="warm-up")(lambda: None)()
                seconds["prefect start"] = time.perf_counter() - began
                summary = flows.daily_flow()
                seconds |= summary["seconds"]
        seconds["total"] = time.perf_counter() - started
        results[mode] = seconds
    return results["bare"], results["prefect"]


def prepare_home(years: int, n_places: int) -> dict[str, str]:
    """A home with the history loaded, built and a champion trained (bare steps)."""
    from airsick_orchestration import steps
    from airsick_orchestration.settings import Settings

    home = Path(tempfile.mkdtemp(prefix=f"airsick-bench-daily-{years}y-{n_places}p-")) / "home"
    first = datetime.now(UTC).date() - timedelta(days=365 * years)
    settings = Settings(home=home, places=place_grid(n_places), history_start=first, standin_port=0)
    with steps.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    steps.transform(settings)
    steps.train(settings)
    return _environment(
        home,
        AIRSICK_PLACES=place_grid(n_places),
        AIRSICK_HISTORY_START=first.isoformat(),
        AIRSICK_OPEN_METEO_CALLS_PER_MINUTE="0",
    )


def daily_runs() -> dict[tuple[int, int], dict[str, float]]:
    from airsick_ingestion.standin.server import StandIn
    from airsick_orchestration import flows

    runs = {}
    with StandIn() as standin:
        for years, n_places in ((1, 1), (3, 1), (1, 10), (3, 10)):
            env = prepare_home(years, n_places)
            _use(env | {"AIRSICK_OPEN_METEO_URL": standin.url})
            began = time.perf_counter()
            summary = flows.daily_flow()
            runs[(years, n_places)] = summary["seconds"] | {
                "total": time.perf_counter() - began,
                "trained": summary["trained"],
            }
            print(
                f"  daily run, {years} y x {n_places:>2} places: "
                f"{runs[(years, n_places)]['total']:5.1f} s "
                f"(trained: {summary['trained']}, {summary['retrain_reason']})"
            )
    return runs


def main() -> None:
    # One Prefect home for the whole benchmark: its ephemeral server starts once.
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="airsick-bench-prefect-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"

    print("Orchestration: time to first prediction and the daily run (seconds)")
    user = first_prediction_as_a_user()
    print(f"  `airsick demo --once` from an empty home: {user:.1f} s (target <= 90 s)")
    bare, prefect = stage_breakdown()
    print(f"  {'stage':<14}{'bare steps':>11}{'daily flow':>11}{'Prefect adds':>14}")
    for stage in ("diary", "prefect start", "ingest", "transform", "train", "score", "total"):
        b, p = bare.get(stage, 0.0), prefect.get(stage, 0.0)
        print(f"  {stage:<14}{b:>11.1f}{p:>11.1f}{p - b:>+14.1f}")

    runs = daily_runs()
    print(
        f"  {'history':<10}{'places':>7}{'ingest':>8}{'dbt':>8}{'train':>8}{'score':>8}{'total':>8}"
    )
    for (years, n_places), run in runs.items():
        print(
            f"  {years} year{'s' if years > 1 else '':<5}{n_places:>7}{run['ingest']:>8.1f}"
            f"{run['transform']:>8.1f}{run['train']:>8.1f}{run['score']:>8.1f}"
            f"{run['total']:>8.1f}"
        )
    worst = max(run["total"] for run in runs.values())
    print(f"  slowest daily run: {worst:.1f} s (target <= 30 s)")
    for n_places in (1, 10):
        ratio = runs[(3, n_places)]["total"] / runs[(1, n_places)]["total"]
        print(f"  3x the history, {n_places} place(s): {ratio:.2f}x the time")
    for years in (1, 3):
        ratio = runs[(years, 10)]["total"] / runs[(years, 1)]["total"]
        print(
            f"  10x the places (10x the data), {years} year(s): {ratio:.2f}x the time "
            f"(target <= 1.5x)"
        )


if __name__ == "__main__":
    main()
