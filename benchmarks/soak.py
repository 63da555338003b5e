"""Soak: the model server under steady load while the champion is promoted every minute.

8 clients (``benchmarks.loadgen``, its own process) send single-row requests to
`airsick serve` for AIRSICK_BENCH_SOAK_SECONDS (600 by default); every 60 s a new version of the
model is registered and ``@champion`` moves to it, so the server starts the new backend,
switches, and stops the old one, again and again. Prints the requests, the failed ones
(target 0), latency, the promotions the server followed, and the resident memory of every
serving process sampled just before each promotion (target: growth under 10 % from the
first sample, after warm-up, to the last).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import mlflow
import numpy as np
import requests
from airsick_core.names import model_name
from airsick_lakehouse import connect
from airsick_orchestration import steps
from airsick_training.features import INPUT_COLUMNS
from airsick_training.pyfunc import model_input

from benchmarks._util import model_server, stop
from benchmarks.serving import rss_mb
from benchmarks.transform import prepare

# prepare() makes homes for the demo person: their registered model.
MODEL = model_name("demo")

SECONDS = float(os.environ.get("AIRSICK_BENCH_SOAK_SECONDS", "600"))
CLIENTS = 8
PROMOTE_EVERY = 60.0


def _promote(client: mlflow.MlflowClient) -> str:
    """Register the champion's model again as a new version and move @champion to it."""
    champion = client.get_model_version_by_alias(MODEL, "champion")
    new = client.create_model_version(
        MODEL, champion.source, run_id=champion.run_id, tags=champion.tags
    )
    while client.get_model_version(MODEL, new.version).status != "READY":
        time.sleep(0.2)
    client.set_model_version_tag(MODEL, new.version, "decision", "promoted")
    client.set_registered_model_alias(MODEL, "champion", new.version)
    return new.version


def _served_version(url: str) -> str | None:
    try:
        return requests.get(f"{url}/ping", timeout=10).headers.get("X-Airsick-Model-Version")
    except requests.RequestException:
        return None


def main() -> None:
    settings = prepare(1)
    steps.transform(settings)
    report = steps.train(settings)
    client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri)
    if not report.promoted:  # this measures serving, not the gate
        client.set_registered_model_alias(MODEL, "champion", report.version)
    with connect(settings.lakehouse) as con:
        row = con.execute("select * from lake.marts.fct_scoring_features limit 1").df()
    x = model_input(row)
    record = {
        c: None if np.isnan(v) else float(v) for c, v in zip(INPUT_COLUMNS, x[0], strict=True)
    }
    body_file = tempfile.mktemp(suffix=".json")
    Path(body_file).write_text(json.dumps({"dataframe_records": [record]}))

    process, url = model_server(settings.home, {"AIRSICK_SERVE_POLL_SECONDS": "1"})
    samples: list[tuple[float, float]] = []
    promotions: list[tuple[str, float | None]] = []  # version, seconds until it was served
    try:
        load = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.loadgen",
                f"{url}/invocations",
                body_file,
                str(CLIENTS),
                str(SECONDS),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        stopping = threading.Event()

        def promote_every_minute() -> None:
            while not stopping.wait(PROMOTE_EVERY):
                if time.monotonic() - started > SECONDS - 20:
                    return
                samples.append((time.monotonic() - started, rss_mb(process)))
                version = _promote(client)
                asked = time.monotonic()
                while _served_version(url) != version and time.monotonic() - asked < 55:
                    time.sleep(0.5)
                served = _served_version(url) == version
                promotions.append((version, time.monotonic() - asked if served else None))

        promoter = threading.Thread(target=promote_every_minute, daemon=True)
        promoter.start()
        out, _ = load.communicate(timeout=SECONDS + 300)
        stopping.set()
        promoter.join(timeout=90)
        result = json.loads(out)
        last_served = _served_version(url)
    finally:
        stop(process)
    print(f"soak: {SECONDS:.0f} s at {CLIENTS} clients, a promotion every {PROMOTE_EVERY:.0f} s")
    print(
        f"requests {result['requests']:,}, failed {result['errors']} (target 0), "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"{result['throughput']:.0f} req/s"
    )
    switched = [
        f"v{v} in {s:.1f} s" if s is not None else f"v{v} not within 55 s" for v, s in promotions
    ]
    followed = sum(s is not None for _, s in promotions)
    print(f"promotions followed: {followed} of {len(promotions)} ({', '.join(switched)})")
    if promotions:
        print(
            f"at the end the server answered with v{last_served} "
            f"(last promoted v{promotions[-1][0]})"
        )
    if len(samples) >= 2:
        first, last = samples[0][1], samples[-1][1]
        print(
            "memory of the serving processes before each promotion: "
            + ", ".join(f"{mb:.0f}" for _, mb in samples)
            + f" MB; growth first to last {last / first - 1:+.1%} (target < 10 %)"
        )


if __name__ == "__main__":
    main()
