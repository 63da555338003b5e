"""The evening alert and the diary reminder, delivered through Apprise.

Apprise is the library Prefect's own notification blocks use: one URL says where a message
goes (``mailto://``, ``ntfy://``, ``tgram://``, ``json://`` and 100 more), so the person
picks the channel with ``AIRSICK_NOTIFY_URL`` and airsick needs no code per service.

Each message is sent at most once per person, kind and day: the ledger (one small file per
message under the home) is claimed before sending, atomically, so two runs on the same
evening cannot both send. A failed delivery gives the claim back (a later run may try
again), is logged, and never fails the run that asked for it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from airsick_serving.words import chance, personal

log = logging.getLogger(__name__)

ALERT, REMINDER = "alert", "reminder"


@dataclass(frozen=True)
class Delivery:
    """What became of one message: sent, already sent, failed, not due, or off."""

    status: str
    detail: str


class Ledger:
    """Which messages went out: ``<folder>/<person>/<day>-<kind>.json``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, person: str, kind: str, day: date) -> Path:
        return self.folder / person / f"{day.isoformat()}-{kind}.json"

    def claim(self, person: str, kind: str, day: date) -> bool:
        """Take the message for sending; False if it was sent (or is being sent) already."""
        path = self._path(person, kind, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def release(self, person: str, kind: str, day: date) -> None:
        self._path(person, kind, day).unlink(missing_ok=True)

    def record(self, person: str, kind: str, day: date, title: str, body: str) -> None:
        self._path(person, kind, day).write_text(
            json.dumps(
                {"sent_at": datetime.now(UTC).isoformat(), "title": title, "body": body},
                ensure_ascii=False,
            )
        )

    def sent(self, person: str, kind: str, day: date) -> bool:
        return self._path(person, kind, day).exists()


def send_once(
    url: str | None,
    ledger: Ledger,
    *,
    person: str,
    kind: str,
    day: date,
    title: str,
    body: str,
) -> Delivery:
    """Send ``title``/``body`` to ``url`` unless this person's ``kind`` for ``day`` went out."""
    if not url:
        return Delivery("off", "set AIRSICK_NOTIFY_URL to an Apprise URL to receive it")
    if not ledger.claim(person, kind, day):
        return Delivery("already sent", f"the {kind} for {day} went out earlier")
    import apprise

    notifier = apprise.Apprise()
    try:
        accepted = notifier.add(url)
        delivered = accepted and notifier.notify(title=title, body=body)
    except Exception as error:  # a channel's own failure must not fail the evening run
        log.warning("the %s for %s could not be sent: %s", kind, day, error)
        accepted, delivered = True, False
    if not delivered:
        ledger.release(person, kind, day)
        problem = (
            "AIRSICK_NOTIFY_URL is not a URL Apprise knows; see its list of services"
            if not accepted
            else "the channel refused it or did not answer; it is tried again on the next run"
        )
        log.warning("the %s for %s was not delivered: %s", kind, day, problem)
        return Delivery("failed", problem)
    ledger.record(person, kind, day, title, body)
    return Delivery("sent", f"the {kind} for {day}")


def alert_message(tomorrow: list[dict], threshold: float) -> tuple[str, str] | None:
    """The evening alert for tomorrow's rows (place, date, probability, why, evidence_days),
    or None when no place reaches ``threshold``."""
    due = [r for r in tomorrow if r["probability"] >= threshold]
    if not due:
        return None
    worst = max(due, key=lambda r: r["probability"])
    day = date.fromisoformat(str(worst["date"]))
    title = (
        f"airsick: {chance(worst['probability'])} ({worst['probability']:.0%}) chance of "
        f"being sick on {day:%A}"
    )
    lines = [
        f"{r['place']}, {date.fromisoformat(str(r['date'])):%A %d %B}: "
        f"{chance(r['probability'])} ({r['probability']:.0%}) chance of being sick; "
        f"{r['why']}; {personal(int(r.get('evidence_days', 0)))}."
        for r in sorted(due, key=lambda r: -r["probability"])
    ]
    lines.append(
        f"You get this when the chance reaches {threshold:.0%} (AIRSICK_NOTIFY_THRESHOLD)."
    )
    return title, "\n".join(lines)


def reminder_message(day: date) -> tuple[str, str]:
    """The diary reminder: a day not logged is unknown, and well days count as much."""
    return (
        f"airsick: how was {day:%A}?",
        f"{day:%A %d %B} is not in your diary yet. Well days count as much as sick ones: "
        "log it with `airsick diary log` or in the app.",
    )
