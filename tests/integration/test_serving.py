"""The model server for real: `airsick serve` in front of `mlflow models serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
import requests
from airsick_core.http import free_port
from airsick_lakehouse import connect
from airsick_serving.batch import score
from airsick_serving.client import AirsickClient, ServingError
from airsick_stores import Stores

from tests.conftest import registry_copy
from tests.helpers import read_raw


def start_server(settings, poll: float = 1.0):
    port = free_port()
    env = {
        **os.environ,
        "AIRSICK_HOME": str(settings.home),
        "AIRSICK_PERSON": settings.person,
        "AIRSICK_MLFLOW_TRACKING_URI": settings.tracking_uri,
        "AIRSICK_SERVE_POLL_SECONDS": str(poll),
        "AIRSICK_SERVE_WORKERS": "1",  # as process_environment: several servers, two cores
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "airsick_orchestration", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_for(url: str, status: int = 200, timeout: float = 120) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{url}/ping", timeout=2)
            if answer.status_code == status:
                return answer
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer {status} in {timeout} s")


def stop(process) -> None:
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def served(first_training, built_demo, tmp_path_factory):
    """The model server on the first training's registry (its own copy)."""
    settings = registry_copy(first_training, built_demo, tmp_path_factory.mktemp("serving"))
    process, url = start_server(settings)
    wait_for(url)
    yield settings, url
    stop(process)


@pytest.fixture(scope="module")
def scoring_rows(built_demo):
    with connect(built_demo.lakehouse) as con:
        return con.execute("select * from lake.marts.fct_scoring_features").df()


def test_scores_through_the_typed_client(served, scoring_rows):
    _, url = served
    client = AirsickClient(url)
    predictions = client.predict(scoring_rows)
    assert len(predictions) == len(scoring_rows)
    assert all(0 < p.probability < 1 for p in predictions)
    assert {p.model_version for p in predictions} == {"1"}
    assert predictions[0].reasons and "factor" in predictions[0].reasons[0]
    # Each answer says how personal it is: the demo persona's years of diary.
    assert all(p.evidence_days > 1000 for p in predictions)
    served_model = requests.get(f"{url}/airsick/model", timeout=5).json()
    assert served_model["name"] == "airsick.everyone"  # one model server for everyone


def _a_second_person(settings, name: str = "bob") -> str:
    """Register ``name``'s champion (a version with the demo champion's files); return
    its version."""
    import mlflow
    from airsick_core.names import CHAMPION, model_name

    client = mlflow.MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    own = client.get_model_version_by_alias(model_name(settings.person), CHAMPION)
    if not client.search_registered_models(f"name = '{model_name(name)}'"):
        client.create_registered_model(model_name(name), tags={"person": name})
    version = client.create_model_version(model_name(name), own.source, run_id=own.run_id).version
    client.set_registered_model_alias(model_name(name), CHAMPION, version)
    return str(version)


def test_one_server_answers_each_person_with_their_own_champion(served, scoring_rows):
    settings, url = served
    client = AirsickClient(url, attempts=1)
    _a_second_person(settings)
    assert _a_second_person(settings) == "2"  # bob's champion is his version 2; demo's, 1
    rows = scoring_rows.head(3)
    assert {p.model_version for p in client.predict(rows, person="bob")} == {"2"}
    assert {p.model_version for p in client.predict(rows, person="demo")} == {"1"}
    with pytest.raises(ServingError, match="404: carol has no champion yet"):
        client.predict(rows, person="carol")
    with pytest.raises(ServingError, match=r"400: params\.person must name a person"):
        client.predict(rows, person="Not A Name")

    # bob's promotion while demo is being answered: demo's answers never fail nor change.
    demo_seen, failures, stop_flag = [], [], threading.Event()

    def keep_scoring_demo():
        while not stop_flag.is_set():
            try:
                demo_seen.append(client.predict(rows.head(1), person="demo")[0].model_version)
            except Exception as error:  # any failure at all is what this test counts
                failures.append(repr(error))

    def answered(count: int) -> None:  # demo is answered this often in all, or 60 s pass
        deadline = time.monotonic() + 60
        while len(demo_seen) + len(failures) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    worker = threading.Thread(target=keep_scoring_demo)
    worker.start()
    try:
        before = {p.model_version for p in client.predict(rows, person="demo")}
        answered(5)  # demo's answers run before bob's promotion ...
        promoted = _a_second_person(settings)
        deadline, bob = time.monotonic() + 60, ""
        while bob != promoted and time.monotonic() < deadline:
            bob = client.predict(rows.head(1), person="bob")[0].model_version
            time.sleep(0.2)
        answered(len(demo_seen) + 5)  # ... and go on after the server took it up
    finally:
        stop_flag.set()
        worker.join()
    assert bob == promoted == "3"
    assert not failures, failures[:3]
    assert set(demo_seen) == before and len(demo_seen) >= 10


