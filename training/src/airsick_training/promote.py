"""The champion/challenger gate, as a rule on scores: no MLflow here, so it is easy to test.

The rule (stated once, logged with every decision). The incumbent is what answers today:
the champion's recipe, or the population prior while there is no champion.

0. Before the diary holds enough days to backtest (no fold yet, about the first three
   weeks), there is nothing to compare, and nothing needs to be: with no labelled day the
   population prior answers (stated as not personal yet); from the first labelled day on,
   the personal model answers, which *is* the prior updated by those days (its Bayesian
   posterior: with one day it is nearly the prior, with seven sick days out of seven its
   base rate has moved most of the way). A champion of another recipe stays.
1. Once there are folds, the challenger is the best candidate by walk-forward log loss
   over every out-of-sample day, the prior itself among the candidates: when the diary says
   too little, the prior's own answer is the one to keep.
2. The challenger of the champion's very recipe is the champion fitted on newer data (the
   backtest scores of the two are the same by construction): it replaces the champion.
3. Any other challenger is compared with the incumbent on every out-of-sample day the
   backtest has, paired: the gain is the incumbent's mean log loss minus the challenger's,
   and its uncertainty comes from a block bootstrap of the days (weeks resampled whole,
   as sick days come in spells). It is promoted only when the gain is above zero with 95 %
   confidence (the interval's lower end) and at least ``margin`` of the incumbent's loss.
   The one exception is the prior's own update (the personal model) against the prior: it
   answers from the first day without a test (rule 0), so a backtest keeps it unless it is
   worse than the prior with 95 % confidence (the interval's upper end below zero).
4. A challenger that learns from the diary alone (not the prior or its update) must also
   beat both baselines (base rate and persistence) on log loss over the same days.

When to train at all is the retrain rule, at the end of this module (``retrain``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The prior and its Bayesian update: they never need to beat a baseline learnt from the diary
# (on a short diary the base rate is estimated from the very days it is scored on).
BAYESIAN = frozenset({"prior", "personal"})
CONFIDENCE = 0.95
BLOCK_DAYS = 7
DRAWS = 2000


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


@dataclass(frozen=True)
class Comparison:
    """The challenger against the incumbent on the same out-of-sample days."""

    days: int
    gain: float  # the incumbent's mean log loss minus the challenger's: > 0, the challenger wins
    low: float  # the gain's 90 % interval: its low end is a one-sided 95 % bound
    high: float
    incumbent_log_loss: float

    @property
    def relative(self) -> float:
        return self.gain / self.incumbent_log_loss if self.incumbent_log_loss else 0.0

    def as_metrics(self) -> dict[str, float]:
        return {
            "gain": self.gain,
            "gain_low": self.low,
            "gain_high": self.high,
            "days": float(self.days),
        }

    def words(self) -> str:
        return (
            f"log loss {self.relative:+.1%} per day over {self.days} out-of-sample days "
            f"(gain {self.gain:+.4f}, 90 % interval {self.low:+.4f} to {self.high:+.4f})"
        )


def log_losses(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    y = np.asarray(y, dtype=float)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def compare(
    y: np.ndarray,
    p_challenger: np.ndarray,
    p_incumbent: np.ndarray,
    seed: int = 0,
    draws: int = DRAWS,
    block: int = BLOCK_DAYS,
) -> Comparison:
    """The paired gain of the challenger over the incumbent on days in time order, with a
    moving-block bootstrap interval (blocks of ``block`` consecutive days)."""
    incumbent = log_losses(y, p_incumbent)
    difference = incumbent - log_losses(y, p_challenger)
    n = len(difference)
    if n == 0:
        return Comparison(0, 0.0, 0.0, 0.0, 0.0)
    block = min(block, n)
    blocks = -(-n // block)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - block + 1, size=(draws, blocks))
    resampled = difference[(starts[:, :, None] + np.arange(block)).reshape(draws, -1)[:, :n]]
    means = resampled.mean(axis=1)
    tail = (1 - CONFIDENCE) * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Comparison(n, float(difference.mean()), float(low), float(high), float(incumbent.mean()))


def without_backtest(labelled_days: int, champion_kind: str | None) -> Decision:
    """Rule 0: the decision when the diary is too short for any backtest fold.

    ``champion_kind`` is the champion's recipe kind (None: no champion yet). The model this
    decides on is the personal model (the prior updated) from the first labelled day, and
    the prior itself before it.
    """
    if labelled_days == 0:
        if champion_kind is None:
            return Decision(
                True,
                "with no labelled day yet the population prior answers (not personal yet)",
            )
        return Decision(False, "no labelled day yet; the champion stays")
    if champion_kind in (None, *BAYESIAN):
        return Decision(
            True,
            f"the population prior updated by {labelled_days} labelled days answers: the "
            "prior's own Bayesian update needs no backtest",
        )
    return Decision(
        False,
        f"{labelled_days} labelled days are too few to test a new model against the "
        f"champion ({champion_kind}); the champion stays",
    )


def decide(
    challenger: str,
    challenger_kind: str,
    scores: dict[str, dict[str, float]],
    comparison: Comparison,
    same_recipe: bool,
    margin: float,
    incumbent: str = "the champion",
    incumbent_kind: str | None = None,
) -> Decision:
    """Apply rules 2-4 to the scores over every out-of-sample day, by model name."""
    if same_recipe and challenger_kind == "prior":
        return Decision(
            True,
            f"no candidate beat the population prior over {comparison.days} out-of-sample "
            "days: the prior answers",
        )
    if same_recipe:
        return Decision(True, f"{challenger} is the champion's recipe fitted on newer data")
    if challenger_kind not in BAYESIAN:
        ours = scores[challenger]
        for baseline in ("base_rate", "persistence"):
            base = scores[baseline]
            if not ours["log_loss"] < base["log_loss"]:
                return Decision(
                    False,
                    f"{challenger} does not beat the {baseline.replace('_', ' ')} baseline "
                    f"(log loss {ours['log_loss']:.4f} vs {base['log_loss']:.4f}); "
                    f"{incumbent} stays",
                )
    if challenger_kind == "personal" and incumbent_kind == "prior":
        if comparison.high >= 0:
            return Decision(
                True,
                f"{challenger} (the prior updated by the diary) is not worse than {incumbent} "
                f"with 95 % confidence: {comparison.words()}",
            )
        return Decision(
            False,
            f"{challenger} is worse than {incumbent} with 95 % confidence: "
            f"{comparison.words()}; {incumbent} stays",
        )
    if comparison.low > 0 and comparison.relative >= margin:
        return Decision(
            True, f"{challenger} beats {incumbent} with 95 % confidence: {comparison.words()}"
        )
    return Decision(
        False,
        f"{challenger} is not better than {incumbent} with 95 % confidence by {margin:.0%}: "
        f"{comparison.words()}; {incumbent} stays",
    )


# The retrain rule: a new model is trained when there is no champion, when the champion was
# trained on other inputs, when at least this many days have got a label since the
# champion's data ended (every new day while the answer rests on few days), or when the air
# has drifted (``airsick_training.drift``).
RETRAIN_AFTER_NEW_LABELS = 7
EVERY_DAY_UNTIL = 28  # labelled days the answer rests on: below, each new day retrains


def retrain(*, has_champion: bool, same_inputs: bool, champion_days: int, drift) -> Decision:
    """Apply the retrain rule; ``drift`` (``airsick_training.drift.Drift``) is measured since
    the champion's data ended (over the whole diary while the population prior answers);
    ``champion_days`` is how many labelled days the champion learnt from (0: the prior)."""
    if not has_champion:
        return Decision(True, "there is no champion yet")
    if not same_inputs:
        return Decision(
            True, "the champion was trained on other inputs than this version of airsick has"
        )
    labelled = drift.new_labels
    if champion_days < EVERY_DAY_UNTIL:
        # The answer rests on few days: each new one moves it (the prior's update needs no
        # backtest, and is quick). Drift means little to a model that has seen so few days.
        if labelled >= 1:
            return Decision(
                True,
                f"the answer rests on {champion_days} labelled days and {labelled} more "
                "have a label",
            )
        return Decision(False, f"no new labelled day since the {champion_days} it rests on")
    if labelled >= RETRAIN_AFTER_NEW_LABELS:
        return Decision(True, f"{labelled} days got a label since the champion's data ended")
    if not drift.measurable:
        return Decision(
            False,
            f"only {labelled} new labelled days, and {drift.new_days} new days are too few "
            "to measure drift",
        )
    if drift.drifted:
        psi = f"PSI {drift.psi:.2f}"
        return Decision(True, f"PM2.5 of the {drift.new_days} new days drifted ({psi})")
    return Decision(
        False, f"only {labelled} new labelled days and no drift (PSI {drift.psi or 0:.2f})"
    )
