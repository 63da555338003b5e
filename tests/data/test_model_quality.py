"""On the demo persona, the champion must beat both baselines and come near the oracle."""

from __future__ import annotations

import pytest

# The stated distance: the champion's Brier score within this of the oracle's, on the
# walk-forward backtest (the persona's frailty and coin flips are unknowable to any model).
MAX_BRIER_GAP_TO_ORACLE = 0.02


@pytest.fixture(scope="module")
def report(first_training):
    return first_training[1]


def test_champion_beats_both_baselines_on_brier_and_log_loss(report):
    table = report.table
    champion = table.loc[report.challenger]
    assert report.promoted
    for baseline in ("base_rate", "persistence"):
        assert champion["brier"] < table.loc[baseline, "brier"], baseline
        assert champion["log_loss"] < table.loc[baseline, "log_loss"], baseline
    assert champion["roc_auc"] > 0.7


def test_champion_is_within_the_stated_distance_of_the_oracle(report):
    table = report.table
    gap = table.loc[report.challenger, "brier"] - table.loc["oracle", "brier"]
    assert 0 <= gap <= MAX_BRIER_GAP_TO_ORACLE, table
