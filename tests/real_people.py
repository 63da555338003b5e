"""Real recorded air, ordinary diaries: the whole pipeline for people, and their skill.

Used by ``tests/data/test_real_people.py`` and ``benchmarks/skill.py``. For one real series
in ``../shared/data/open-meteo`` it replays the recording as the API would answer (the
stand-in in replay mode), simulates the real-air persona of
``airsick_standin.persona.simulate_real_air`` (or another) on it, writes each person's
diary in a given shape, and runs the product's own steps (ingest, dbt build, train and
gate, predict) with "today" set some days before the recording ends. The days after are
withheld: they are scored by the champion as the evening-before prediction and compared
with the persona's truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from airsick_core.places import Place
from airsick_standin import persona
from airsick_standin.replay import Recording, Replay, load_csv_recording, load_recording
from airsick_standin.server import StandIn
from airsick_standin.simulator import named_seed, uniform
from sklearn.metrics import brier_score_loss, roc_auc_score


@dataclass(frozen=True)
class Series:
    """One recorded series and where it was recorded."""

    file: str
    place: Place
    csv_utc_offset_hours: int | None = None  # CSV recordings keep no place or offset
    withheld_days: int = 180
    simulated_air: bool = False  # weather only was recorded: the simulator's air beside it


SERIES = {
    "riyadh": Series(
        "riyadh_2023-07-26_2026-07-25.json", Place("riyadh", 24.7136, 46.6753, "Asia/Riyadh")
    ),
    "chennai": Series(
        "chennai_2024-01-01_2025-12-31.json", Place("chennai", 13.0827, 80.2707, "Asia/Kolkata")
    ),
    "berlin": Series(
        "berlin_2023-01-01_2023-07-13_tz-bangkok.csv",
        Place("berlin", 52.52, 13.41, "Europe/Berlin"),
        csv_utc_offset_hours=7,
        withheld_days=90,
    ),
    "vigo": Series(
        "vigo_2024-01-01_2024-10-25_dlt.csv.gz",
        Place("vigo", 42.2328, -8.7226, "Europe/Madrid"),
        csv_utc_offset_hours=0,
        withheld_days=90,
    ),
    # Two years of Singapore's recorded weather (a narrow, hot climate: the daily maximum's
    # sd is 1.4 °C); no air was recorded there, so the simulator's tropical air is beside it.
    "singapore": Series(
        "singapore_weather_2023.json",
        Place("singapore", 1.3005, 103.8626, "Asia/Singapore"),
        simulated_air=True,
    ),
}
# Open-Meteo's older names for two weather variables, as some recordings keep them.
RENAMED = {"windspeed_10m": "wind_speed_10m", "cloudcover": "cloud_cover"}
SIMULATED_AIR = ("pm2_5", "pm10", "nitrogen_dioxide", "ozone", "sulphur_dioxide", "dust")
SHAPES = ("full", "every_other_day", "last_60_days", "day_zero")
SEED = 11
MEASURABLE_GAP = 0.03


@dataclass(frozen=True)
class Outcome:
    """What the pipeline answered on the withheld days, against the persona's truth."""

    series: str
    shape: str
    labelled_days: int
    champion_kind: str
    evidence_days: int
    withheld_days: int
    brier_model: float
    brier_base_rate: float
    brier_truth: float
    auc_model: float
    auc_truth: float
    brier_prior: float  # the population prior alone, on the same days
    auc_prior: float

    @property
    def skill_captured(self) -> float:
        """(Brier of the base rate - the model's) / (the base rate's - the truth's)."""
        return self._skill(self.brier_model)

    @property
    def prior_skill_captured(self) -> float:
        """The same for the population prior alone: what the person had before learning."""
        return self._skill(self.brier_prior)

    @property
    def measurable(self) -> bool:
        """Whether the truth beats the base rate clearly enough on these days for a ratio of
        skills to be a measurement (with a Brier gap of 0.003 any ratio comes out)."""
        return self.brier_base_rate - self.brier_truth >= MEASURABLE_GAP

    def _skill(self, brier: float) -> float:
        return (self.brier_base_rate - brier) / (self.brier_base_rate - self.brier_truth)

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "skill_captured": round(self.skill_captured, 3),
            "prior_skill_captured": round(self.prior_skill_captured, 3),
        }


def recording(shared: Path, series: Series) -> Recording:
    path = shared / series.file
    if series.simulated_air:
        return weather_with_simulated_air(shared, series)
    if series.csv_utc_offset_hours is None:
        return load_recording(path)
    return load_csv_recording(
        path, series.place.latitude, series.place.longitude, series.csv_utc_offset_hours * 3600
    )


