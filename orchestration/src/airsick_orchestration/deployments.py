"""Prefect deployments: the daily flow and the diary reminder on a cron, each stage on demand.

``airsick schedule`` (and the ``deployments`` service of ``airsick up``) calls :func:`serve`:
Prefect's runner registers the deployments with the server, starts a run when the schedule
or a person in the UI asks for one, and executes it in a subprocess with this environment.
Each deployment passes the settings it was served with as the flow's ``settings``
parameter (secrets left out: the subprocess reads them from this environment); a custom run
in the UI may change any of them.
"""

from __future__ import annotations

from airsick_core.settings import Settings
from prefect import serve as prefect_serve
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron

from airsick_orchestration import flows

TAGS = ["airsick"]


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The daily flow and the diary reminder on their schedules, one deployment per stage."""
    timezone = settings.place_list[0].timezone
    # Runs import the flows by module, wherever the package is installed (also in images).
    common = {
        "tags": TAGS,
        "entrypoint_type": EntrypointType.MODULE_PATH,
        "concurrency_limit": 1,
        "parameters": {"settings": settings.as_parameters()},
    }
    daily = flows.daily_flow.to_deployment(
        name="daily",
        schedule=Cron(settings.daily_cron, timezone=timezone),
        description=f"Ingest, transform, train when warranted, score tomorrow; "
        f"runs at '{settings.daily_cron}' ({timezone}).",
        **common,
    )
    hour, minute = settings.remind_at.split(":")
    reminder = flows.reminder_flow.to_deployment(
        name="reminder",
        schedule=Cron(f"{int(minute)} {int(hour)} * * *", timezone=timezone),
        description=f"Reminds the person to log today at {settings.remind_at} ({timezone}) "
        "when it is not in the diary yet.",
        **common,
    )
    stages = [
        flows.ingest_flow.to_deployment(name="ingest", **common),
        flows.transform_flow.to_deployment(name="transform", **common),
        flows.train_flow.to_deployment(name="train", **common),
        flows.score_flow.to_deployment(name="score", **common),
    ]
    return [daily, reminder, *stages]


def serve(settings: Settings) -> None:
    """Register the deployments and run them when scheduled or asked, until interrupted."""
    prefect_serve(*deployments(settings), print_starting_message=False)
