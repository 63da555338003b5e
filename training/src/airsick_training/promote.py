"""The champion/challenger gate, as a rule on scores: no MLflow here, so it is easy to test.

The rule (stated once, logged with every decision):

0. Before the diary holds enough evidence to backtest (no fold), there is nothing to compare:
   with no champion, the population prior becomes champion (the answer on day zero, stated
   as not personal yet); otherwise the champion stays.
1. The challenger is the best candidate of this training by walk-forward log loss.
2. It must beat both baselines (base rate and persistence) on log loss and on Brier score
   over the most recent backtest window (the last ``gate_folds`` folds), or, while the
   champion is still the population prior, beat that prior on the window by ``margin``:
   the prior is what the person gets otherwise, and a short diary may not yet beat the
   base rate it was itself estimated from.
3. With no champion yet, the population prior stands in for it (every person's first
   champion is the prior), so rule (2)'s second half applies.
4. Otherwise the champion's recipe is backtested again on the same folds and the same
   data, and the challenger must beat it on that window by ``margin`` (relative) on log
   loss or on Brier score.
5. A challenger of the very same recipe as the champion cannot beat it (the scores are the
   same), yet it was fitted on newer data: it replaces the champion if it passes (2). This
   keeps the served model fresh without letting a recipe win against itself.

When to train at all is the retrain rule, at the end of this module (``retrain``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def without_backtest(labelled_days: int, has_champion: bool, needed: int) -> Decision:
    """Rule 0: the decision when the diary is too short for any backtest fold."""
    if not has_champion:
        return Decision(
            True,
            f"with {labelled_days} labelled days there is nothing to test yet, so the "
            "population prior answers (not personal yet)",
        )
    return Decision(
        False,
        f"{labelled_days} labelled days are too few to test a personal model "
        f"(about {needed} are needed); the champion stays",
    )


def _beats(a: dict, b: dict, metric: str, margin: float = 0.0) -> bool:
    return a[metric] < b[metric] * (1 - margin)


def decide(
    challenger: str,
    scores: dict[str, dict[str, float]],
    champion: dict[str, float] | None,
    same_recipe: bool,
    margin: float,
    champion_is_prior: bool = False,
) -> Decision:
    """Apply the gate to window scores by model name; ``champion`` is the champion recipe's."""
    ours = scores[challenger]
    if champion is not None and champion_is_prior:
        # The prior answers today (or would, with no champion yet): beating it is a win.
        for metric in ("log_loss", "brier"):
            if _beats(ours, champion, metric, margin):
                return Decision(
                    True,
                    f"{challenger} beats the population prior that answered so far on "
                    f"{metric.replace('_', ' ')} by more than {margin:.0%} "
                    f"({ours[metric]:.4f} vs {champion[metric]:.4f})",
                )
    for baseline in ("base_rate", "persistence"):
        base = scores[baseline]
        if not (_beats(ours, base, "log_loss") and _beats(ours, base, "brier")):
            return Decision(
                False,
                f"{challenger} does not beat the {baseline.replace('_', ' ')} "
                f"baseline on the recent window (log loss {ours['log_loss']:.4f} "
                f"vs {base['log_loss']:.4f}, Brier {ours['brier']:.4f} vs "
                f"{base['brier']:.4f})",
            )
    if champion is None:
        return Decision(True, f"{challenger} beats both baselines and there was no champion")
    if same_recipe:
        return Decision(
            True,
            f"{challenger} is the champion's recipe refitted on newer data "
            "and beats both baselines",
        )
    for metric in ("log_loss", "brier"):
        if _beats(ours, champion, metric, margin):
            return Decision(
                True,
                f"{challenger} beats the champion's {metric.replace('_', ' ')} "
                f"by more than {margin:.0%} ({ours[metric]:.4f} vs "
                f"{champion[metric]:.4f}) and beats both baselines",
            )
    return Decision(
        False,
        f"{challenger} does not beat the champion by {margin:.0%} on log loss "
        f"({ours['log_loss']:.4f} vs {champion['log_loss']:.4f}) or Brier "
        f"({ours['brier']:.4f} vs {champion['brier']:.4f})",
    )


# The retrain rule: a new model is trained when there is no champion, when the champion was
# trained on other inputs, when at least this many days have got a label since the
# champion's data ended, or when the air has drifted (``airsick_training.drift``).
RETRAIN_AFTER_NEW_LABELS = 7


def retrain(*, has_champion: bool, same_inputs: bool, prior_answers: bool, drift) -> Decision:
    """Apply the retrain rule; ``drift`` (``airsick_training.drift.Drift``) is measured since
    the champion's data ended (over the whole diary while the population prior answers)."""
    if not has_champion:
        return Decision(True, "there is no champion yet")
    if not same_inputs:
        return Decision(
            True, "the champion was trained on other inputs than this version of airsick has"
        )
    labelled = drift.new_labels
    if prior_answers:
        # The prior learnt from no day: the diary is what can change it, and drift means
        # nothing to a model that has seen no air of this person.
        if labelled >= RETRAIN_AFTER_NEW_LABELS:
            return Decision(True, f"the population prior answers and {labelled} days have a label")
        return Decision(
            False,
            f"the population prior answers until {RETRAIN_AFTER_NEW_LABELS} days are logged "
            f"({labelled} so far)",
        )
    if labelled >= RETRAIN_AFTER_NEW_LABELS:
        return Decision(True, f"{labelled} days got a label since the champion's data ended")
    if not drift.measurable:
        return Decision(
            False,
            f"only {labelled} new labelled days, and {drift.new_days} new days are too few "
            "to measure drift",
        )
    if drift.drifted:
        return Decision(
            True, f"PM2.5 of the {drift.new_days} new days drifted (PSI {drift.psi:.2f})"
        )
    return Decision(
        False, f"only {labelled} new labelled days and no drift (PSI {drift.psi or 0:.2f})"
    )