def weather_with_simulated_air(shared: Path, series: Series) -> Recording:
    """Every yearly weather recording of the series' place (``<name>_weather_<year>.json``,
    archive responses) joined in time, with the simulator's air for the same hours: one
    recording the stand-in replays for both endpoints."""
    import json

    from airsick_standin.replay import _recording
    from airsick_standin.simulator import Simulator

    parts = [
        _recording(json.loads(path.read_text()))
        for path in sorted(shared.glob(f"{series.place.name}_weather_*.json"))
    ]
    hours = np.concatenate([part.hours for part in parts])
    values = {
        RENAMED.get(name, name): np.concatenate([part.values[name] for part in parts])
        for name in parts[0].values
    }
    assert (np.diff(hours) == 1).all(), "the yearly recordings must join without a gap"
    place = series.place
    air = Simulator().hourly(
        place.latitude, place.longitude, int(hours[0]), int(hours[-1]), SIMULATED_AIR
    )
    first = parts[0]
    return Recording(first.latitude, first.longitude, first.elevation, hours, values | air)


def local_days(rec: Recording, place: Place) -> tuple[date, date]:
    """The first and last whole local days the recording covers."""
    zone = ZoneInfo(place.timezone)
    first = datetime.fromtimestamp(int(rec.hours.min()) * 3600, zone).date() + timedelta(days=1)
    last = datetime.fromtimestamp(int(rec.hours.max()) * 3600, zone).date() - timedelta(days=1)
    return first, last


def persona_days(
    rec: Recording, place: Place, seed: int = SEED, simulate=None
) -> list[persona.PersonaDay]:
    """The persona's days on the recording: the real-air persona unless ``simulate`` (one of
    ``tests/data/personas.py``) is given."""
    first, last = local_days(rec, place)
    daily = persona.daily_from_hours(
        rec.hours, rec.values, place.timezone, first - timedelta(days=1), last
    )
    return (simulate or persona.simulate_real_air)(daily, first, seed)


def diary_days(
    days: list[persona.PersonaDay], shape: str, cutoff: date, logged: int = 60, share: float = 1
):
    """The days the person logged: all, every other one, from ``logged`` days before the
    cutoff on, or none; of those, a seeded random ``share`` (a half: the days a person
    remembers), the withheld days included."""
    if shape == "full":
        chosen = days
    elif shape == "every_other_day":
        chosen = [d for d in days if d.date.toordinal() % 2 == 0]
    elif shape.startswith("last_"):  # "last_days" and "last_60_days": the last ``logged`` days
        chosen = [d for d in days if d.date > cutoff - timedelta(days=logged)]
    elif shape == "day_zero":
        chosen = []
    else:
        raise ValueError(shape)
    if share >= 1 or not chosen:
        return chosen
    ordinals = np.array([d.date.toordinal() for d in chosen])
    kept = uniform(named_seed("diary-share", SEED), ordinals) < share
    return [d for d, keep in zip(chosen, kept, strict=True) if keep]


@dataclass(frozen=True)
class Diary:
    """One person of a series' home: which of their days they logged and who they are."""

    shape: str  # see diary_days
    logged: int = 60
    share: float = 1
    simulate: Callable | None = None  # a persona of tests/data/personas.py; else real-air


def run_person(
    shared: Path,
    name: str,
    shape: str,
    home: Path,
    *,
    logged: int = 60,
    share: float = 1,
    settings_overrides: dict | None = None,
    simulate=None,
) -> tuple[Outcome, dict]:
    """Run the pipeline for one series and diary shape, alone in ``home``; return the
    outcome and the steps' news."""
    diary = Diary(shape, logged, share, simulate)
    [(outcome, news)] = run_people(
        shared, name, {shape: diary}, home, settings_overrides=settings_overrides
    ).values()
    return outcome, news


