"""`airsick up`'s pieces without starting anything: services, ports, logs, deployments."""

from __future__ import annotations

import socket
from datetime import datetime

import pytest
from airsick_core.settings import Settings
from airsick_orchestration.stack import LogPrinter, check_ports, services
from airsick_orchestration.steps import PortTakenError
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