def test_the_router_keeps_at_most_its_cache_of_champions(served, scoring_rows, monkeypatch):
    """Memory follows the cache, not the number of people: with room for one champion,
    answering two people in turn keeps one loaded, and each is still answered."""
    import mlflow
    from airsick_training.features import INPUT_COLUMNS
    from airsick_training.router import Everyone

    settings, _ = served
    _a_second_person(settings, "dee")
    # The server's registry, also for this process's MLflow (a training here pointed it at
    # the registry this one was copied from).
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", settings.tracking_uri)
    monkeypatch.setenv("AIRSICK_SERVE_MODELS", "1")
    router = Everyone()
    router.load_context(None)
    x = scoring_rows.head(2)[list(INPUT_COLUMNS)].to_numpy(dtype="float64", na_value=float("nan"))
    answers = {}
    for person in ("demo", "dee", "demo", "dee"):
        answers.setdefault(person, []).append(
            router.predict(None, x, {"person": person})["evidence_days"].tolist()
        )
        assert len(router.loaded) == 1
    assert answers["dee"] == answers["demo"] and answers["demo"][0][0] > 1000
    with pytest.raises(mlflow.exceptions.MlflowException, match="Name the person"):
        router.predict(None, x, {})


MALFORMED = [
    b"",
    b"{nope",
    b"[]",
    b'{"instances": [[1]]}',
    b'{"dataframe_split": {"columns": ["pm2_5_mean"], "data": [[1]]}}',
    b'{"dataframe_records": [{"mood": "grumpy"}]}',
    b'{"dataframe_split": {"columns": [], "data": []}}',
    b'{"dataframe_records": [{"pm2_5_mean": NaN}]}',
    b" " * 1_100_000,
    b"[" * 100_000 + b"]" * 100_000,  # nested too deeply for any JSON parser's stack
    b'{"dataframe_records": ' * 20_000 + b"[]" + b"}" * 20_000,
]


def test_malformed_requests_get_4xx_and_the_server_stays_healthy(served, scoring_rows):
    _, url = served
    for body in MALFORMED:
        answer = requests.post(
            f"{url}/invocations",
            data=body,
            timeout=10,
            headers={"Content-Type": "application/json"},
        )
        assert 400 <= answer.status_code < 500, (body[:60], answer.status_code, answer.text)
        assert answer.json()["message"]
    columns = AirsickClient(url).inputs()
    row = {c: 1.0 for c in columns}
    for bad in ("high", [1], {"a": 1}, True):
        answer = requests.post(
            f"{url}/invocations",
            timeout=10,
            json={"dataframe_records": [{**row, "ozone_max": bad}]},
        )
        assert answer.status_code == 422 and "ozone_max" in answer.json()["message"]
    with pytest.raises(ServingError, match="must hold numbers"):
        AirsickClient(url).predict(scoring_rows.assign(pm2_5_mean="x"))
    assert requests.get(f"{url}/ping", timeout=5).ok
    assert len(AirsickClient(url).predict(scoring_rows)) == len(scoring_rows)


