"""A new person anywhere, from day zero: the issue's first scenario, as a user runs it.

Places in Riyadh (dust, no pollen) and Sydney (southern seasons, no pollen), an empty diary,
the offline stand-in: `airsick run daily` in its own process ends with tomorrow's
probability, stated as not personal yet, and says what it skipped. Then a few logged days
and a short diary: still an answer, and how personal it is.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from airsick_standin.server import StandIn

from tests.conftest import airsick_command, process_environment

PLACES = "riyadh=24.7136,46.6753,Asia/Riyadh;sydney=-33.8688,151.2093,Australia/Sydney"


@pytest.fixture(scope="module")
def new_person(tmp_path_factory, prefect_api):
    home = tmp_path_factory.mktemp("new-person") / "home"
    with StandIn() as server:
        env = process_environment(
            home,
            prefect_api,
            AIRSICK_PERSON="noor",
            AIRSICK_PLACES=PLACES,
            AIRSICK_OPEN_METEO_URL=server.url,
            AIRSICK_OPEN_METEO_CALLS_PER_MINUTE="0",
            # Four months of air: every diary below fits in them; three years (the default,
            # the demo's) would only make each build slower.
            AIRSICK_HISTORY_START=(date.today() - timedelta(days=120)).isoformat(),
        )
        yield env


def run(env, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        airsick_command(*args), env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done


def test_day_zero_by_hand_has_no_dead_end(new_person):
    run(new_person, "ingest")
    built = run(new_person, "transform")
    assert "no pollen data" in built.stderr  # reported, not failed
    predicted = run(new_person, "predict")  # no `airsick train` first: the prior answers
    assert predicted.stdout.count("not personal yet") == 2


def test_day_zero_gets_a_prior_answer_and_a_report_of_what_was_skipped(new_person):
    done = run(new_person, "run", "daily")
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert {row["place"] for row in summary["tomorrow"]} == {"riyadh", "sydney"}
    for row in summary["tomorrow"]:
        assert 0 < row["probability"] < 1
        assert row["evidence_days"] == 0  # the population prior: not personal yet
    assert not summary["trained"]  # the prior is champion already; no diary to learn from
    skipped = " ".join(summary["skipped"])
    assert "no pollen data" in skipped  # Europe-only variables are absent, not an error
    assert any("diary is empty" in s for s in summary["stale"])

    predicted = run(new_person, "predict")
    assert "not personal yet" in predicted.stdout
    assert predicted.stdout.count("chance of being sick") == 2


def test_day_zero_through_the_model_server(new_person):
    from airsick_core.settings import Settings
    from airsick_lakehouse import connect
    from airsick_serving.client import AirsickClient

    from tests.integration.test_serving import start_server, stop, wait_for

    settings = Settings(
        home=new_person["AIRSICK_HOME"], person="noor", places=PLACES, standin_port=0
    )
    with connect(settings.lakehouse) as con:
        rows = con.execute("select * from lake.marts.fct_scoring_features").df()
    process, url = start_server(settings)
    try:
        wait_for(url)
        answers = AirsickClient(url).predict(rows)
    finally:
        stop(process)
    assert len(answers) == len(rows) > 0
    assert all(0 < a.probability < 1 and a.evidence_days == 0 for a in answers)


def test_a_few_logged_days_and_then_a_short_diary_still_answer(new_person):
    today = date.today()
    for back in range(5, 0, -1):
        sick = "--sick" if back % 4 == 0 else "--well"
        run(new_person, "diary", "log", sick, "--date", str(today - timedelta(days=back)))
    untrained = run(new_person, "train")  # the build has not seen the diary yet
    assert "no labelled day yet; the champion stays" in untrained.stdout
    built = run(new_person, "transform")
    assert "note:" in built.stderr  # what the build set aside, not a failure
    # Five days are too few to backtest, and need no backtest: the prior updated by them
    # answers (rule 0), and says how many days it rests on.
    trained = run(new_person, "train")
    assert "updated by" in trained.stdout and "promoted to @champion" in trained.stdout
    first = run(new_person, "predict")
    assert "personal, from your" in first.stdout and "not personal yet" not in first.stdout

    lines = [
        f"{today - timedelta(days=back)},{'true' if back % 3 == 0 else 'false'}"
        for back in range(60, 5, -1)
    ]
    diary = Path(new_person["AIRSICK_HOME"]) / "older.csv"
    diary.write_text("date,sick\n" + "\n".join(lines) + "\n")
    run(new_person, "diary", "import", str(diary))
    run(new_person, "transform")
    trained = run(new_person, "train")
    assert "weekly folds" in trained.stdout
    predicted = run(new_person, "predict")
    assert predicted.stdout.count("chance of being sick") == 2
    assert "personal, from your" in predicted.stdout or "not personal yet" in predicted.stdout
