"""The whole pipeline on real recorded air, for ordinary diaries, against the persona's truth.

For every real series in ../shared/data/open-meteo (Riyadh's dust, Chennai's half-hour
offset and monsoon, Berlin, Vigo without PM, Singapore's narrow heat with simulated air):
replay it as the API would answer, simulate the documented real-air persona on it, and run
ingest -> dbt build -> train and gate -> predict with a full diary, every other day logged,
only the last 60 days, and none at all; then the first fortnight, and the persona set of
tests/data/personas.py (heat, nothing, often sick). Everyone on one series lives in one
home: one ingest and one build for them all, then each person's training and gate. The
champion's evening-before predictions on the withheld days are scored against the persona's
outcomes. Skips cleanly when ../shared is absent. The figures land in
test-artifacts/real_people.json.
"""

from __future__ import annotations

import fcntl
import json

import pytest

from tests.conftest import ARTIFACTS
from tests.data.personas import simulate
from tests.real_people import SERIES, SHAPES, Diary, run_people

# The skill captured on withheld days, (Brier of the base rate - the model's) / (the base
# rate's - the truth's): the goals. "full" means two to three years of diary; the
# Berlin and Vigo recordings hold under a year, so their full diaries are held to the
# every-other-day goal.
GOALS = {"full": 0.70, "every_other_day": 0.60, "last_60_days": 0.10}
LONG_SERIES = ("riyadh", "chennai")
WITH_WEATHER = ("riyadh", "singapore")  # the series with recorded weather
# The ratio is only a measurement where the truth itself beats the base rate clearly on the
# withheld days (Outcome.measurable): with a gap of 0.003 in Brier (Berlin's and Vigo's
# summer windows) it is noise, and any number from -10 to +10 comes out. Below this gap the
# test holds the model to "not worse than the base rate" instead (and test-artifacts keeps
# every figure).
NOT_WORSE_BY = 0.01
# Never worse for having learnt: on the same withheld days, the answer is never below the
# population prior alone by more than this much of the truth's skill.
BELOW_PRIOR_BY = 0.05
RESULTS = ARTIFACTS / "real_people.json"


def people_of(series: str) -> dict[str, Diary]:
    """Everyone the tests below follow on ``series``, by key: one home per series holds
    them all (one ingest and one build, as a household there would have)."""
    people = {shape: Diary(shape) for shape in SHAPES}
    if series in LONG_SERIES:
        people |= {f"last_{n}_days": Diary("last_days", logged=n) for n in (7, 14)}
    if series in WITH_WEATHER:
        people["heat/last_180_days"] = Diary("last_days", logged=180, simulate=simulate("heat"))
    if series == "riyadh":
        people["nothing/full"] = Diary("full", simulate=simulate("nothing"))
    if series == "chennai":
        people |= {
            f"high_base/last_{n}_days": Diary("last_days", logged=n, simulate=simulate("high_base"))
            for n in (7, 14)
        }
    return people


@pytest.fixture(scope="module")
def person(shared_data, tmp_path_factory):
    """``person(series, key)``: that person's outcome and news, their series' home run once."""
    homes: dict[str, dict] = {}

    def outcome_of(series: str, key: str):
        if series not in homes:
            home = tmp_path_factory.mktemp(series) / "home"
            homes[series] = run_people(shared_data, series, people_of(series), home)
        return homes[series][key]

    return outcome_of


