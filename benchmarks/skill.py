"""Skill by days logged: how fast the answer becomes personal, for each kind of person, on
every real series, and never below what the person had before learning.

The matrix of issue "never worse for having learnt": for every real series in
../shared/data/open-meteo (tests/real_people.py), every persona (the real-air persona and
tests/data/personas.py's heat, nothing and often-sick people), a person who started their
diary 7, 14, 30, 60 or 365 days before "today" and logged a half or a quarter of those days
runs the whole pipeline (ingest, dbt build, train and gate, predict) and is scored on the
withheld days after it against the persona's truth, next to the population prior alone on
the same days.

    python -m benchmarks skill                 # the whole matrix (about 200 runs)
    AIRSICK_BENCH_JOBS=2 python -m benchmarks skill
    AIRSICK_BENCH_SERIES=riyadh,chennai AIRSICK_BENCH_PERSONAS=heat python -m benchmarks skill

Each run's figures land in test-artifacts/skill-matrix.json as it finishes; a rerun skips
the runs found there (AIRSICK_BENCH_FRESH=1 starts over). Prints the table and the goals'
misses, draws docs/skill-by-days-logged.png (one panel per persona, a line per series and
share, the prior alone dotted) and logs it with the figures to MLflow (experiment
"airsick-skill", in AIRSICK_HOME's tracking store).

The pollen-only persona is not in the matrix: no recording in ../shared has pollen, so on
them it is the person who reacts to nothing with other draws.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "open-meteo"
DAYS = (7, 14, 30, 60, 365)
SHARES = {"half": 0.5, "quarter": 0.25}
PERSONAS = ("real_air", "heat", "nothing", "high_base")
FIGURE = REPO / "docs" / "skill-by-days-logged.png"
RESULTS = REPO / "test-artifacts" / "skill-matrix.json"
BELOW_PRIOR_BY = 0.05  # the goal, in shares of the truth's skill


def main() -> None:
    if not SHARED.is_dir():
        print("skill by days logged: ../shared/data/open-meteo is absent; skipped")
        return
    from tests.real_people import SERIES

    series = _chosen("AIRSICK_BENCH_SERIES", tuple(SERIES))
    personas = _chosen("AIRSICK_BENCH_PERSONAS", PERSONAS)
    done = {} if os.environ.get("AIRSICK_BENCH_FRESH") else _load()
    todo = [
        (s, p, d, share)
        for s in series
        for p in personas
        for d in DAYS
        for share in SHARES
        if _key(s, p, d, share) not in done
    ]
    jobs = int(os.environ.get("AIRSICK_BENCH_JOBS", "1"))
    print(f"skill by days logged: {len(todo)} runs to do, {len(done)} found, {jobs} at a time")
    with ProcessPoolExecutor(jobs, initializer=_quiet) as pool:
        futures = {pool.submit(_run, *cell): cell for cell in todo}
        for future in as_completed(futures):
            cell = futures[future]
            done[_key(*cell)] = row = future.result()
            _save(done)
            print(_line(row), flush=True)
    rows = [done[k] for k in sorted(done)]
    _report(rows)
    figure = _plot(rows)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(FIGURE, dpi=110)
    print(f"curve: {FIGURE}")
    print(f"MLflow run: {_log(rows, figure)}")


def _chosen(variable: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = os.environ.get(variable)
    return tuple(value.split(",")) if value else default


def _key(series: str, persona: str, days: int, share: str) -> str:
    return f"{series}/{persona}/{days}/{share}"


def _quiet() -> None:
    # One thread per run: the runs share two cores with each other.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")


def _run(series: str, persona: str, days: int, share: str) -> dict:
    from tests.data.personas import simulate
    from tests.real_people import run_person

    with tempfile.TemporaryDirectory() as scratch:
        outcome, news = run_person(
            SHARED,
            series,
            "last_days",
            Path(scratch) / "home",
            logged=days,
            share=SHARES[share],
            simulate=None if persona == "real_air" else simulate(persona),
        )
    return {
        "persona": persona,
        "days": days,
        "share": share,
        "measurable": outcome.measurable,
        "fold_kind": news["train"].fold_kind,
        **outcome.as_dict(),
    }


def _line(row: dict) -> str:
    return (
        f"{row['series']:9s} {row['persona']:9s} {row['days']:3d} days, {row['share']:7s} "
        f"({row['labelled_days']:3d} labels): {row['champion_kind']:9s} skill "
        f"{row['skill_captured']:6.2f} (prior alone {row['prior_skill_captured']:6.2f}), "
        f"Brier {row['brier_model']:.3f} base {row['brier_base_rate']:.3f} prior "
        f"{row['brier_prior']:.3f} truth {row['brier_truth']:.3f}"
        + ("" if row["measurable"] else "  [truth ~ base rate: ratios not measurable]")
    )


def misses(row: dict) -> list[str]:
    """The issue's goals this run misses, each with its figure."""
    found = []
    if not row["labelled_days"]:
        return found  # nothing logged yet (a quarter of 7 days can be none): day zero
    if row["days"] <= 14 and row["brier_model"] > row["brier_base_rate"] + 0.01:
        found.append(
            f"worse than the base rate (Brier {row['brier_model']:.3f} > "
            f"{row['brier_base_rate']:.3f})"
        )
    if row["measurable"]:
        if row["skill_captured"] < row["prior_skill_captured"] - BELOW_PRIOR_BY:
            found.append(
                f"below the prior alone (skill {row['skill_captured']:.2f} < "
                f"{row['prior_skill_captured']:.2f} - {BELOW_PRIOR_BY})"
            )
    elif row["brier_model"] > row["brier_prior"] + 0.01:
        found.append(
            f"below the prior alone (Brier {row['brier_model']:.3f} > {row['brier_prior']:.3f})"
        )
    return found


