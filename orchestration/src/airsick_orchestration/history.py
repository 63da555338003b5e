"""Prefect's history of a person: the flow runs made for them (their settings are each run's
parameter), the artifacts those runs published (tomorrow's prediction, the promotion, the
data report) and their logs.

Prefect deletes a flow run's task runs with it, but keeps its artifacts and logs. Artifacts
are deleted through Prefect's API; logs have no API to delete them, so where the server's
database is the home's own SQLite file (the embedded default) they are deleted there and
the file vacuumed. A server on PostgreSQL keeps its logs until its own retention removes
them (the README says so).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from airsick_core.settings import Settings
from airsick_core.sqlite import vacuum

PAGE = 200


@dataclass(frozen=True)
class ForgottenRuns:
    flow_runs: int
    artifacts: int
    logs: int  # -1: the server keeps them (not the home's SQLite)


def person_of(parameters: dict) -> str | None:
    """Whose run a flow run was, from its ``settings`` parameter."""
    settings = parameters.get("settings")
    if not isinstance(settings, dict):
        return None
    return settings.get("person", Settings.model_fields["person"].default)


async def _forget(person: str) -> tuple[list[UUID], int]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        runs: list[UUID] = []
        offset = 0
        while page := await client.read_flow_runs(limit=PAGE, offset=offset):
            runs += [run.id for run in page if person_of(run.parameters) == person]
            offset += len(page)
        artifacts = 0
        for start in range(0, len(runs), PAGE):
            chosen = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=runs[start:][:PAGE]))
            while found := await client.read_artifacts(artifact_filter=chosen, limit=PAGE):
                for artifact in found:
                    await client.delete_artifact(artifact.id)
                artifacts += len(found)
        for run in runs:
            await client.delete_flow_run(run)
        artifacts += await _forget_mentions(client, person)
    return runs, artifacts


async def _forget_mentions(client, person: str) -> int:
    """Delete the evening summaries (the daily run's ``everyone`` artifact, which belongs to
    the default person's run) that name ``person`` among those who failed."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    chosen = ArtifactFilter(key=ArtifactFilterKey(any_=["everyone"]))
    deleted, offset = 0, 0
    while found := await client.read_artifacts(artifact_filter=chosen, limit=PAGE, offset=offset):
        named = [a for a in found if f"| {person} |" in str(a.data)]
        for artifact in named:
            await client.delete_artifact(artifact.id)
        deleted += len(named)
        offset += len(found) - len(named)
    return deleted


def _delete_logs(database: Path, runs: list[UUID], person: str) -> int:
    """Delete the logs of the person's runs, and the lines of others' runs that name them
    (the daily run says whose evening failed)."""
    con = sqlite3.connect(database, timeout=60)
    try:
        with con:
            deleted = con.execute("delete from log where instr(message, ?) > 0", [person]).rowcount
            for start in range(0, len(runs), PAGE):
                chunk = [str(run) for run in runs[start : start + PAGE]]
                marks = ",".join("?" * len(chunk))
                deleted += con.execute(
                    f"delete from log where flow_run_id in ({marks})", chunk
                ).rowcount
    finally:
        con.close()
    vacuum(database)
    return deleted


def forget_runs(settings: Settings, person: str) -> ForgottenRuns:
    """Delete ``person``'s flow runs, their artifacts and (in the home's own store) logs from
    the Prefect server this process is pointed at (the CLI points it at the home's).

    A home that never ran a flow and has no server of its own has nothing to forget here.
    """
    import asyncio
    import os

    database = settings.home / "prefect" / "prefect.db"
    if not settings.prefect_api_url and not database.is_file():
        return ForgottenRuns(0, 0, 0)
    if "PREFECT_API_URL" not in os.environ:
        raise RuntimeError("Prefect is not pointed at this home's server; use `airsick forget`.")
    runs, artifacts = asyncio.run(_forget(person))
    logs = -1
    if not settings.prefect_api_url and database.is_file():
        logs = _delete_logs(database, runs, person)
    return ForgottenRuns(len(runs), artifacts, logs)
