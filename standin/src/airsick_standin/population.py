"""A simulated population for `airsick demo --people N` and the tests: people who differ.

Each person lives in one of twenty cities on five continents (the real series' places among
them) and is drawn from one law; every draw is a hash of the seed and the person's number,
so the same seed gives the same people. On each local day d:

    logit p(d) = logit(BASE)
                 + AIR    * (log PM2.5(d-1) - its median at the place over the history)
                 + AIR/2  * (log NO2(d-1)   - its median)
                 + POLLEN * (log(1 + pollen(d-1)) - its median)      (Europe's pollen only)
                 + HEAT   * z(warmest hour of d-1)       z: in sd of the place's daily maxima
                 + 0.9 * ([sick on d-1] - BASE)

| drawn per person | law |
|---|---|
| BASE | logit ~ Normal(logit 0.15, 0.5): most people between 7 % and 30 % |
| kind | air 40 %, pollen 20 %, heat 20 %, nothing 20 % |
| AIR (air kind) | Normal(0.8, 0.3); 0 otherwise |
| POLLEN (pollen kind) | Normal(0.6, 0.2); 0 otherwise (outside Europe they react to nothing) |
| HEAT (heat kind) | Normal(ln 2, 0.2): odds about x2 per sd of the local climate's heat |
| joined | uniform over the history's days but its last 60: a diary starts then |
| share logged | Beta(4, 1.5): most log three days in four, some half |

The air and weather are the simulator's truth (what the stand-in serves for past hours).
``p(d)`` is kept as each person's truth (the oracle) so a newcomer's answers can be read
against the best any model could do. As with the persona set there is no unseen frailty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from airsick_core.places import Place

from airsick_standin.persona import PersonaDay, daily_air, daily_from_hours, in_spells
from airsick_standin.simulator import Simulator, named_seed, uniform

CITIES = (
    Place("madrid", 40.4168, -3.7038, "Europe/Madrid"),
    Place("riyadh", 24.7136, 46.6753, "Asia/Riyadh"),
    Place("chennai", 13.0827, 80.2707, "Asia/Kolkata"),
    Place("sydney", -33.8688, 151.2093, "Australia/Sydney"),
    Place("berlin", 52.52, 13.41, "Europe/Berlin"),
    Place("vigo", 42.2328, -8.7226, "Europe/Madrid"),
    Place("singapore", 1.3005, 103.8626, "Asia/Singapore"),
    Place("delhi", 28.6139, 77.209, "Asia/Kolkata"),
    Place("beijing", 39.9042, 116.4074, "Asia/Shanghai"),
    Place("lagos", 6.5244, 3.3792, "Africa/Lagos"),
    Place("mexico-city", 19.4326, -99.1332, "America/Mexico_City"),
    Place("sao-paulo", -23.5505, -46.6333, "America/Sao_Paulo"),
    Place("london", 51.5072, -0.1276, "Europe/London"),
    Place("cairo", 30.0444, 31.2357, "Africa/Cairo"),
    Place("tokyo", 35.6762, 139.6503, "Asia/Tokyo"),
    Place("los-angeles", 34.0522, -118.2437, "America/Los_Angeles"),
    Place("johannesburg", -26.2041, 28.0473, "Africa/Johannesburg"),
    Place("melbourne", -37.8136, 144.9631, "Australia/Melbourne"),
    Place("toronto", 43.6532, -79.3832, "America/Toronto"),
    Place("jakarta", -6.2088, 106.8456, "Asia/Jakarta"),
)
KINDS = (("air", 0.4), ("pollen", 0.2), ("heat", 0.2), ("nothing", 0.2))
PERSISTENCE = 0.9
LAST_JOIN_DAYS = 60  # nobody joins in the history's last two months: each has some diary


@dataclass(frozen=True)
class Member:
    """One simulated person: where they live, what they react to, when they joined."""

    name: str
    place: Place
    kind: str
    base: float
    air: float
    pollen: float
    heat: float
    joined: date
    share: float  # of their days they log


def draw(n: int, first: date, last: date, seed: int) -> list[Member]:
    """The population's first ``n`` people (``person-001``...), drawn by the law above."""
    rng = np.random.default_rng(int(named_seed("population", seed)) % 2**63)
    span = max(1, (last - first).days - LAST_JOIN_DAYS)
    members = []
    for i in range(n):
        kind = str(rng.choice([k for k, _ in KINDS], p=[w for _, w in KINDS]))
        base_logit = rng.normal(np.log(0.15 / 0.85), 0.5)
        members.append(
            Member(
                name=f"person-{i + 1:03d}",
                place=CITIES[int(rng.integers(len(CITIES)))],
                kind=kind,
                base=float(1 / (1 + np.exp(-base_logit))),
                air=float(rng.normal(0.8, 0.3)) if kind == "air" else 0.0,
                pollen=float(rng.normal(0.6, 0.2)) if kind == "pollen" else 0.0,
                heat=float(rng.normal(np.log(2), 0.2)) if kind == "heat" else 0.0,
                joined=first + timedelta(days=int(rng.integers(span))),
                share=float(rng.beta(4, 1.5)),
            )
        )
    return members


