"""Training wall time: one place over 3 years, and 50 places over 3 years.

The whole `airsick train` step: reading the mart, walk-forward backtests of 2 baselines and
2 candidates over 12 monthly folds, the final fit, MLflow logging and registration (local
SQLite store).
"""

from __future__ import annotations

import time

from airsick_orchestration import steps

from benchmarks.transform import prepare


def run(n_places: int) -> dict:
    settings = prepare(n_places)
    steps.transform(settings)
    started = time.perf_counter()
    report = steps.train(settings)
    seconds = time.perf_counter() - started
    return {
        "places": n_places,
        "rows": report.rows,
        "folds": report.folds,
        "seconds": seconds,
        "challenger": report.challenger,
    }


def main() -> None:
    print("train: backtest, fit, log and register (2 baselines, 2 candidates, 12 folds)")
    print(f"{'places':>6} {'rows':>8} {'folds':>5} {'seconds':>8} {'challenger':>10}")
    for n in (1, 50):
        r = run(n)
        print(
            f"{r['places']:>6} {r['rows']:>8,} {r['folds']:>5} {r['seconds']:>8.1f} "
            f"{r['challenger']:>10}"
        )


if __name__ == "__main__":
    main()
