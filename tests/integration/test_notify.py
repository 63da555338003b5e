"""The evening alert and the diary reminder through real Apprise, to receivers on loopback:
a JSON webhook and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import time
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from airsick_core.http import free_port
from airsick_serving import notify

from tests.helpers import Receiver

pytestmark = pytest.mark.integration

TOMORROW = [
    {
        "place": "home",
        "date": "2026-12-01",
        "probability": 0.31,
        "why": "PM2.5 raised it, pollen lowered it",
        "evidence_days": 45,
    },
    {
        "place": "work",
        "date": "2026-12-01",
        "probability": 0.12,
        "why": "no factor stood out",
        "evidence_days": 45,
    },
]


def test_the_alert_goes_out_once_a_day_with_the_probability_in_words(tmp_path):
    ledger = notify.Ledger(tmp_path)
    title, body = notify.alert_message(TOMORROW, threshold=0.25)
    assert "about 1 in 3 (31%)" in title and "Tuesday" in title
    assert "home" in body and "PM2.5 raised it" in body and "work" not in body
    with Receiver() as receiver:
        first = notify.send_once(
            receiver.url,
            ledger,
            person="p",
            kind="alert",
            day=date(2026, 12, 1),
            title=title,
            body=body,
        )
        again = notify.send_once(
            receiver.url,
            ledger,
            person="p",
            kind="alert",
            day=date(2026, 12, 1),
            title=title,
            body=body,
        )
    assert first.status == "sent" and again.status == "already sent"
    assert len(receiver.received) == 1
    assert receiver.received[0]["title"] == title
    assert "31%" in receiver.received[0]["message"]


def test_under_the_threshold_there_is_no_alert():
    assert notify.alert_message(TOMORROW, threshold=0.5) is None
    assert notify.alert_message(TOMORROW, threshold=0.0) is not None


def test_a_failed_delivery_is_reported_and_tried_again_later(tmp_path, caplog):
    ledger = notify.Ledger(tmp_path)
    day = date(2026, 12, 1)
    closed = f"json://127.0.0.1:{free_port()}/alert"
    failed = notify.send_once(
        closed, ledger, person="p", kind="alert", day=day, title="t", body="b"
    )
    assert failed.status == "failed" and "tried again" in failed.detail
    assert not ledger.sent("p", "alert", day)
    with Receiver() as receiver:
        url = receiver.url
        retried = notify.send_once(
            url, ledger, person="p", kind="alert", day=day, title="t", body="b"
        )
    assert retried.status == "sent" and len(receiver.received) == 1


def test_an_unknown_channel_says_so_and_no_url_means_off(tmp_path):
    ledger = notify.Ledger(tmp_path)
    day = date(2026, 12, 1)
    odd = notify.send_once(
        "nosuchservice://x", ledger, person="p", kind="alert", day=day, title="t", body="b"
    )
    assert odd.status == "failed" and "Apprise" in odd.detail
    off = notify.send_once(None, ledger, person="p", kind="alert", day=day, title="t", body="b")
    assert off.status == "off"


class Mailbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def test_email_reaches_a_local_smtp_server(tmp_path):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        url = (
            f"mailto://127.0.0.1:{controller.port}?mode=insecure"
            "&from=airsick@example.org&to=person@example.org"
        )
        title, body = notify.reminder_message(date(2026, 11, 30))
        sent = notify.send_once(
            url,
            notify.Ledger(tmp_path),
            person="p",
            kind="reminder",
            day=date(2026, 11, 30),
            title=title,
            body=body,
        )
        deadline = time.monotonic() + 5
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    assert sent.status == "sent", sent.detail
    (message,) = mailbox.messages
    assert message.rcpt_tos == ["person@example.org"]
    text = message.content.decode()
    assert "how was Monday?" in text and "not in your diary yet" in text


def test_the_reminder_goes_once_and_only_when_today_is_not_logged(demo_settings):
    from datetime import timedelta

    from airsick_orchestration import steps

    with Receiver() as receiver:
        settings = demo_settings.model_copy(update={"notify_url": receiver.url})
        # The demo diary is kept up to today: nothing to remind.
        assert steps.remind(settings).status == "not due"
        later = settings.model_copy(update={"as_of": settings.today() + timedelta(days=1)})
        first, again = steps.remind(later), steps.remind(later)
    assert (first.status, again.status) == ("sent", "already sent")
    (message,) = receiver.received
    assert "not in your diary yet" in message["message"]
