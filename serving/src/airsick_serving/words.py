"""Probabilities and reasons in words a person reads at a glance."""

from __future__ import annotations


def chance(probability: float) -> str:
    """Say a probability the way people think of it: 'about 1 in 4', 'about 7 in 10'."""
    if probability < 0.02:
        return "very unlikely (under 1 in 50)"
    if probability < 0.5:
        return f"about 1 in {round(1 / probability)}"
    if probability < 0.95:
        return f"about {round(probability * 10)} in 10"
    return "almost certain"


def reasons(items: list[dict], top: int = 2) -> str:
    """Say which factors raised or lowered the risk: 'PM2.5 raised it, ozone lowered it'."""
    parts = [f"{r['factor']} {'raised' if r['effect'] > 0 else 'lowered'} it" for r in items[:top]]
    return ", ".join(parts) if parts else "no factor stood out"


def personal(evidence_days: int, prior_people: int = 0) -> str:
    """Say how personal an answer is and which prior it started from: 'not personal yet'
    or 'from your 45 logged days', from the literature's prior or one learnt from others."""
    start = (
        f"what {prior_people} other people's diaries taught"
        if prior_people > 0
        else "what is known about people in general"
    )
    if evidence_days <= 0:
        return f"not personal yet: from {start}"
    days = f"{evidence_days} logged day{'s' if evidence_days != 1 else ''}"
    if prior_people > 0:
        return f"personal, from your {days}, starting from {start}"
    return f"personal, from your {days}"