def run_people(
    shared: Path,
    name: str,
    diaries: dict[str, Diary],
    home: Path,
    *,
    settings_overrides: dict | None = None,
) -> dict[str, tuple[Outcome, dict]]:
    """Run the pipeline for several people on one series in one home, as a household there
    would: one ingest, one dbt build of everyone's features, then each person's training
    and gate and predictions. Returns each person's outcome and news, by their key in
    ``diaries`` (the person is ``<series>-<key>``, a slash a dash).

    They are fewer than the learnt prior needs (``MIN_PEOPLE`` others), and no evening
    learns one here: each starts from the literature's prior, as they would alone.
    """
    from airsick_core.settings import Settings
    from airsick_orchestration import steps
    from airsick_training.learnt_prior import MIN_PEOPLE

    assert len(diaries) <= MIN_PEOPLE, "so many people would learn a prior from each other"
    series = SERIES[name]
    rec = recording(shared, series)
    place = series.place
    first, last = local_days(rec, place)
    cutoff = last - timedelta(days=series.withheld_days)
    people = {key: f"{name}-{key.replace('/', '-')}" for key in diaries}
    settings = Settings(
        home=home,
        person=next(iter(people.values())),
        places=f"{place.name}={place.latitude},{place.longitude},{place.timezone}",
        history_start=first,
        as_of=last,
        forecast_days=0,
        open_meteo_calls_per_minute=0,
        **(settings_overrides or {}),
    )
    home_stores = steps.stores(settings)
    home_stores.people.add_many([(person, [place]) for person in people.values()])
    shared_news: dict = {}
    now = datetime.combine(last + timedelta(days=1), time(12), UTC)
    with StandIn(replay=Replay([rec]), now=now) as server:
        pointed = settings.model_copy(update={"open_meteo_url": server.url})
        shared_news["ingest"], shared_news["weather"] = steps.ingest(pointed)
    days, logged_days, events = {}, {}, []
    for key, diary in diaries.items():
        days[key] = persona_days(rec, place, simulate=diary.simulate)
        logged_days[key] = diary_days(days[key], diary.shape, cutoff, diary.logged, diary.share)
        events += persona.diary_events(people[key], logged_days[key], SEED, now)
    if events:
        home_stores.diary.append(events)
    today = settings.model_copy(update={"as_of": cutoff})
    # The models and their data tests, as the evening builds (the unit tests check the SQL on
    # static inputs: test_transform runs them).
    shared_news["transform"] = steps.transform(today, unit_tests=False)

    found = {}
    for key in diaries:
        theirs = today.model_copy(update={"person": people[key]})
        news = dict(shared_news, settings=theirs)
        news["train"] = steps.train(theirs)
        news["predict"] = steps.predict(theirs)
        found[key] = (
            _outcome(name, diaries[key].shape, theirs, news, days[key], logged_days[key], cutoff),
            news,
        )
    return found


def _outcome(name, shape, settings, news, days, logged_days, cutoff) -> Outcome:
    """The champion's evening-before predictions on the withheld days, scored."""
    truth = {d.date: d for d in days}
    rows = news["predict"].predictions
    rows = rows[rows["local_date"].dt.date > cutoff]  # the cutoff's own label was trained on
    target = [truth[d.date()] for d in rows["predicts_date"] if d.date() in truth]
    rows = rows[[d.date() in truth for d in rows["predicts_date"]]]
    y = np.array([t.sick for t in target], dtype=int)
    p_truth = np.array([t.probability for t in target])
    p_model = rows["probability"].to_numpy()
    p_prior = _prior_alone(settings, rows)
    trained_on = [d for d in logged_days if d.date <= cutoff]
    base = np.mean([d.sick for d in trained_on]) if trained_on else persona.REAL_AIR_BASE_RATE
    return Outcome(
        series=name,
        shape=shape,
        labelled_days=news["train"].labelled_days,
        champion_kind=_champion_kind(settings),
        evidence_days=int(rows["evidence_days"].iloc[0]),
        withheld_days=len(y),
        brier_model=float(brier_score_loss(y, p_model)),
        brier_base_rate=float(brier_score_loss(y, np.full(len(y), base))),
        brier_truth=float(brier_score_loss(y, p_truth)),
        auc_model=float(roc_auc_score(y, p_model)),
        auc_truth=float(roc_auc_score(y, p_truth)),
        brier_prior=float(brier_score_loss(y, p_prior)),
        auc_prior=float(roc_auc_score(y, p_prior)),
    )


def _prior_alone(settings, rows) -> np.ndarray:
    """The population prior's probabilities for the scored rows, from the same mart rows
    the champion scored."""
    from airsick_orchestration import steps
    from airsick_training.features import inputs
    from airsick_training.models import PopulationPrior

    mart = steps.stores(settings).marts.scoring_rows(settings.person)
    mart = mart.set_index(["place", "local_date"]).loc[
        list(zip(rows["place"], rows["local_date"], strict=True))
    ]
    return PopulationPrior().fit(None, None).predict_proba(inputs(mart.reset_index()))


def _champion_kind(settings) -> str:
    from airsick_stores import Registry

    return Registry(settings.tracking_uri).champion(settings.person).recipe["kind"]
