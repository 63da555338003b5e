"""Newcomers' first weeks from the literature's prior and from the one learnt from everyone.

A home of AIRSICK_BENCH_PEOPLE (60) simulated people (airsick_standin.population) is built
by the product (stand-in, ingestion, dbt); every member with a long enough diary is a
newcomer in turn (tests/newcomers.py): their first 7, 14, 30 and 60 logged days fit the
model the product serves at that point, once from each prior, and the next 90 days are
scored against their truth. Prints the table, draws docs/learnt-prior-by-days.png and logs
it with the figures to MLflow (experiment "airsick-skill", in AIRSICK_HOME's store).

    python -m benchmarks prior
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIGURE = REPO / "docs" / "learnt-prior-by-days.png"


def main() -> None:
    from tests.newcomers import DAYS, newcomers, population_home, summary

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    people = int(os.environ.get("AIRSICK_BENCH_PEOPLE", "60"))
    with tempfile.TemporaryDirectory() as scratch:
        settings = population_home(Path(scratch) / "home", people)
        table = summary(newcomers(settings))
    print(f"newcomers in a home of {people} simulated people: skill captured on 90 days")
    print(table.round(3).to_string())
    figure = _plot(table, people, DAYS)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(FIGURE, dpi=110)
    print(f"curve: {FIGURE}")
    print(f"MLflow run: {_log(table, figure)}")


def _plot(table, people: int, days):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(table.index, table["literature"], marker="o", label="from the literature's prior")
    ax.plot(table.index, table["learnt"], marker="o", label="from the prior learnt from others")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axhline(1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_xticks(days, [str(d) for d in days])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set(
        xlabel="days the newcomer logged",
        ylabel="skill captured (0 base rate, 1 truth)",
        title=f"A newcomer's first weeks, in a home of {people} people",
        ylim=(-0.2, 1.05),
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def _log(table, figure) -> str:
    from benchmarks._util import log_skill_run

    metrics = [
        (f"{name}.skill_captured", float(row[name]), int(days))
        for days, row in table.iterrows()
        for name in ("literature", "learnt")
    ]
    return log_skill_run("learnt-prior-by-days", metrics, figure)


if __name__ == "__main__":
    main()
