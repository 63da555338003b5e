"""Prefect deployments: the daily flow on a cron and each stage on demand, served by one process.

``airsick schedule`` (and the ``deployments`` service of ``airsick up``) calls :func:`serve`:
Prefect's runner registers the deployments with the server, starts a run when the schedule
or a person in the UI asks for one, and executes it in a subprocess with this environment.
"""

from __future__ import annotations

from prefect import serve as prefect_serve
from prefect.deployments.runner import RunnerDeployment

from airsick_orchestration import flows
from airsick_orchestration.settings import Settings

TAGS = ["airsick"]


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The daily flow on its schedule, and one unscheduled deployment per stage."""
    timezone = settings.place_list[0].timezone
    daily = flows.daily_flow.to_deployment(
        name="daily",
        cron=settings.daily_cron,
        timezone=timezone,
        tags=TAGS,
        description=f"Ingest, transform, train when warranted, score tomorrow; "
        f"runs at '{settings.daily_cron}' ({timezone}).",
    )
    stages = [
        flows.ingest_flow.to_deployment(name="ingest", tags=TAGS),
        flows.transform_flow.to_deployment(name="transform", tags=TAGS),
        flows.train_flow.to_deployment(name="train", tags=TAGS),
        flows.score_flow.to_deployment(name="score", tags=TAGS),
    ]
    return [daily, *stages]


def serve(settings: Settings) -> None:
    """Register the deployments and run them when scheduled or asked, until interrupted."""
    prefect_serve(*deployments(settings), print_starting_message=False)
