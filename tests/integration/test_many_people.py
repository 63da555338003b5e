"""Many people in one home: each their own places, diary, model and evening.

A home of the demo persona (four months of diary; its air at "home") gets two more people:
bob in Riyadh, and cy, whose flat is at the demo person's home (so its air is shared) and
who logged ten days, all sick. The daily flow runs for real in Prefect's test
harness, with bob's training broken on the first evening.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import duckdb
import mlflow
import pytest
from airsick_core.names import model_name
from airsick_core.places import Place
from airsick_core.settings import Settings
from airsick_standin.persona import PersonaDay, diary_events
from airsick_standin.server import StandIn


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def home(tmp_path_factory, harness):
    from airsick_orchestration import steps

    folder = tmp_path_factory.mktemp("many") / "home"
    with StandIn() as standin:
        settings = Settings(home=folder, open_meteo_url=standin.url, open_meteo_calls_per_minute=0)
        # Four months: each person's evening is what is tested, not years of training.
        settings = settings.model_copy(
            update={"history_start": settings.today() - timedelta(days=120)}
        )
        steps.create_persona(settings)
        people = steps.stores(settings).people
        steps.everyone(settings)  # the default person, as on first use
        people.add("bob", [Place("riyadh", 24.7136, 46.6753, "Asia/Riyadh")])
        _, shared = people.add("cy", [Place("flat", 40.4168, -3.7038, "Europe/Madrid")])
        assert shared == ["flat shares home's air (the same point)"]
        today = settings.today()
        days = [PersonaDay(today - timedelta(days=d), 0.9, True) for d in range(1, 11)]
        steps.stores(settings).diary.append(diary_events("cy", days, seed=1))
        yield settings


def _rows(settings, sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql.replace("RAW", str(settings.home / "lake" / "raw"))).fetchall()


def _artifact_data(key: str) -> list[str]:
    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return [str(a.data) for a in await client.read_artifacts() if a.key == key]

    return asyncio.run(read())


def _artifact_keys() -> set[str]:
    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts()}

    return asyncio.run(read())


@pytest.fixture(scope="module")
def evening(home):
    """The first evening, bob's training broken; then the next, mended."""
    from airsick_orchestration import flows, steps

    original = steps.train

    def broken(settings, *args, **kwargs):
        if settings.person == "bob":
            raise RuntimeError("bob's training broke (injected by the test)")
        return original(settings, *args, **kwargs)

    steps.train = broken
    try:
        first = flows.daily_flow(home)
    finally:
        steps.train = original
    second = flows.daily_flow(home)
    return first, second


def test_each_place_is_fetched_once_however_many_people_share_it(home, evening):
    places = _rows(home, "select place, count(*) from 'RAW/people/*.parquet' group by 1 order by 1")
    assert places == [("home", 2), ("riyadh", 1)]
    assert evening[0]["places"] == 2
    # Hours long past are fetched once (only recent days are fetched again, as the API
    # revises them): the shared place's were not fetched once per person.
    hours = _rows(
        home,
        "select count(*) - count(distinct (place, time)) from "
        "read_parquet('RAW/air_quality/*.parquet', union_by_name => true) "
        "where time < current_date - 30",
    )
    assert hours == [(0,)], "a shared place's air was stored twice"


def test_one_persons_failure_stops_nobody_else_and_is_named(evening):
    first, second = evening
    assert first["people"] == 3
    assert list(first["failed"]) == ["bob"]
    assert "bob's training broke" in first["failed"]["bob"]
    assert first["tomorrow"], "the default person was answered"
    assert second["failed"] == {}
    assert "everyone" in _artifact_keys()
    assert first["answered"] == 2 and second["answered"] == 3
    # Tomorrow's answer is published for the home's own person (the daily run's); the
    # others' are in the lake, one predictions file for everyone each evening.
    assert len(_artifact_data("tomorrow")) == 2


def test_each_person_has_their_own_champion(home, evening):
    client = mlflow.MlflowClient(tracking_uri=home.tracking_uri, registry_uri=home.tracking_uri)
    for person in ("demo", "bob", "cy"):
        model = client.get_registered_model(model_name(person))
        assert model.tags["person"] == person
        assert "champion" in model.aliases
        champion = client.get_model_version_by_alias(model_name(person), "champion")
        assert client.get_run(champion.run_id).data.tags["person"] == person
    cy = client.get_model_version_by_alias(model_name("cy"), "champion")
    assert cy.tags["evidence_days"] in ("9", "10")  # cy's own days, not the demo's years
    bob = client.get_model_version_by_alias(model_name("bob"), "champion")
    assert bob.tags["evidence_days"] == "0"  # nothing logged: the prior, said so


def test_each_person_is_predicted_at_their_places_from_their_own_diary(home, evening):
    predicted = _rows(
        home,
        "select distinct person, place from read_parquet('RAW/predictions/*.parquet') "
        "order by 1, 2",
    )
    assert predicted == [("bob", "riyadh"), ("cy", "home"), ("demo", "home")]
    # Everyone is scored in one pass: one file per evening, each person's rows once in it.
    files = _rows(
        home,
        "select filename, count(distinct person), count(*) = count(distinct "
        "(person, place, predicts_date)) from read_parquet('RAW/predictions/*.parquet', "
        "filename => true) group by 1 order by 2",
    )
    assert [people for _, people, _ in files] == [2, 3]
    assert all(once for *_, once in files)
    # cy's days (all sick) are in cy's features alone; demo's at the same place are demo's.
    from airsick_lakehouse import connect

    with connect(home.lakehouse) as con:
        found = con.execute(
            "select person, count(*) filter (where sick_today), count(sick_today) "
            "from lake.marts.fct_daily_features where place = 'home' group by 1 order by 1"
        ).fetchall()
    assert found[0][0] == "cy" and found[0][1] == found[0][2] == 10
    assert found[1][0] == "demo" and found[1][2] > 100


def test_removing_a_person_leaves_the_others_and_the_shared_air(home, evening, monkeypatch):
    from airsick_orchestration import steps
    from prefect.settings import PREFECT_API_URL

    # The flows ran on the harness's Prefect server: the home is pointed at it, as a home
    # is at a deployed server.
    url = PREFECT_API_URL.value()
    monkeypatch.setenv("PREFECT_API_URL", url)
    pointed = home.model_copy(update={"prefect_api_url": url})
    done = steps.forget(pointed, "cy")
    assert done.prefect.flow_runs >= 1  # cy's training, the first evening
    assert done.prefect.artifacts >= 1  # its promotion decision
    assert [p.name for p in steps.stores(home).people.everyone()] == ["bob", "demo"]
    client = mlflow.MlflowClient(tracking_uri=home.tracking_uri, registry_uri=home.tracking_uri)
    assert not client.search_registered_models(f"name = '{model_name('cy')}'")
    assert client.get_model_version_by_alias(model_name("demo"), "champion")
    assert _rows(home, "select count(*) from 'RAW/diary/*.parquet' where person = 'cy'") == [(0,)]
    assert _rows(home, "select count(*) from 'RAW/air_quality/*.parquet' where place = 'home'")[0][
        0
    ]
    assert len(_artifact_data("tomorrow")) == 2  # the demo person's are kept

    # bob's failed evening is named in the first evening's summary (the default person's
    # run): forgetting bob deletes that summary too.
    assert any("| bob |" in data for data in _artifact_data("everyone"))
    steps.forget(pointed, "bob")
    assert not any("bob" in data for data in _artifact_data("everyone"))
    assert [p.name for p in steps.stores(home).people.everyone()] == ["demo"]
