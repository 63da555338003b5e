"""The hindcast's realized scores, checked against scikit-learn on the same outcomes."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
from airsick_lakehouse import connect
from airsick_orchestration import steps
from sklearn.metrics import brier_score_loss, roc_auc_score


def test_realized_brier_and_auc_per_month_match_sklearn(built_demo, tmp_path):
    settings = built_demo.model_copy(update={"home": tmp_path / "home", "lake_url": None})
    shutil.copytree(
        built_demo.home,
        settings.home,
        ignore=shutil.ignore_patterns("catalog", "warehouse", "dbt", "predictions"),
    )
    with connect(built_demo.lakehouse) as con:
        days = con.execute(
            "select person, place, local_date, pm2_5_mean from lake.marts.fct_daily_features"
        ).df()
    # Evening-before predictions for every past day, as daily runs would have written them.
    rng = np.random.default_rng(3)
    days["probability"] = np.clip(
        0.05 + days["pm2_5_mean"] / 100 + rng.normal(0, 0.05, len(days)), 0.01, 0.99
    ).round(4)
    predictions = days.assign(
        predicts_date=days["local_date"] + pd.Timedelta(days=1),
        reasons="[]",
        model_name="airsick",
        model_version="7",
        run_id="r",
        scored_at=pd.to_datetime(days["local_date"]).dt.tz_localize("UTC") + pd.Timedelta(hours=20),
        scored_via="in-process",
        features="{}",
    ).drop(columns=["pm2_5_mean"])
    folder = settings.home / "lake" / "raw" / "predictions"
    folder.mkdir(parents=True)
    predictions.to_parquet(folder / "backfill.parquet")

    steps.transform(settings, unit_tests=False)
    with connect(settings.lakehouse) as con:
        monthly = con.execute("select * from lake.hindcast.fct_hindcast_monthly").df()
        outcomes = con.execute(
            "select * from lake.hindcast.fct_hindcast where was_sick is not null"
        ).df()
    assert len(outcomes) == len(days) - 1  # today's outcome is not known yet
    outcomes["month"] = pd.to_datetime(outcomes["predicts_date"]).dt.to_period("M")
    checked = 0
    for month, group in outcomes.groupby("month"):
        row = monthly[pd.to_datetime(monthly["month"]).dt.to_period("M") == month].iloc[0]
        y, p = group["was_sick"].astype(int), group["probability"]
        assert (
            row["brier"] == np.float64(brier_score_loss(y, p)).round(12)
            or abs(row["brier"] - brier_score_loss(y, p)) < 1e-12
        )
        if y.nunique() == 2:
            assert abs(row["roc_auc"] - roc_auc_score(y, p)) < 1e-12
            checked += 1
    assert checked >= 30
