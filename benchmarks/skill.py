"""Skill by days logged: how fast the answer becomes personal, on real recorded air.

For Riyadh and Chennai (../shared/data/open-meteo), a person who started their diary 7, 14,
30, 60, 120 or 365 days before "today" runs the whole pipeline (ingest, dbt build, train and
gate, predict) and is scored on the withheld days after it, against the real-air persona's
truth (tests/real_people.py). Prints the table, draws the curve into
docs/skill-by-days-logged.png and logs it, with the figures, to MLflow (experiment
"airsick-skill", in AIRSICK_HOME's tracking store).
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "open-meteo"
DAYS = (7, 14, 30, 60, 120, 365)
SERIES = ("riyadh", "chennai")
FIGURE = REPO / "docs" / "skill-by-days-logged.png"


def main() -> None:
    if not SHARED.is_dir():
        print("skill by days logged: ../shared/data/open-meteo is absent; skipped")
        return
    from tests.real_people import run_person

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for series in SERIES:
            for days in DAYS:
                home = Path(scratch) / f"{series}-{days}"
                outcome, _ = run_person(SHARED, series, f"last_{days}_days", home, logged=days)
                rows.append((series, days, outcome))
                print(
                    f"{series:8s} {days:4d} days logged: {outcome.champion_kind:9s} "
                    f"(from {outcome.evidence_days} days), skill captured "
                    f"{outcome.skill_captured:6.2f}, ROC AUC {outcome.auc_model:.3f} "
                    f"(truth {outcome.auc_truth:.3f}) on {outcome.withheld_days} withheld days",
                    flush=True,
                )
    figure = _plot(rows)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(FIGURE, dpi=110)
    print(f"curve: {FIGURE}")
    print(f"MLflow run: {_log(rows, figure)}")


def _plot(rows) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for series in SERIES:
        points = [(d, o.skill_captured) for s, d, o in rows if s == series]
        ax.plot(*zip(*points, strict=True), marker="o", label=series.capitalize())
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axhline(1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_xticks(DAYS, [str(d) for d in DAYS])
    ax.set(
        xlabel="days logged before today",
        ylabel="skill captured (0 base rate, 1 truth)",
        title="How personal the answer gets, on real air",
        ylim=(min(-0.5, *(o.skill_captured for *_, o in rows)), 1.1),
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def _log(rows, figure) -> str:
    import mlflow
    from airsick_core.settings import Settings

    settings = Settings()
    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri)
    experiment = client.get_experiment_by_name("airsick-skill")
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment("airsick-skill", artifact_location=settings.artifact_location)
    )
    run = client.create_run(experiment_id, run_name="skill-by-days-logged")
    for series, days, outcome in rows:
        client.log_metric(
            run.info.run_id, f"{series}.skill_captured", outcome.skill_captured, step=days
        )
        client.log_metric(run.info.run_id, f"{series}.roc_auc", outcome.auc_model, step=days)
    client.log_figure(run.info.run_id, figure, "skill-by-days-logged.png")
    client.set_terminated(run.info.run_id)
    return (
        f"{settings.mlflow_ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run.info.run_id}"
    )


if __name__ == "__main__":
    main()
