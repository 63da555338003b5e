"""The notebooks' own functions, imported directly, and `marimo check` on both notebooks."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from airsick_notebooks import APP, EXPLORE
from airsick_notebooks.app import (
    backtest_chart,
    backtest_scores,
    diary_entry,
    factors_that_raise,
    forecast_charts,
    realized_scores,
    risk_card,
    risk_colour,
    triggers_chart,
    triggers_frame,
)
from airsick_notebooks.explore import (
    base_variables,
    filtered,
    quick_experiment,
    seasonality,
    sick_rate_by_bins,
)


def test_marimo_check_is_clean():
    marimo = Path(sys.executable).parent / "marimo"
    result = subprocess.run(
        [str(marimo), "check", str(APP), str(EXPLORE)], capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_the_risk_card_says_it_in_words_numbers_and_reasons():
    reasons = [{"factor": "PM2.5", "effect": 0.08}, {"factor": "ozone", "effect": -0.02}]
    html = risk_card("home", date(2026, 12, 1), 0.3, reasons, "4")
    assert "about 1 in 3" in html and "30% chance" in html
    assert "PM2.5 raised it, ozone lowered it" in html and "version 4" in html
    assert "Tuesday 01 December" in html
    assert risk_colour(0.05) != risk_colour(0.2) != risk_colour(0.6)


def test_only_raising_factors_are_highlighted():
    reasons = [{"factor": "PM2.5", "effect": 0.1}, {"factor": "time of year", "effect": -0.1}]
    assert factors_that_raise(reasons) == ["PM2.5"]


def test_the_forecast_chart_colours_what_matters_and_drops_empty_variables():
    hours = pd.date_range("2026-12-01", periods=3, freq="h")
    frame = pd.concat(
        [
            pd.DataFrame({"variable": "PM2.5", "value": [5.0, 6, 7]}),
            pd.DataFrame({"variable": "pollen", "value": [0.0, 0, np.nan]}),
            pd.DataFrame({"variable": "ozone", "value": [50.0, 60, 70]}),
        ]
    ).assign(hour=list(hours) * 3, place="home", was_forecast=True)
    charts = [c.to_dict() for c in forecast_charts(frame, ["ozone"])]
    assert [c["title"] for c in charts] == ["ozone", "PM2.5"]  # what matters first
    colours = [c["mark"]["color"] for c in charts]
    assert colours[0] != colours[1]


def test_the_diary_form_becomes_the_writers_arguments():
    sick = diary_entry(
        {
            "day": date(2026, 11, 29),
            "state": "sick",
            "symptoms": ["cough"],
            "severity": "mild",
            "note": "  hazy  ",
        }
    )
    assert sick == {
        "day": date(2026, 11, 29),
        "sick": True,
        "symptoms": ["cough"],
        "severity": "mild",
        "note": "hazy",
        "source": "app",
    }
    well = diary_entry(
        {
            "day": date(2026, 11, 29),
            "state": "well",
            "symptoms": ["cough"],
            "severity": "mild",
            "note": "",
        }
    )
    # A well day drops what only a sick day can have, instead of failing validation.
    assert well["symptoms"] is None and well["severity"] is None and well["note"] is None


def test_realized_scores_count_only_known_outcomes():
    frame = pd.DataFrame({"probability": [0.2, 0.8, 0.5], "was_sick": [False, True, None]})
    scores = realized_scores(frame)
    assert scores["days"] == 2
    assert scores["brier"] == pytest.approx(0.04)
    assert scores["base_rate_brier"] == pytest.approx(0.25)


def features(days: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    level = rng.gamma(2.0, 5.0, days)
    frame = pd.DataFrame(
        {
            "place": np.where(np.arange(days) % 2, "home", "work"),
            "local_date": pd.date_range("2025-01-01", periods=days, freq="D"),
            "pm2_5_mean": level,
            "pm2_5_mean_lag1": np.roll(level, 1),
            "pm2_5_mean_lag2": np.roll(level, 2),
            "pm2_5_mean_lag3": np.roll(level, 3),
            "sick_today": rng.random(days) < 0.2,
        }
    )
    frame["sick_next_day"] = rng.random(days) < 1 / (1 + np.exp(-(level - 15) / 4))
    return frame


def test_sickness_by_bins_rises_with_the_variable_the_person_reacts_to():
    bins = sick_rate_by_bins(features(), "pm2_5_mean")
    same_day = bins[bins["lag"] == "0 days before"].sort_values("bin")
    assert len(same_day) == 5 and set(bins["lag"]) >= {"0 days before", "3 days before"}
    assert same_day["rate"].iloc[-1] > same_day["rate"].iloc[0] + 0.3
    assert same_day["days"].sum() == 400


def test_filters_seasons_and_variables():
    frame = features()
    assert base_variables(list(frame.columns)) == ["pm2_5_mean"]
    chosen = filtered(frame, ["home"], date(2025, 2, 1), date(2025, 2, 28))
    assert len(chosen) == 14 and set(chosen["place"]) == {"home"}
    months = seasonality(frame, "pm2_5_mean")
    assert list(months["month"]) == list(range(1, 13))


def test_the_quick_experiment_is_time_ordered_and_beats_the_base_rate():
    scores = quick_experiment(features(), ["pm2_5_mean", "pm2_5_mean_lag1"])
    assert scores["train_days"] == 300 and scores["test_days"] == 100
    assert scores["brier"] < scores["base_rate_brier"]
    with pytest.raises(ValueError, match="Too few labelled days"):
        quick_experiment(features(40), ["pm2_5_mean"])


TRIGGERS = [
    {
        "term": "pm2_5",
        "label": "PM2.5 that day",
        "factor": "PM2.5",
        "change": "from 6 to 11 μg/m³",
        "odds_ratio": 1.58,
        "low": 1.09,
        "high": 2.28,
        "evidence": 0.47,
        "verdict": "raises your risk",
    },
    {
        "term": "rain",
        "label": "rain",
        "factor": "rain",
        "change": "from 0.0 to 5.4 mm",
        "odds_ratio": 0.8,
        "low": 0.7,
        "high": 0.95,
        "evidence": 0.6,
        "verdict": "lowers your risk",
    },
    {
        "term": "humidity",
        "label": "humidity",
        "factor": "humidity",
        "change": "from 72 to 86 %",
        "odds_ratio": 1.05,
        "low": 0.7,
        "high": 1.5,
        "evidence": 0.1,
        "verdict": "not enough evidence yet",
    },
]


def test_the_triggers_chart_draws_only_what_is_known_in_its_colour():
    frame = triggers_frame(TRIGGERS)
    assert frame["shown_low"].notna().tolist() == [True, True, False]
    assert frame["colour"].tolist() == ["#c62828", "#2e7d32", "#9e9e9e"]
    spec = triggers_chart(frame).to_dict()
    drawn = [layer for layer in spec["layer"] if layer.get("data", {}).get("name")]
    assert spec["layer"][0]["mark"]["type"] == "rule"  # the line at 1: no effect
    assert len(drawn) >= 2
    assert triggers_frame([]).empty


def test_the_backtest_is_scored_against_the_base_rate_on_the_same_days():
    dates = pd.date_range("2026-01-01", periods=4)
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "local_date": dates,
                    "y": [1, 0, 0, 1],
                    "p": [0.9, 0.1, 0.2, 0.8],
                    "model": "personal",
                }
            ),
            pd.DataFrame({"local_date": dates, "y": [1, 0, 0, 1], "p": 0.5, "model": "base_rate"}),
        ]
    )
    scores = backtest_scores(frame, "personal")
    assert scores["days"] == 4
    assert scores["brier"] == pytest.approx((0.01 + 0.01 + 0.04 + 0.04) / 4)
    assert scores["base_rate_brier"] == pytest.approx(0.25)
    spec = backtest_chart(frame, "personal").to_dict()
    assert spec["layer"][0]["mark"]["strokeDash"] == [4, 2]  # the backtest is drawn apart


def test_the_notebooks_stand_on_the_core_not_on_orchestration():
    """The app and the exploration notebook need settings and the diary writer, not Prefect,
    typer and honcho: importing both loads no module of airsick_orchestration or prefect."""
    code = (
        "import sys, airsick_notebooks.app, airsick_notebooks.explore;"
        "bad = sorted({m.split('.')[0] for m in sys.modules"
        " if m.startswith(('airsick_orchestration', 'prefect', 'typer', 'honcho'))});"
        "print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
