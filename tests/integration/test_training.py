"""Training against the demo lakehouse: MLflow tracking, the registry and the gate."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from airsick_core.names import model_name
from airsick_lakehouse import connect
from airsick_orchestration import steps
from airsick_training.data import load_dataset
from airsick_training.evaluate import backtest, walk_forward_folds
from airsick_training.models import LogisticGLM
from airsick_training.pyfunc import model_input

from tests.conftest import registry_copy


@pytest.fixture(scope="module")
def trained(first_training, built_demo, tmp_path_factory):
    """The first training, in a registry this module may add to."""
    settings = registry_copy(first_training, built_demo, tmp_path_factory.mktemp("mlflow"))
    return settings, first_training[1]


def champion_version(settings):
    """The champion in this module's registry, which MLflow's calls here then use."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return mlflow.MlflowClient().get_model_version_by_alias(model_name(settings.person), "champion")


def test_first_training_registers_a_champion_with_its_lineage(trained):
    settings, report = trained
    assert report.promoted and report.version == "1"
    version = champion_version(settings)
    assert (
        str(version.version) == "1"
        and json.loads(version.tags["recipe"])["kind"] == report.challenger
    )
    run = mlflow.get_run(report.run_id)
    assert run.data.tags["git_commit"]
    assert run.data.params["challenger"] == report.challenger
    assert run.data.params["labelled_days"] == str(report.labelled_days)
    assert run.data.params["fold_kind"] == "monthly"
    assert "champion.window.brier" in run.data.metrics  # the prior, on the gate's window
    for model in ("base_rate", "persistence", "personal", "personal_air", "glm", "gbm", "oracle"):
        assert f"{model}.brier" in run.data.metrics
    # Each fold's score is a step of its metric, as the MLflow UI charts it.
    steps = [
        m.step for m in mlflow.MlflowClient().get_metric_history(report.run_id, "glm.fold.brier")
    ]
    assert len(steps) == len(set(steps)) >= 3, steps
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "marts.fct_daily_features"
    assert "fct_daily_features" in dataset_input.dataset.source
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(report.run_id, "plots")}
    assert artifacts == {"plots/roc.png", "plots/reliability.png", "plots/feature_effects.png"}


def test_each_run_keeps_the_persons_triggers_and_its_backtest_for_the_app(trained):
    from airsick_stores import Registry

    settings, report = trained
    registry = Registry(settings.tracking_uri)
    latest, history = registry.triggers(settings.person)
    assert latest["run_id"] == report.run_id
    assert latest["labelled_days"] == report.labelled_days
    terms = {t["term"]: t for t in latest["triggers"]}
    assert {"pm2_5", "pollen", "temperature_max", "humidity", "rain"} <= set(terms)
    # The demo persona's law raises the risk with PM2.5 and pollen (persona.py).
    assert terms["pollen"]["verdict"] == "raises your risk"
    run = mlflow.get_run(report.run_id)
    assert run.data.metrics["trigger.pollen.odds_ratio"] == terms["pollen"]["odds_ratio"]
    assert set(history["term"]) == set(terms) and (history["run_id"] == report.run_id).all()

    frame, about = registry.backtest(settings.person)
    assert about["run_id"] == report.run_id and about["challenger"] == report.challenger
    assert set(frame["model"]) == {report.challenger, "base_rate"}
    ours = frame[frame["model"] == report.challenger]
    assert ours["local_date"].is_monotonic_increasing and ours["local_date"].is_unique
    assert ((ours["p"] > 0) & (ours["p"] < 1)).all() and set(ours["y"]) == {0, 1}