@pytest.fixture(scope="module")
def results():
    found: dict[str, dict] = {}
    yield found
    if found:  # under a lock: `make test` runs the series on both workers
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.with_suffix(".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            old = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
            RESULTS.write_text(json.dumps(old | found, indent=2, sort_keys=True))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("series", list(SERIES))
def test_a_real_person_gets_a_useful_prediction(person, series, shape, results):
    outcome, news = person(series, shape)
    results[f"{series}/{shape}"] = outcome.as_dict()

    # Every shape, even no diary at all, gets a probability for every withheld day.
    assert outcome.withheld_days >= 50
    assert news["predict"].predictions["probability"].between(0, 1).all()
    # The build never fails on the data as the API sent it; what it set aside is reported.
    assert news["transform"].feature_rows > 0

    if shape == "day_zero":
        assert outcome.champion_kind == "prior"
        assert outcome.evidence_days == 0  # stated as not personal yet
        return
    assert outcome.evidence_days in (0, outcome.labelled_days)
    assert outcome.brier_model <= outcome.brier_base_rate + NOT_WORSE_BY, outcome.as_dict()
    assert_not_worse_than_the_prior_alone(outcome)
    if not outcome.measurable:
        return
    assert outcome.champion_kind != "prior"
    goal = GOALS[shape] if (shape != "full" or series in LONG_SERIES) else GOALS["every_other_day"]
    assert outcome.skill_captured >= goal, outcome.as_dict()
    if shape == "full" and series in LONG_SERIES:
        assert abs(outcome.auc_model - outcome.auc_truth) <= 0.05, outcome.as_dict()


@pytest.mark.parametrize("logged", [7, 14])
@pytest.mark.parametrize("series", LONG_SERIES)
def test_the_first_fortnight_is_never_worse_than_the_persons_own_base_rate(
    person, series, logged, results
):
    """A newcomer who logged only the last week or two: the answer is the prior updated by
    those days (no backtest is needed to accept it), and on the withheld days it does no
    worse than always saying the person's own rate over the days they logged."""
    outcome, news = person(series, f"last_{logged}_days")
    results[f"{series}/last_{logged}_days"] = outcome.as_dict()
    # The diary of the withheld days is written too (to score them): the cutoff day's own
    # label, tomorrow's entry, is one more than the days logged up to the cutoff.
    assert outcome.labelled_days <= logged + 1
    assert news["train"].fold_kind == "none"  # too few days to backtest: rule 0 answers
    assert outcome.champion_kind == "personal", outcome.as_dict()
    assert outcome.evidence_days == outcome.labelled_days > 0  # the answer says its days
    assert outcome.brier_model <= outcome.brier_base_rate + NOT_WORSE_BY, outcome.as_dict()
    assert_not_worse_than_the_prior_alone(outcome)


def assert_not_worse_than_the_prior_alone(outcome) -> None:
    if outcome.measurable:
        assert outcome.skill_captured >= outcome.prior_skill_captured - BELOW_PRIOR_BY, (
            outcome.as_dict()
        )
    else:
        assert outcome.brier_model <= outcome.brier_prior + NOT_WORSE_BY, outcome.as_dict()


def _verdicts(settings) -> dict[str, str]:
    from airsick_stores import Registry

    latest, _ = Registry(settings.tracking_uri).triggers(settings.person)
    return {t["term"]: t["verdict"] for t in latest["triggers"]}


@pytest.mark.parametrize("series", WITH_WEATHER)
def test_a_heat_sensitive_person_is_found_within_half_a_year(person, series, results):
    """Recorded weather (Riyadh's wide swings, Singapore's narrow heat), a person whose odds
    double per standard deviation of the place's own daily maxima (tests/data/personas.py),
    180 days logged."""
    outcome, news = person(series, "heat/last_180_days")
    results[f"{series}/heat/last_180_days"] = outcome.as_dict()
    assert _verdicts(news["settings"])["temperature_max"] == "raises your risk"
    assert outcome.brier_model <= outcome.brier_base_rate + NOT_WORSE_BY, outcome.as_dict()
    assert_not_worse_than_the_prior_alone(outcome)


@pytest.mark.parametrize("series", ["riyadh"])
def test_a_person_who_reacts_to_nothing_is_told_nothing_raises_their_risk(person, series, results):
    outcome, news = person(series, "nothing/full")
    results[f"{series}/nothing/full"] = outcome.as_dict()
    raised = {
        term
        for term, verdict in _verdicts(news["settings"]).items()
        if verdict == "raises your risk" and term not in ("sick_today", "sick_share_last_7")
    }
    assert not raised, raised
    assert outcome.brier_model <= outcome.brier_base_rate + NOT_WORSE_BY, outcome.as_dict()
    assert_not_worse_than_the_prior_alone(outcome)


@pytest.mark.parametrize("logged", [7, 14])
@pytest.mark.parametrize("series", ["chennai"])
def test_an_often_sick_newcomer_is_never_worse_than_their_own_rate(person, series, logged, results):
    outcome, _ = person(series, f"high_base/last_{logged}_days")
    results[f"{series}/high_base/last_{logged}_days"] = outcome.as_dict()
    assert outcome.champion_kind == "personal"
    assert outcome.brier_model <= outcome.brier_base_rate + NOT_WORSE_BY, outcome.as_dict()
    assert_not_worse_than_the_prior_alone(outcome)