def test_a_batch_of_ten_thousand_rows_is_scored_and_only_beyond_the_limit_refused(
    served, scoring_rows
):
    """Batch callers send thousands of rows: 10,000 (about 5 MB) pass; past the limit
    (AIRSICK_SERVE_MAX_ROWS, 20,000 by default) the answer is 413 with what to do."""
    _, url = served
    many = pd.concat([scoring_rows] * (10_000 // len(scoring_rows) + 1)).head(10_000)
    answers = AirsickClient(url, timeout=(5.0, 120.0)).predict(many)
    assert len(answers) == 10_000 and all(0 < a.probability < 1 for a in answers)
    columns = AirsickClient(url).inputs()
    too_many = {"dataframe_split": {"columns": columns, "data": [[0.0] * len(columns)] * 20_001}}
    answer = requests.post(f"{url}/invocations", json=too_many, timeout=120)
    assert answer.status_code == 413
    assert "AIRSICK_SERVE_MAX_ROWS" in answer.json()["message"]


def test_a_promotion_while_clients_score_fails_no_request(served, scoring_rows, first_training):
    import json

    import mlflow
    from airsick_core.names import CHAMPION, model_name
    from airsick_stores import Registry
    from airsick_training.train import train

    settings, url = served
    # The champion's own recipe, fitted again: the gate promotes it as version 2 (rule 2).
    # Only that recipe is backtested, so the promotion comes while the clients score.
    registry = mlflow.MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    champion = registry.get_model_version_by_alias(model_name(settings.person), CHAMPION)
    recipe = {first_training[1].challenger: json.loads(champion.tags["recipe"])}
    client = AirsickClient(url, attempts=1)
    seen, failures, stop_flag = [], [], threading.Event()

    def keep_scoring():
        while not stop_flag.is_set():
            try:
                seen.append(client.predict(scoring_rows.head(1))[0].model_version)
            except Exception as error:  # any failure at all is what this test counts
                failures.append(repr(error))

    workers = [threading.Thread(target=keep_scoring) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        report = train(
            settings.lakehouse,
            Registry(settings.tracking_uri),
            person=settings.person,
            ui_url="http://127.0.0.1:5000",
            candidates=recipe,
        )
        assert report.promoted and report.version == "2", report.reason
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not seen or seen[-1] != "2"):
            time.sleep(0.2)
        time.sleep(1)
    finally:
        stop_flag.set()
        for worker in workers:
            worker.join()
    assert not failures, failures[:3]
    assert seen[0] == "1" and seen[-1] == "2"
    assert len(seen) > 50


def test_batch_scoring_through_the_server_and_in_process(served, built_demo):
    settings, url = served
    stores = Stores.from_settings(settings)
    via_server = score(stores, person="demo", server_url=url)
    assert via_server.via == "server"
    in_process = score(stores, person="demo", server_url=None)
    assert in_process.via == "in-process"
    assert via_server.model_version == in_process.model_version
    assert (
        via_server.predictions["probability"].round(6)
        == in_process.predictions["probability"].round(6)
    ).all()
    again = score(stores, person="demo")
    assert again.path == in_process.path  # the same model and features: the same file
    landed = read_raw(built_demo.lake, "predictions")
    assert {
        "model_version",
        "run_id",
        "features",
        "scored_at",
        "probability",
        "reasons",
        "predicts_date",
    } <= set(landed.column_names)


def test_with_no_champion_it_says_so_and_keeps_serving(tmp_path, built_demo, scoring_rows):
    settings = built_demo.model_copy(
        update={"home": tmp_path, "mlflow_tracking_uri": f"sqlite:///{tmp_path}/empty.sqlite"}
    )
    process, url = start_server(settings)
    try:
        wait_for(url, timeout=120)  # the model for everyone is up before anyone has trained
        with pytest.raises(ServingError, match="404: demo has no champion yet; run `airsick"):
            AirsickClient(url, attempts=1).predict(scoring_rows.head(1))
        assert process.poll() is None
    finally:
        stop(process)
