"""Diary events: what a person writes about a day, and the checks every event passes.

An event says whether the person was sick on a date. Events are appended, never edited:
a later event for the same date supersedes an earlier one (staging keeps the latest).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

SYMPTOMS = frozenset(
    {
        "cough",
        "wheeze",
        "shortness_of_breath",
        "chest_tightness",
        "sore_throat",
        "runny_nose",
        "sneezing",
        "itchy_eyes",
        "headache",
        "fatigue",
        "fever",
    }
)
SEVERITIES = {1: "mild", 2: "moderate", 3: "severe"}
SOURCES = frozenset({"cli", "import", "app", "persona"})
_TRUE = {"yes", "y", "true", "t", "1", "sick"}
_FALSE = {"no", "n", "false", "f", "0", "well"}
CSV_COLUMNS = ("date", "sick", "symptoms", "severity", "note", "recorded_at")


class DiaryError(ValueError):
    """A diary entry or file is not valid; the message says what to change."""


@dataclass(frozen=True)
class DiaryEvent:
    """One diary entry as recorded."""

    person: str
    date: date
    sick: bool
    symptoms: tuple[str, ...] = ()
    severity: int | None = None
    note: str | None = None
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: str = "cli"

    @property
    def content_hash(self) -> str:
        """Hash what the entry says (not when): re-recording the same thing changes nothing."""
        said = [
            self.person,
            self.date.isoformat(),
            self.sick,
            sorted(self.symptoms),
            self.severity,
            self.note,
        ]
        return hashlib.sha256(json.dumps(said).encode()).hexdigest()[:16]

    def as_row(self) -> dict:
        row = asdict(self)
        row["symptoms"] = ",".join(self.symptoms) or None
        row["event_id"] = self.content_hash
        return row


def parse_sick(value: str) -> bool:
    """Read yes/no, true/false or 1/0, in any case."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DiaryError(f"'{value}' is not a sick value; use yes/no, true/false or 1/0.")


def parse_symptoms(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Read symptoms separated by commas or semicolons; each must be a known one."""
    if value is None:
        return ()
    items = value.replace(";", ",").split(",") if isinstance(value, str) else list(value)
    names = [item.strip().lower().replace(" ", "_") for item in items if item.strip()]
    unknown = sorted(set(names) - SYMPTOMS)
    if unknown:
        raise DiaryError(
            f"Unknown symptom {', '.join(unknown)}; use any of {', '.join(sorted(SYMPTOMS))}."
        )
    return tuple(dict.fromkeys(names))


def parse_severity(value: str | int | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().lower()
    by_name = {name: level for level, name in SEVERITIES.items()}
    if text in by_name:
        return by_name[text]
    if text.isdigit() and int(text) in SEVERITIES:
        return int(text)
    raise DiaryError(f"'{value}' is not a severity; use 1-3 or mild, moderate, severe.")


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise DiaryError(f"'{value}' is not a date; write it as YYYY-MM-DD.") from error


def make_event(
    *,
    person: str,
    day: date | str,
    sick: bool | str,
    today: date,
    symptoms: str | Iterable[str] | None = None,
    severity: str | int | None = None,
    note: str | None = None,
    recorded_at: datetime | None = None,
    source: str = "cli",
) -> DiaryEvent:
    """Build and check one event, or raise DiaryError saying what is wrong."""
    day = parse_date(day) if isinstance(day, str) else day
    if day > today:
        raise DiaryError(f"{day} is in the future; log a day that has begun (today is {today}).")
    sick = parse_sick(sick) if isinstance(sick, str) else bool(sick)
    level = parse_severity(severity)
    symptom_names = parse_symptoms(symptoms)
    if not sick and (level is not None or symptom_names):
        raise DiaryError(f"{day} is logged as well, so it cannot have symptoms or a severity.")
    if source not in SOURCES:
        raise DiaryError(f"Unknown source '{source}'.")
    note = (note or "").strip() or None
    if note and len(note) > 2000:
        raise DiaryError("The note is longer than 2,000 characters; shorten it.")
    return DiaryEvent(
        person=person,
        date=day,
        sick=sick,
        symptoms=symptom_names,
        severity=level,
        note=note,
        recorded_at=recorded_at or datetime.now(UTC),
        source=source,
    )


def read_csv(path: Path, *, person: str, today: date) -> list[DiaryEvent]:
    """Read and check a whole diary CSV; raise one DiaryError naming every bad line.

    Nothing is returned unless every line is valid, so an import writes all or nothing.
    """
    if not path.is_file():
        raise DiaryError(f"{path} does not exist; give the path of a CSV file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DiaryError(f"{path} is not UTF-8 text; save it as a UTF-8 CSV.") from error
    # A file, not a list of lines: a quoted note may hold line breaks.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in ("date", "sick") if c not in columns]
    if missing:
        raise DiaryError(f"{path.name} has no column {', '.join(missing)}; add date and sick.")
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise DiaryError(
            f"{path.name} has unknown column {', '.join(unknown)}; "
            f"known columns are {', '.join(CSV_COLUMNS)}."
        )
    events, problems, seen = [], [], {}
    imported_at = datetime.now(UTC)
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        try:
            recorded_at = (
                datetime.fromisoformat(row["recorded_at"]).astimezone(UTC)
                if row.get("recorded_at")
                else imported_at
            )
            event = make_event(
                person=person,
                day=row["date"],
                sick=row["sick"],
                today=today,
                symptoms=row.get("symptoms"),
                severity=row.get("severity"),
                note=row.get("note"),
                recorded_at=recorded_at,
                source="import",
            )
        except (DiaryError, ValueError) as error:
            problems.append(f"line {line}: {str(error).rstrip('.')}")
            continue
        if event.date in seen:
            problems.append(f"line {line}: {event.date} is already on line {seen[event.date]}")
            continue
        seen[event.date] = line
        events.append(event)
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise DiaryError(f"{path.name} was not imported, nothing was written: {shown}.")
    if not events:
        raise DiaryError(f"{path.name} has no entries; nothing was written.")
    return events


def write_csv(rows: Iterable[dict], path: Path) -> int:
    """Write diary entries (date, sick, symptoms, severity, note, recorded_at) as the CSV
    ``read_csv`` reads: exporting and importing again gives back the same diary."""
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            severity = row.get("severity")
            writer.writerow(
                [
                    row["date"].isoformat(),
                    "sick" if row["sick"] else "well",
                    row.get("symptoms") or "",
                    SEVERITIES[int(severity)] if severity is not None else "",
                    row.get("note") or "",
                    row["recorded_at"].astimezone(UTC).isoformat(),
                ]
            )
            written += 1
    return written