def daily_inputs(place: Place, first: date, last: date) -> dict[str, np.ndarray]:
    """The place's daily air and warmest hour from ``first`` to ``last`` (simulator truth)."""
    daily = daily_air(place, first, last)
    zone = ZoneInfo(place.timezone)
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    first_hour, last_hour = int(start.timestamp() // 3600), int(end.timestamp() // 3600) - 1
    hourly = Simulator().hourly(
        place.latitude, place.longitude, first_hour, last_hour, ["temperature_2m"]
    )
    hours = np.arange(first_hour, last_hour + 1)
    daily["temperature_2m_max"] = daily_from_hours(hours, hourly, place.timezone, first, last)[
        "temperature_2m_max"
    ]
    return daily


def _centred(values: np.ndarray, transform) -> np.ndarray:
    if np.all(np.isnan(values)):
        return np.zeros(len(values))  # the place has no such variable: it plays no part
    level = transform(values)
    return np.nan_to_num(level - np.nanmedian(level))


def simulate(member: Member, inputs: dict[str, np.ndarray], first: date, seed: int):
    """The member's days from ``first`` (inputs start the day before ``first``), every day
    with its truth; which of them they logged is ``logged``'s to say."""
    n = len(inputs["pm2_5_mean"])
    log_level = lambda v: np.log(np.clip(v, 0.1, None))  # noqa: E731
    tmax = inputs["temperature_2m_max"]
    effect = (
        member.air * _centred(inputs["pm2_5_mean"], log_level)
        + member.air / 2 * _centred(inputs["nitrogen_dioxide_mean"], log_level)
        + member.pollen * _centred(inputs["pollen_mean"], lambda v: np.log1p(np.clip(v, 0, None)))
        + member.heat * np.nan_to_num((tmax - np.nanmean(tmax)) / np.nanstd(tmax))
    )
    ordinals = np.arange(first.toordinal() - 1, first.toordinal() - 1 + n)
    draws = uniform(named_seed("population", seed, member.name, "draw"), ordinals)
    return in_spells(effect, member.base, first, draws, PERSISTENCE)


def logged(member: Member, days: list[PersonaDay], seed: int) -> list[PersonaDay]:
    """The days the member wrote in their diary: from the day they joined, a share of them."""
    mine = [d for d in days if d.date >= member.joined]
    if not mine:
        return []
    ordinals = np.array([d.date.toordinal() for d in mine])
    kept = uniform(named_seed("population", seed, member.name, "logged"), ordinals) < member.share
    return [d for d, keep in zip(mine, kept, strict=True) if keep]


def people(n: int, first: date, last: date, seed: int):
    """Yield each member with every day's truth and the days they logged."""
    inputs: dict[str, dict[str, np.ndarray]] = {}
    for member in draw(n, first, last, seed):
        place = member.place
        if place.name not in inputs:
            inputs[place.name] = daily_inputs(place, first - timedelta(days=1), last)
        days = simulate(member, inputs[place.name], first, seed)
        yield member, days, logged(member, days, seed)
