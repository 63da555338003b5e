"""`airsick up`'s pieces without starting anything: services, ports, logs, deployments."""

from __future__ import annotations

import socket
from datetime import datetime

import pytest
from airsick_core.http import PortTakenError
from airsick_core.settings import Settings
from airsick_orchestration.stack import LogPrinter, check_ports, services
from honcho.printer import Message


def test_every_service_listens_on_loopback_on_its_setting(tmp_path):
    settings = Settings(home=tmp_path, prefect_port=4300, app_port=2800, docs_port=8600)
    stack = {s.name: s for s in services(settings, standin=True)}
    assert set(stack) == {"standin", "prefect", "mlflow", "deployments", "model", "app", "docs"}
    assert stack["prefect"].port == 4300 and stack["app"].port == 2800
    assert stack["docs"].url == "http://127.0.0.1:8600"
    for service in stack.values():
        assert service.url.startswith("http://127.0.0.1:")
        assert "0.0.0.0" not in service.command
    # Everything of the stack talks to the stack's own servers, and fetches offline.
    deployments = stack["deployments"].environment
    assert deployments["AIRSICK_PREFECT_API_URL"] == "http://127.0.0.1:4300/api"
    assert deployments["AIRSICK_MLFLOW_TRACKING_URI"] == f"http://127.0.0.1:{settings.mlflow_port}"
    assert deployments["AIRSICK_OPEN_METEO_URL"] == stack["standin"].url.removesuffix(
        "/v1/air-quality"
    )
    assert "AIRSICK_OPEN_METEO_URL" not in stack["model"].environment


def test_a_remote_tracking_server_is_used_not_started(tmp_path):
    settings = Settings(home=tmp_path, mlflow_tracking_uri="http://mlflow.internal:5000")
    stack = {s.name: s for s in services(settings)}
    assert "mlflow" not in stack and "standin" not in stack
    assert stack["model"].environment["AIRSICK_MLFLOW_TRACKING_URI"] == (
        "http://mlflow.internal:5000"
    )


def test_a_taken_port_names_the_service_and_its_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = services(Settings(home=tmp_path, docs_port=port))
        with pytest.raises(PortTakenError, match=f"Port {port} \\(docs\\).*AIRSICK_DOCS_PORT"):
            check_ports(stack)


def test_each_service_logs_to_its_own_file_and_stops_are_noted(tmp_path):
    printer = LogPrinter(tmp_path)
    now = datetime(2026, 11, 29, 18, 0)
    printer.write(Message("line", b"listening\nready\n", now, "prefect", None))
    printer.write(Message("line", "model stopped (rc=1)\n", now, "system", None))
    printer.close()
    assert (tmp_path / "prefect.log").read_text().splitlines() == [
        "2026-11-29 18:00:00 listening",
        "2026-11-29 18:00:00 ready",
    ]
    assert printer.stopped == ["model"]


def test_deployments_daily_on_the_cron_in_the_persons_timezone(tmp_path):
    from airsick_orchestration.deployments import deployments

    settings = Settings(
        home=tmp_path,
        places="home=52.52,13.41,Europe/Berlin",
        daily_cron="30 17 * * *",
        remind_at="20:45",
    )
    made = {d.name: d for d in deployments(settings)}
    assert set(made) == {"daily", "reminder", "ingest", "transform", "train", "score"}
    (reminder,) = made["reminder"].schedules
    assert reminder.schedule.cron == "45 20 * * *"
    assert reminder.schedule.timezone == "Europe/Berlin"
    (schedule,) = made["daily"].schedules
    assert schedule.schedule.cron == "30 17 * * *"
    assert schedule.schedule.timezone == "Europe/Berlin"
    assert all(not made[name].schedules for name in ("ingest", "transform", "train", "score"))
    assert made["daily"].entrypoint == "airsick_orchestration.flows.daily_flow"


def test_deployments_pass_the_settings_as_the_flows_typed_parameter_without_secrets(
    tmp_path, monkeypatch
):
    """What a deployment passes is what a run gets: Prefect validates it into Settings, and
    the secrets, left out of what the server stores and shows, come from the environment
    of the process that runs the flow."""
    from airsick_orchestration import flows
    from airsick_orchestration.deployments import deployments

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3-secret")
    monkeypatch.setenv("AIRSICK_APP_PASSWORD", "app-secret")
    settings = Settings(
        home=tmp_path,
        person="ana",
        places="home=24.71,46.68,Asia/Riyadh",
        ducklake_catalog="postgres:dbname=ducklake password=db-secret",
    )
    made = {d.name: d for d in deployments(settings)}
    for deployment in made.values():
        passed = deployment.parameters["settings"]
        assert passed["person"] == "ana" and passed["home"] == str(tmp_path)
        assert "secret" not in str(passed)
        assert "settings" in deployment._parameter_openapi_schema.required

    monkeypatch.setenv("AIRSICK_DUCKLAKE_CATALOG", "postgres:dbname=ducklake password=db-secret")
    run = flows.daily_flow.validate_parameters(made["daily"].parameters)["settings"]
    assert isinstance(run, Settings)
    assert run.person == "ana" and run.home == tmp_path
    assert run.place_list[0].timezone == "Asia/Riyadh"
    assert run.s3 is None and run.app_password.get_secret_value() == "app-secret"
    assert run.lakehouse.catalog.endswith("password=db-secret")


def test_no_flow_builds_its_own_settings():
    import inspect

    from airsick_orchestration import flows

    assert "Settings()" not in inspect.getsource(flows)
    for name in ("daily", "ingest", "transform", "train", "score", "reminder"):
        parameters = inspect.signature(getattr(flows, f"{name}_flow").fn).parameters
        assert parameters["settings"].annotation in (Settings, "Settings")