def _report(rows: list[dict]) -> None:
    print(f"\n{len(rows)} runs")
    print(f"{'persona':9s} {'share':7s} " + " ".join(f"{d:>11d}" for d in DAYS))
    for persona in PERSONAS:
        for share in SHARES:
            cells = []
            for days in DAYS:
                chosen = [
                    r
                    for r in rows
                    if (r["persona"], r["share"], r["days"]) == (persona, share, days)
                    and r["measurable"]
                ]
                if not chosen:
                    cells.append(f"{'-':>11s}")
                    continue
                model = sum(r["skill_captured"] for r in chosen) / len(chosen)
                prior = sum(r["prior_skill_captured"] for r in chosen) / len(chosen)
                cells.append(f"{model:5.2f}/{prior:5.2f}")
            if any(r["persona"] == persona and r["share"] == share for r in rows):
                print(f"{persona:9s} {share:7s} " + " ".join(cells))
    print("(mean skill captured over the measurable series: the model / the prior alone)")
    missed = [(r, m) for r in rows for m in misses(r)]
    print(f"goals missed: {len(missed)} of {len(rows)} runs")
    for row, miss in missed:
        print(f"  {row['series']}/{row['persona']}/{row['days']} days/{row['share']}: {miss}")


def _plot(rows: list[dict]):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    personas = [p for p in PERSONAS if any(r["persona"] == p for r in rows)]
    fig, axes = plt.subplots(
        1, len(personas), figsize=(4.2 * len(personas), 4.2), sharey=True, squeeze=False
    )
    series = sorted({r["series"] for r in rows})
    colours = dict(zip(series, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, persona in zip(axes[0], personas, strict=True):
        for name in series:
            for share, style in (("half", "-"), ("quarter", "--")):
                points = sorted(
                    (r["days"], r["skill_captured"], r["prior_skill_captured"])
                    for r in rows
                    if (r["series"], r["persona"], r["share"]) == (name, persona, share)
                    and r["measurable"]
                )
                if not points:
                    continue
                days, model, prior = zip(*points, strict=True)
                label = f"{name}, {share}" if persona == personas[0] else None
                ax.plot(days, model, style, marker="o", color=colours[name], label=label)
                if share == "half":
                    ax.plot(days, prior, ":", color=colours[name], alpha=0.6)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.axhline(1, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_xticks(DAYS, [str(d) for d in DAYS])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set(title=persona.replace("_", " "), xlabel="days since the diary began")
    axes[0][0].set(ylabel="skill captured (0 base rate, 1 truth)", ylim=(-0.6, 1.15))
    axes[0][0].legend(loc="lower right", fontsize=7)
    fig.suptitle("How personal the answer gets (dotted: the prior alone, same days)")
    fig.tight_layout()
    return fig


def _load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}


def _save(done: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(done, indent=1, sort_keys=True))


def _log(rows: list[dict], figure) -> str:
    from benchmarks._util import log_skill_run

    metrics = [
        (f"{r['series']}.{r['persona']}.{r['share']}.{name}", r[name], r["days"])
        for r in rows
        for name in ("skill_captured", "prior_skill_captured")
    ]
    return log_skill_run("skill-by-days-logged", metrics, figure, rows)


if __name__ == "__main__":
    main()
