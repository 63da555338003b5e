"""Many people in one home: the evening's cost as the people grow (1, 10, 100, 1,000).

Each home has three years of air at the simulated population's twenty cities (and the demo
persona's home: 21 places), the demo persona and N - 1 simulated people
(``airsick_standin.population``) with their diaries. What a user waits for is measured:
``airsick run`` (the daily flow) in a fresh process, Prefect's temporary server and every
stage included, its wall time and peak memory.

1. An evening with no training: everyone has a champion that the retrain rule keeps.
   Targets at 1,000 people: <= 60 s, <= 50 ms per person more (the slope from 100 to
   1,000), peak memory <= 4 GiB.
2. The model server for everyone (`airsick serve`) after it: each person asked for their
   forecast days, twice; the memory of the server's whole process tree. Target at 1,000
   people: <= 2 GiB.
3. A typical evening: a seventh of the people retrain (their champion taken away, so the
   rule trains them: a whole training with backtests and the gate). Target at 1,000
   people: <= 5 min.

Setup, not measured: the demo persona is trained for real (``airsick train``); everyone
else's champion is registered as a version of their own model with that trained model's
files (one ``create_model_version`` each), so that setting up 1,000 people does not take
an hour of trainings. The evening loads, checks and scores each person's champion
separately, as it would distinct models.

Sizes: AIRSICK_BENCH_PEOPLE="1,10,100,1000" (the default). A typical evening above
AIRSICK_BENCH_TYPICAL_UP_TO people (all by default) is projected, not run: the no-training
evening plus the retrainers times the seconds one training took in the largest typical
evening measured (said as projected wherever it is printed). Figures go to
test-artifacts/people.json (kept: a size already measured is not measured again unless
AIRSICK_BENCH_FRESH=1) and the curve to docs/people-evening.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._util import each_size, measure, model_server, stop

AIRSICK = [sys.executable, "-m", "airsick_orchestration"]
RESULTS = Path("test-artifacts/people.json")
FIGURE = Path("docs/people-evening.png")
RETRAIN_SHARE = 7  # a typical evening: one person in seven retrains
TARGETS = {
    "quiet_s": 60.0,
    "marginal_ms": 50.0,
    "typical_s": 300.0,
    "peak_mb": 4096.0,
    "server_mb": 2048.0,
}

SETUP = """
import sys
from airsick_core.settings import Settings
from airsick_orchestration import steps
result, _ = steps.create_persona(Settings(), people=int(sys.argv[1]))
print(result)
"""

CLONE = """
import mlflow
from mlflow import MlflowClient
from airsick_core import names
from airsick_core.settings import Settings
from airsick_orchestration import steps

settings = Settings()
mlflow.set_tracking_uri(settings.tracking_uri)  # create_model_version looks its source up there
client = MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
own = client.get_model_version_by_alias(names.model_name(settings.person), names.CHAMPION)
for person in steps.stores(settings).people.everyone():
    name = names.model_name(person.name)
    if person.name == settings.person:
        continue
    client.create_registered_model(name, tags={"person": person.name})
    version = client.create_model_version(name, own.source, run_id=own.run_id, tags=own.tags)
    client.set_registered_model_alias(name, names.CHAMPION, version.version)
"""

RETIRE = """
import sys
from mlflow import MlflowClient
from airsick_core import names
from airsick_core.settings import Settings
from airsick_orchestration import steps

settings = Settings()
client = MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
people = [p.name for p in steps.stores(settings).people.everyone() if p.name != settings.person]
for person in people[:: int(sys.argv[1])]:
    client.delete_registered_model_alias(names.model_name(person), names.CHAMPION)
