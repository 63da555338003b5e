"""Model-server latency and throughput, against a trivial model and in-process prediction.

`airsick serve` (the promotion-following front before `mlflow models serve`) is measured
serving the champion, then the same server serving a trivial model (a constant, no
reasons), and both are put next to predicting in-process; all in one run. The load comes
from another process (`benchmarks.loadgen`): single-row requests from 1, 8 and 32
concurrent clients. Then memory of the serving processes before and after a long load
(AIRSICK_BENCH_SOAK_SECONDS, 600 by default).

Targets on this 2-core machine: p50 <= 5 ms and p99 <= 20 ms at 8 clients; the champion's
throughput at least two thirds of the trivial model's.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
from airsick_core.names import model_name
from airsick_lakehouse import connect
from airsick_orchestration import steps
from airsick_training.features import INPUT_COLUMNS
from airsick_training.pyfunc import input_schema, model_input
from mlflow.models import ModelSignature

from benchmarks._util import model_server, stop
from benchmarks.transform import prepare

# prepare() makes homes for the demo person: their registered model.
MODEL = model_name("demo")

SECONDS = float(os.environ.get("AIRSICK_BENCH_SECONDS", "10"))
SOAK = float(os.environ.get("AIRSICK_BENCH_SOAK_SECONDS", "600"))


class Constant(mlflow.pyfunc.PythonModel):
    """The trivial model: the same inputs, a constant answer, no reasons computed."""

    def predict(self, context, model_input, params=None):
        return pd.DataFrame(
            {"probability": [0.1] * len(model_input), "reasons": ["[]"] * len(model_input)}
        )


def register_trivial(tracking_uri: str, artifacts: str) -> None:
    # The model server cannot import this module: ship the class's code inside the pickle.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    experiment = mlflow.create_experiment("trivial", artifact_location=artifacts)
    with mlflow.start_run(experiment_id=experiment):
        output = pd.DataFrame({"probability": [0.1], "reasons": ["[]"]})
        signature = ModelSignature(
            inputs=input_schema(), outputs=mlflow.models.infer_signature(None, output).outputs
        )
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=Constant(),
            signature=signature,
            metadata={"input_columns": list(INPUT_COLUMNS)},
        )
    version = mlflow.register_model(info.model_uri, MODEL).version
    mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", version)


def start(settings, tracking_uri: str) -> tuple[subprocess.Popen, str]:
    return model_server(settings.home, {"AIRSICK_MLFLOW_TRACKING_URI": tracking_uri})


def rss_mb(process: subprocess.Popen) -> float:
    """Resident memory of the server and every process under it: the front, `mlflow models
    serve` (its own session, so not in the front's process group) and its workers."""
    import psutil

    root = psutil.Process(process.pid)
    total = 0
    for member in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total / 2**20


def load(url: str, body_file: str, clients: int, seconds: float) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            f"{url}/invocations",
            body_file,
            str(clients),
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    settings = prepare(1)
    steps.transform(settings)
    champion_uri = f"sqlite:///{settings.home}/mlflow-champion.db"
    trained = settings.model_copy(update={"mlflow_tracking_uri": champion_uri})
    (settings.home / "mlflow").mkdir(exist_ok=True)
    report = steps.train(trained)
    if not report.promoted:
        # This measures serving, not the gate: serve the trained version regardless.
        print(
            f"(the gate kept version {report.version} as challenger: {report.reason}; "
            "it is served anyway for this benchmark)"
        )
        mlflow.set_registry_uri(champion_uri)
        mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", report.version)
    trivial_uri = f"sqlite:///{settings.home}/mlflow-trivial.db"
    register_trivial(trivial_uri, (settings.home / "trivial-artifacts").as_uri())

    with connect(settings.lakehouse) as con:
        row = con.execute("select * from lake.marts.fct_scoring_features limit 1").df()
    x = model_input(row)
    # What a caller sends the server: named columns (dataframe_records), nulls for missing.
    record = {
        c: (None if np.isnan(v) else float(v)) for c, v in zip(INPUT_COLUMNS, x[0], strict=True)
    }
    body = {"dataframe_records": [record]}
    body_file = tempfile.mktemp(suffix=".json")
    Path(body_file).write_text(json.dumps(body))

    mlflow.set_tracking_uri(champion_uri)
    mlflow.set_registry_uri(champion_uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    for _ in range(20):
        model.predict(x)
    started, n = time.perf_counter(), 500
    for _ in range(n):
        model.predict(x)
    in_process_ms = (time.perf_counter() - started) / n * 1000

    print(
        f"serving: champion v{report.version} ({report.challenger}) vs a trivial model, "
        f"single-row requests, {SECONDS:.0f} s per level"
    )
    print(
        f"in-process pyfunc predict of one row: {in_process_ms:.2f} ms "
        f"({1000 / in_process_ms:.0f} rows/s on one core)"
    )
    results = {}
    for name, uri in (("champion", champion_uri), ("trivial", trivial_uri)):
        process, url = start(settings, uri)
        try:
            for clients in (1, 8, 32):
                results[(name, clients)] = load(url, body_file, clients, SECONDS)
            if name == "champion":  # the same server then takes the long load
                before = rss_mb(process)
                soak = load(url, body_file, 8, SOAK)
                after = rss_mb(process)
        finally:
            stop(process)
    print(f"{'model':>9} {'clients':>7} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>7} {'errors':>6}")
    for (name, clients), r in results.items():
        print(
            f"{name:>9} {clients:>7} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
            f"{r['throughput']:>7.0f} {r['errors']:>6}"
        )
    for clients in (1, 8, 32):
        ratio = (
            results[("champion", clients)]["throughput"]
            / results[("trivial", clients)]["throughput"]
        )
        print(f"throughput champion/trivial at {clients} clients: {ratio:.2f} (target >= 0.67)")
    eight = results[("champion", 8)]
    print(
        f"target at 8 clients: p50 {eight['p50_ms']:.1f} ms (<= 5), "
        f"p99 {eight['p99_ms']:.1f} ms (<= 20)"
    )
    print(
        f"champion latency vs in-process at 1 client: "
        f"{results[('champion', 1)]['p50_ms'] / in_process_ms:.1f}x"
    )

    print(
        f"memory of the serving processes: {before:.0f} MB after warm-up, {after:.0f} MB after "
        f"{SOAK:.0f} s at 8 clients ({soak['requests']:,} requests, {soak['errors']} errors): "
        f"{after / before:.2f}x"
    )


if __name__ == "__main__":
    main()
