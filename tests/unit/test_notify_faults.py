"""Nothing a message does fails the run that sends it: a channel that raises, one that hangs,
a messages folder that cannot be written, and an error nobody foresaw."""

from __future__ import annotations

import time
from datetime import date

import apprise
import pytest
from airsick_serving import notify

DAY = date(2026, 12, 1)


def send(ledger: notify.Ledger, timeout: float = 5.0) -> notify.Delivery:
    return notify.send_once(
        "json://127.0.0.1:9/",
        ledger,
        person="p",
        kind=notify.ALERT,
        day=DAY,
        title="t",
        body="b",
        timeout=timeout,
    )


def test_a_channel_that_raises_is_a_failed_delivery_tried_again(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("the channel library broke")

    monkeypatch.setattr(apprise.Apprise, "notify", explode)
    ledger = notify.Ledger(tmp_path)
    delivery = send(ledger)
    assert delivery.status == "failed" and "tried again" in delivery.detail
    assert not ledger.sent("p", notify.ALERT, DAY)  # the claim was given back


def test_a_channel_that_hangs_fails_after_the_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(apprise.Apprise, "notify", lambda *a, **k: time.sleep(60))
    ledger = notify.Ledger(tmp_path)
    started = time.monotonic()
    delivery = send(ledger, timeout=0.5)
    assert time.monotonic() - started < 5
    assert delivery.status == "failed" and "within 0.5 s" in delivery.detail
    assert not ledger.sent("p", notify.ALERT, DAY)


def test_a_messages_folder_that_cannot_be_written_says_which(tmp_path):
    blocked = tmp_path / "notifications"
    blocked.write_text("a file where the folder should be")
    delivery = send(notify.Ledger(blocked))
    assert delivery.status == "failed"
    assert str(blocked) in delivery.detail and "cannot be written" in delivery.detail


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyError("x")])
def test_guarded_turns_anything_raised_into_a_failed_delivery(error):
    def boom() -> notify.Delivery:
        raise error

    delivery = notify.guarded("evening alert", boom)
    assert delivery.status == "failed" and type(error).__name__ in delivery.detail


def test_guarded_passes_a_delivery_through():
    sent = notify.Delivery("sent", "the alert for 2026-12-01")
    assert notify.guarded("evening alert", lambda: sent) is sent