def test_the_champion_loads_and_answers_with_probability_and_reasons(trained, built_demo):
    settings, _ = trained
    mlflow.set_tracking_uri(settings.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{model_name(settings.person)}@champion")
    with connect(built_demo.lakehouse) as con:
        rows = con.execute("select * from lake.marts.fct_scoring_features").df()
    answer = model.predict(model_input(rows))
    assert list(answer.columns) == ["probability", "reasons", "evidence_days", "prior_people"]
    assert (answer["prior_people"] == 0).all()  # one person: the literature's prior
    assert answer["probability"].between(0, 1).all()
    assert (answer["evidence_days"] > 1000).all()  # personal: from three years of diary
    reasons = json.loads(answer["reasons"].iloc[0])
    assert 1 <= len(reasons) <= 3 and {"factor", "effect"} <= set(reasons[0])


def test_more_of_the_pollutant_the_persona_reacts_to_raises_the_risk(trained, built_demo):
    settings, _ = trained
    mlflow.set_tracking_uri(settings.tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{model_name(settings.person)}@champion")
    with connect(built_demo.lakehouse) as con:
        rows = con.execute("select * from lake.marts.fct_daily_features limit 200").df()
    dirtier = rows.copy()
    for column in [c for c in rows if c.startswith("pm2_5_mean") and "change" not in c]:
        dirtier[column] = rows[column] * 2
    before = model.predict(model_input(rows))["probability"].to_numpy()
    after = model.predict(model_input(dirtier))["probability"].to_numpy()
    assert (after >= before - 1e-9).all()
    assert (after > before).mean() > 0.9


def test_a_worse_challenger_is_refused_and_the_champion_stays(trained):
    settings, first = trained
    worse = {"calendar_glm": LogisticGLM(("weekday", "season_sin", "season_cos")).spec()}
    from airsick_stores import Registry
    from airsick_training.train import train

    report = train(
        settings.lakehouse,
        Registry(settings.tracking_uri),
        person=settings.person,
        ui_url="http://127.0.0.1:5000",
        candidates=worse,
    )
    assert not report.promoted
    assert str(champion_version(settings).version) == first.version
    client = mlflow.MlflowClient()
    refused = client.get_model_version(model_name(settings.person), report.version)
    assert refused.tags["decision"] == "refused"
    assert "does not beat" in refused.tags["decision_reason"]
    assert (
        str(client.get_model_version_by_alias(model_name(settings.person), "challenger").version)
        == report.version
    )


def test_same_seed_same_model_and_scores(trained, built_demo, tmp_path):
    """The module's first training again, in a registry of its own: the same scores and
    the same model."""
    first_settings, first = trained
    settings = built_demo.model_copy(
        update={"mlflow_tracking_uri": f"sqlite:///{tmp_path / 'again'}.sqlite"}
    )
    again = steps.train(settings)
    pd.testing.assert_frame_equal(first.table, again.table)
    mlflow.set_tracking_uri(first_settings.tracking_uri)
    a = mlflow.pyfunc.load_model(f"runs:/{first.run_id}/model")
    mlflow.set_tracking_uri(settings.tracking_uri)
    b = mlflow.pyfunc.load_model(f"runs:/{again.run_id}/model")
    with connect(built_demo.lakehouse) as con:
        rows = con.execute("select * from lake.marts.fct_daily_features").df()
    np.testing.assert_array_equal(
        a.predict(model_input(rows))["probability"], b.predict(model_input(rows))["probability"]
    )


def test_backtest_predictions_never_see_their_own_or_later_labels(built_demo):
    dataset = load_dataset(built_demo.lakehouse, built_demo.person)
    folds = walk_forward_folds(dataset.frame["local_date"], months=4)
    spec = LogisticGLM().spec()
    honest = backtest(spec, dataset.frame, folds)
    scrambled = dataset.frame.copy()
    later = scrambled["local_date"] >= folds[0].test_start - pd.Timedelta(days=1)
    scrambled.loc[later, "sick_next_day"] = ~scrambled.loc[later, "sick_next_day"].astype(bool)
    first_fold = honest["fold"] == folds[0].index
    again = backtest(spec, scrambled, folds)
    np.testing.assert_array_equal(honest.loc[first_fold, "p"], again.loc[first_fold, "p"])
