"""The evening's trainings on Dask: one worker against two, and Dask against Prefect's
default runner (`python -m benchmarks cluster`).

A home of N people (the demo persona and N - 1 simulated people with their diaries,
``airsick_standin.population``) on AIRSICK_BENCH_CLUSTER_DAYS of air (60 by default: every
diary long enough for backtests), ingested and built once. Nobody has a champion yet, so
the evening trains everyone: a whole training each, backtests and the gate. The same home
(put back as it was built each time) then has its evening, `airsick run` in a fresh
process, three ways:

- **default**: Prefect's default runner, the trainings one after another in the flow's
  process (AIRSICK_DASK_ADDRESS unset: what `make demo` does);
- **dask, 1 worker**: a `LocalCluster` of one single-thread worker (AIRSICK_DASK_ADDRESS=local,
  AIRSICK_DASK_WORKERS=1);
- **dask, 2 workers**: two single-thread workers, on this machine's two cores.

What is compared is the evening's trainings stage (the summary's ``seconds.train``: from the
first training submitted to the last one done, the cluster's start included); the whole
evening's wall time is printed beside it. Every training uses one thread
(AIRSICK_TRAIN_THREADS=1). Targets: two workers >= 1.6x faster than one; Dask's one worker
<= 1.2x the default runner.

Sizes: AIRSICK_BENCH_CLUSTER_PEOPLE="20,200" (the default). Figures go to
test-artifacts/cluster.json (a size already measured is kept unless AIRSICK_BENCH_FRESH=1)
and the curve to docs/cluster-evening.png.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._util import each_size, measure

AIRSICK = [sys.executable, "-m", "airsick_orchestration"]
RESULTS = Path("test-artifacts/cluster.json")
FIGURE = Path("docs/cluster-evening.png")
TARGETS = {"speedup": 1.6, "overhead": 1.2}
RUNNERS = {
    "default": {},
    "dask, 1 worker": {"AIRSICK_DASK_ADDRESS": "local", "AIRSICK_DASK_WORKERS": "1"},
    "dask, 2 workers": {"AIRSICK_DASK_ADDRESS": "local", "AIRSICK_DASK_WORKERS": "2"},
}

SETUP = """
import sys
from airsick_core.settings import Settings
from airsick_orchestration import steps
steps.create_persona(Settings(), people=int(sys.argv[1]))
"""


def _environment(home: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRSICK_", "PREFECT_"))}
    return env | {
        "AIRSICK_HOME": str(home),
        "AIRSICK_OPEN_METEO_CALLS_PER_MINUTE": "0",
        "AIRSICK_TRAIN_THREADS": "1",
        **more,
    }


def _evening(env: dict[str, str]) -> dict:
    measured = measure([*AIRSICK, "run"], env)
    summary, _ = json.JSONDecoder().raw_decode(measured.stdout[measured.stdout.index("{") :])
    return {
        "seconds": round(measured.seconds, 1),
        "train_s": summary["seconds"]["train"],
        "peak_mb": round(measured.peak_rss_mb),
        "people": summary["people"],
        "answered": summary["answered"],
        "failed": len(summary["failed"]),
    }


def one_size(people: int, url: str, folder: Path, results: dict) -> dict:
    """Set up a home of ``people`` once; measure its first evening with each runner."""
    import subprocess

    # Built once at the home's own path, kept aside, and put back before each evening (the
    # catalog remembers where its files are: a home cannot move).
    home, built = folder / f"home-{people}", folder / f"built-{people}"
    shutil.rmtree(home, ignore_errors=True)
    days = int(os.environ.get("AIRSICK_BENCH_CLUSTER_DAYS", "60"))
    start = (datetime.now(UTC).date() - timedelta(days=days)).isoformat()
    more = {"AIRSICK_OPEN_METEO_URL": url, "AIRSICK_HISTORY_START": start}
    print(f"  {people} people on {days} days: diaries, air, the build ...")
    env = _environment(home, **more)
    subprocess.run([sys.executable, "-c", SETUP, str(people)], env=env, check=True)
    for step in (["ingest"], ["transform"]):
        measure([*AIRSICK, *step], env)
    shutil.rmtree(built, ignore_errors=True)
    shutil.copytree(home, built, symlinks=True)
    found = {}
    for runner, settings in RUNNERS.items():
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(built, home, symlinks=True)
        found[runner] = _evening(_environment(home, **more, **settings))
        print(
            f"    {runner}: trainings {found[runner]['train_s']} s, the evening "
            f"{found[runner]['seconds']} s, {found[runner]['answered']} of "
            f"{found[runner]['people']} answered, peak {found[runner]['peak_mb']} MB"
        )
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(built, ignore_errors=True)
    return found


def _ratios(measured: dict) -> tuple[float, float]:
    """(two workers' speed-up over one, Dask's one worker over the default runner)."""
    one, two = measured["dask, 1 worker"]["train_s"], measured["dask, 2 workers"]["train_s"]
    return one / two, one / measured["default"]["train_s"]


def _plot(results: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(n) for n in results)
    figure, axis = plt.subplots(figsize=(7, 4.2))
    for runner, style in zip(RUNNERS, ("s--", "o-", "o-"), strict=True):
        axis.plot(sizes, [results[str(n)][runner]["train_s"] for n in sizes], style, label=runner)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("people trained in the evening")
    axis.set_ylabel("the evening's trainings (s)")
    axis.set_title("Trainings on Dask: one worker, two, and the default runner (2 cores)")
    axis.legend()
    figure.tight_layout()
    FIGURE.parent.mkdir(exist_ok=True)
    figure.savefig(FIGURE, dpi=110)


def main() -> None:
    sizes = [int(n) for n in os.environ.get("AIRSICK_BENCH_CLUSTER_PEOPLE", "20,200").split(",")]
    print("the evening's trainings on Dask (`airsick run`, fresh process each):")
    results = each_size(RESULTS, sizes, "airsick-bench-cluster-", one_size)
    print(
        "| people | default (s) | dask, 1 worker (s) | dask, 2 workers (s) | 2 vs 1 "
        "| 1 vs default |"
    )
    print("|---|---|---|---|---|---|")
    for n in sorted(results, key=int):
        speedup, overhead = _ratios(results[n])
        print(
            f"| {n} | "
            + " | ".join(str(results[n][runner]["train_s"]) for runner in RUNNERS)
            + f" | {speedup:.2f}x | {overhead:.2f}x |"
        )
    largest = str(max(int(n) for n in results))
    speedup, overhead = _ratios(results[largest])
    for name, value, met in (
        ("two workers faster than one", speedup, speedup >= TARGETS["speedup"]),
        ("Dask's overhead over the default runner", overhead, overhead <= TARGETS["overhead"]),
    ):
        target = f">= {TARGETS['speedup']}" if "faster" in name else f"<= {TARGETS['overhead']}"
        verdict = "met" if met else "MISSED"
        print(f"  {largest} people, {name}: {value:.2f}x (target {target}x) {verdict}")
    _plot(results)
    print(f"curve: {FIGURE}")


if __name__ == "__main__":
    main()