"""


def _environment(home: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRSICK_", "PREFECT_"))}
    return env | {"AIRSICK_HOME": str(home), "AIRSICK_OPEN_METEO_CALLS_PER_MINUTE": "0", **more}


def _python(env: dict[str, str], code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


def _evening(env: dict[str, str]) -> dict:
    measured = measure([*AIRSICK, "run"], env)
    summary, _ = json.JSONDecoder().raw_decode(measured.stdout[measured.stdout.index("{") :])
    return {
        "seconds": round(measured.seconds, 1),
        "peak_mb": round(measured.peak_rss_mb),
        "people": summary["people"],
        "answered": summary["answered"],
        "failed": len(summary["failed"]),
        "stages": summary["seconds"],
    }


def _tree_mb(pid: int) -> float:
    """The resident memory of a process and everything under it."""
    import psutil

    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 2**20


def serve_everyone(home: Path, env: dict[str, str]) -> dict:
    """`airsick serve`, then one request for each person (their forecast days): the model
    server's memory (front, `mlflow models serve` and its workers) and its answer times."""
    import time

    from airsick_core.settings import Settings
    from airsick_serving.client import AirsickClient
    from airsick_stores import Stores

    rows = Stores.from_settings(Settings(home=home)).marts.everyones_scoring_rows()
    process, url = model_server(home, {k: v for k, v in env.items() if k.startswith("AIRSICK_")})
    try:
        client = AirsickClient(url, attempts=1)
        first, again, peak = [], [], _tree_mb(process.pid)
        groups = list(rows.groupby("person", sort=False))
        for times in (first, again):
            for index, (person, theirs) in enumerate(groups):
                started = time.perf_counter()
                client.predict(theirs, person=person)
                times.append(time.perf_counter() - started)
                if index % 50 == 0:
                    peak = max(peak, _tree_mb(process.pid))
            peak = max(peak, _tree_mb(process.pid))
    finally:
        stop(process)
    first.sort(), again.sort()
    return {
        "people": len(groups),
        "peak_mb": round(peak),
        "first_median_ms": round(1000 * first[len(first) // 2], 1),
        "again_median_ms": round(1000 * again[len(again) // 2], 1),
        "again_p95_ms": round(1000 * again[int(len(again) * 0.95)], 1),
    }


def _retrainers(people: int) -> int:
    """How many retrain in a typical evening: every RETRAIN_SHARE-th of the others."""
    return len(range(0, people - 1, RETRAIN_SHARE))


def _projected(quiet: dict, people: int, results: dict) -> dict:
    measured = [
        int(n) for n, r in results.items() if not r["typical"].get("projected") and int(n) > 1
    ]
    base = results[str(max(measured))]
    per_training = base["typical"]["stages"]["train"] / _retrainers(max(measured))
    seconds = quiet["seconds"] + _retrainers(people) * per_training
    return quiet | {
        "seconds": round(seconds, 1),
        "projected": True,
        "per_training_s": round(per_training, 1),
        "peak_mb": max(quiet["peak_mb"], base["typical"]["peak_mb"]),
    }


def one_size(people: int, url: str, folder: Path, results: dict) -> dict:
    """Set up a home of ``people``, then measure a quiet evening and a typical one."""
    home = folder / f"home-{people}"
    shutil.rmtree(home, ignore_errors=True)
    start = (datetime.now(UTC).date() - timedelta(days=3 * 365)).isoformat()
    env = _environment(home, AIRSICK_OPEN_METEO_URL=url, AIRSICK_HISTORY_START=start)
    print(f"  {people} people: diaries, three years of air, the build, one training ...")
    _python(env, SETUP, str(people))
    for step in (["ingest"], ["transform"], ["train"]):
        measure([*AIRSICK, *step], env)
    if people > 1:
        _python(env, CLONE)
    quiet = _evening(env)
    print(f"    no training: {quiet['seconds']} s, peak {quiet['peak_mb']} MB")
    served = serve_everyone(home, env)
    print(
        f"    model server, everyone asked twice: peak {served['peak_mb']} MB, median "
        f"{served['first_median_ms']} ms first, {served['again_median_ms']} ms again"
    )
    if people > int(os.environ.get("AIRSICK_BENCH_TYPICAL_UP_TO", people)):
        typical = _projected(quiet, people, results)
        print(
            f"    typical (a seventh retrain), projected from {typical['per_training_s']} s "
            f"a training: {typical['seconds']} s"
        )
    else:
        if people > 1:
            _python(env, RETIRE, str(RETRAIN_SHARE))
        typical = _evening(env)
        print(
            f"    typical (a seventh retrain): {typical['seconds']} s, peak {typical['peak_mb']} MB"
        )
    shutil.rmtree(home, ignore_errors=True)
    return {"quiet": quiet, "typical": typical, "server": served}


def _plot(results: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(n) for n in results)
    figure, axis = plt.subplots(figsize=(7, 4.2))
    for kind, label in (("quiet", "no training"), ("typical", "a seventh retrain")):
        axis.plot(sizes, [results[str(n)][kind]["seconds"] for n in sizes], "o-", label=label)
    projected = [n for n in sizes if results[str(n)]["typical"].get("projected")]
    if projected:
        axis.plot(
            projected,
            [results[str(n)]["typical"]["seconds"] for n in projected],
            "o",
            markerfacecolor="white",
            color="C1",
            label="projected from the trainings measured",
        )
    axis.axhline(TARGETS["quiet_s"], color="grey", ls=":", lw=1)
    axis.axhline(TARGETS["typical_s"], color="grey", ls="--", lw=1)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("people in the home")
    axis.set_ylabel("the evening, `airsick run` (s)")
    axis.set_title("The evening's wall time as the people grow (2 cores)")
    axis.legend()
    figure.tight_layout()
    FIGURE.parent.mkdir(exist_ok=True)
    figure.savefig(FIGURE, dpi=110)


def main() -> None:
    sizes = [int(n) for n in os.environ.get("AIRSICK_BENCH_PEOPLE", "1,10,100,1000").split(",")]
    print("the evening for many people (`airsick run`, fresh process each):")
    results = each_size(RESULTS, sizes, "airsick-bench-people-", one_size)
    print(
        "| people | no training (s) | peak (MB) | typical (s) | peak (MB) | answered "
        "| server (MB) | answer (ms, first / again) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in sorted(results, key=int):
        quiet, typical = results[n]["quiet"], results[n]["typical"]
        served = results[n].get("server", {})
        projected = " (projected)" if typical.get("projected") else ""
        print(
            f"| {n} | {quiet['seconds']} | {quiet['peak_mb']} | {typical['seconds']}{projected} | "
            f"{typical['peak_mb']} | {typical['answered']} of {typical['people']} | "
            f"{served.get('peak_mb', '')} | {served.get('first_median_ms', '')} / "
            f"{served.get('again_median_ms', '')} |"
        )
    known = sorted(int(n) for n in results)
    if len(known) >= 2:
        low, high = known[-2], known[-1]
        slope = (
            (results[str(high)]["quiet"]["seconds"] - results[str(low)]["quiet"]["seconds"])
            / (high - low)
            * 1000
        )
        print(f"marginal cost per person ({low} to {high}, no training): {slope:.0f} ms")
        largest = results[str(high)]
        for name, value, target in (
            ("no-training evening (s)", largest["quiet"]["seconds"], TARGETS["quiet_s"]),
            ("marginal per person (ms)", slope, TARGETS["marginal_ms"]),
            (
                "typical evening (s)"
                + (", projected" if largest["typical"].get("projected") else ""),
                largest["typical"]["seconds"],
                TARGETS["typical_s"],
            ),
            ("peak memory (MB)", largest["typical"]["peak_mb"], TARGETS["peak_mb"]),
            ("model server memory (MB)", largest["server"]["peak_mb"], TARGETS["server_mb"]),
        ):
            verdict = "met" if value <= target else "MISSED"
            print(f"  {high} people, {name}: {value:.1f} (target <= {target:.0f}) {verdict}")
    _plot(results)
    print(f"curve: {FIGURE}")


if __name__ == "__main__":
    main()
