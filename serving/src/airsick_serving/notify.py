"""The evening alert and the diary reminder, delivered through Apprise.

Apprise is the library Prefect's own notification blocks use: one URL says where a message
goes (``mailto://``, ``ntfy://``, ``tgram://``, ``json://`` and 100 more), so the person
picks the channel with ``AIRSICK_NOTIFY_URL`` and airsick needs no code per service.

Each message is sent at most once per person, kind and day: the ledger (one small file per
message under the home) is claimed before sending, atomically, so two runs on the same
evening cannot both send. A failed delivery gives the claim back (a later run may try
again), is logged, and never fails the run that asked for it: a channel that hangs counts
as failed after ``timeout`` seconds, and ``guarded`` turns anything a message raises into a
failed delivery.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
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
    timeout: float = 30.0,
) -> Delivery:
    """Send ``title``/``body`` to ``url`` unless this person's ``kind`` for ``day`` went out.

    The channel has ``timeout`` seconds; one that hangs is left behind and counts as failed.
    """
    if not url:
        return Delivery("off", "set AIRSICK_NOTIFY_URL to an Apprise URL to receive it")
    try:
        claimed = ledger.claim(person, kind, day)
    except OSError as error:
        problem = (
            f"the messages folder {ledger.folder} cannot be written ({error.strerror or error}); "
            "fix it or set AIRSICK_HOME"
        )
        log.warning("the %s for %s was not sent: %s", kind, day, problem)
        return Delivery("failed", problem)
    if not claimed:
        return Delivery("already sent", f"the {kind} for {day} went out earlier")
    accepted, delivered = _deliver(url, title, body, timeout)
    if not delivered:
        ledger.release(person, kind, day)
        if accepted is None:
            problem = f"the channel did not answer within {timeout:g} s"
        elif not accepted:
            problem = "AIRSICK_NOTIFY_URL is not a URL Apprise knows; see its list of services"
        else:
            problem = "the channel refused it or did not answer"
        if accepted is not False:
            problem += "; it is tried again on the next run"
        log.warning("the %s for %s was not delivered: %s", kind, day, problem)
        return Delivery("failed", problem)
    ledger.record(person, kind, day, title, body)
    return Delivery("sent", f"the {kind} for {day}")


def _deliver(url: str, title: str, body: str, timeout: float) -> tuple[bool | None, bool]:
    """Hand the message to Apprise in a thread of its own, waiting at most ``timeout``.

    Returns whether Apprise knew the URL (None when the channel did not answer in time) and
    whether it delivered.
    """
    import apprise

    outcome: list[tuple[bool, bool]] = []

    def send() -> None:
        notifier = apprise.Apprise()
        try:
            accepted = bool(notifier.add(url))
            outcome.append((accepted, accepted and bool(notifier.notify(title=title, body=body))))
        except Exception as error:  # a channel library's own failure: the message failed
            log.warning("the channel raised %s: %s", type(error).__name__, error)
            outcome.append((True, False))

    sender = threading.Thread(target=send, name="airsick-notify", daemon=True)
    sender.start()
    sender.join(timeout)
    return outcome[0] if outcome else (None, False)


def guarded(kind: str, send: Callable[[], Delivery]) -> Delivery:
    """Run ``send`` and return its delivery; anything it raises becomes a failed delivery,
    logged, because nothing a message does may fail the run that sends it."""
    try:
        return send()
    except Exception as error:  # a full disk, a bug, a library: the evening goes on
        log.warning("the %s failed: %s: %s", kind, type(error).__name__, error)
        return Delivery("failed", f"{type(error).__name__}: {error}")


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
        f"{r['why']}; {personal(int(r.get('evidence_days', 0)), int(r.get('prior_people', 0)))}."
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
