"""The dlt source for the sickness diary and the function that appends events to the lake.

Raw diary events are append-only. Re-recording what the diary already says for a date
(the same import twice, the persona regenerated) appends nothing: the resource keeps the
content hash of the latest event per date in its dlt state, which commits with the load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import dlt
from airsick_core import names
from airsick_core.lake import S3Access

from airsick_ingestion.diary.events import DiaryEvent, make_event
from airsick_ingestion.pipelines import finish_interrupted, locked_pipeline, make_pipeline

PIPELINE_NAME = "airsick_diary"
TABLE_NAME = names.DIARY

COLUMNS = {
    "event_id": {"data_type": "text", "nullable": False},
    "person": {"data_type": "text", "nullable": False},
    "date": {"data_type": "date", "nullable": False},
    "sick": {"data_type": "bool", "nullable": False},
    "symptoms": {"data_type": "text"},
    "severity": {"data_type": "bigint"},
    "note": {"data_type": "text"},
    "recorded_at": {"data_type": "timestamp", "nullable": False},
    "source": {"data_type": "text", "nullable": False},
}


@dlt.source(name="diary", max_table_nesting=0)
def diary_source(events: Sequence[DiaryEvent]):
    """Return the diary resource for ``events``."""
    return diary(events)


@dlt.resource(name=TABLE_NAME, write_disposition="append", columns=COLUMNS, file_format="parquet")
def diary(events: Sequence[DiaryEvent]):
    """Yield the events that change what the diary says, in the order they were recorded."""
    latest = dlt.current.resource_state().setdefault("latest", {})
    for event in sorted(events, key=lambda e: e.recorded_at):
        key = f"{event.person}/{event.date.isoformat()}"
        if latest.get(key) == event.content_hash:
            continue
        latest[key] = event.content_hash
        yield event.as_row()


@dataclass(frozen=True)
class DiaryResult:
    """What one diary write did."""

    given: int
    written: int


def append_events(
    events: Sequence[DiaryEvent],
    *,
    lake_url: str,
    pipelines_dir: Path,
    s3: S3Access | None = None,
) -> DiaryResult:
    """Append checked events to ``<lake>/raw/diary``; return how many were new.

    Writers take turns (the app, the CLI and an import may write at once): each waits for
    the diary pipeline's lock, so every entry lands once and dlt's state stays whole.
    """
    with locked_pipeline(PIPELINE_NAME, lake_url, pipelines_dir, s3) as (pipeline, _):
        pipeline.run(diary_source(events))
    normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    written = normalized.row_counts.get(TABLE_NAME, 0) if normalized else 0
    return DiaryResult(given=len(events), written=int(written))


TRUTH_PIPELINE_NAME = "airsick_persona"


def log_entry(
    *,
    person: str,
    today: date,
    lake_url: str,
    pipelines_dir: Path,
    s3: S3Access | None = None,
    **entry,
) -> DiaryResult:
    """Check one diary entry (``make_event``'s fields) and append it: `airsick diary log`
    and the app's form both write through here."""
    event = make_event(person=person, today=today, **entry)
    return append_events([event], lake_url=lake_url, pipelines_dir=pipelines_dir, s3=s3)


TRUTH_TABLE_NAME = names.PERSONA_TRUTH


class TrueDay(Protocol):
    """A simulated day's truth (``airsick_standin.persona.PersonaDay`` is one)."""

    date: date
    probability: float
    sick: bool


@dlt.resource(
    name=TRUTH_TABLE_NAME,
    write_disposition="replace",
    columns={
        "person": {"data_type": "text", "nullable": False},
        "date": {"data_type": "date", "nullable": False},
        "probability": {"data_type": "double", "nullable": False},
        "sick": {"data_type": "bool", "nullable": False},
    },
    file_format="parquet",
)
def persona_truth(truths: dict[str, Sequence[TrueDay]]):
    """Yield each simulated person's true daily probability of being sick (the oracle)."""
    for person, days in truths.items():
        yield [
            {"person": person, "date": d.date, "probability": d.probability, "sick": d.sick}
            for d in days
        ]


def write_persona_truth(
    truths: dict[str, Sequence[TrueDay]],
    *,
    lake_url: str,
    pipelines_dir: Path,
    s3: S3Access | None = None,
) -> int:
    """Replace ``<lake>/raw/persona_truth`` with the simulated people's days (the demo
    persona's, and a simulated population's); return the row count."""
    pipeline = make_pipeline(TRUTH_PIPELINE_NAME, lake_url, pipelines_dir, s3)
    finish_interrupted(pipeline)
    pipeline.run(persona_truth(truths))
    return sum(len(days) for days in truths.values())
