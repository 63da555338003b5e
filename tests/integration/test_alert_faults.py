"""The evening run with its alert failing in every way we know, run as a user runs it: the
`airsick` command in its own process on a home made by `airsick demo --once`. The evening
run, its alert hanging, ends with tomorrow's prediction, exit 0, and says why the alert
failed; the reminder, sent through the same delivery, does the same for every fault.

Faults inside the channel library are injected into the airsick process through a
``sitecustomize`` module on PYTHONPATH (Apprise's ``notify`` raises, or hangs).
"""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta

import pytest
from airsick_core.settings import Settings

from tests.conftest import airsick_command, process_environment
from tests.helpers import Receiver

pytestmark = pytest.mark.integration

SITECUSTOMIZE = """
import os
fault = os.environ.get("AIRSICK_TEST_CHANNEL_FAULT")
if fault:
    import time
    import apprise

    def notify(self, *args, **kwargs):
        if fault == "raise":
            raise RuntimeError("the channel library broke")
        time.sleep(3600)

    apprise.Apprise.notify = notify
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory, prefect_api):
    """A demo home, and the stand-in its evening runs fetch from (as `airsick up --standin`)."""
    from airsick_standin.server import StandIn

    root = tmp_path_factory.mktemp("alert-faults")
    (root / "inject").mkdir()
    (root / "inject" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    with StandIn() as standin:
        env = process_environment(
            root / "home",
            prefect_api,
            AIRSICK_STANDIN_PORT="0",
            AIRSICK_OPEN_METEO_URL=standin.url,
            AIRSICK_OPEN_METEO_CALLS_PER_MINUTE="0",
            # A month is enough to train (the prior updated by the diary) and to score;
            # years would only cost time.
            AIRSICK_HISTORY_START=(date.today() - timedelta(days=30)).isoformat(),
        )
        made = subprocess.run(
            airsick_command("demo", "--once"), env=env, capture_output=True, text=True, timeout=600
        )
        assert made.returncode == 0, made.stdout + made.stderr
        yield root, env


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        airsick_command(*args), env=env, capture_output=True, text=True, timeout=600
    )


FAULTS = {
    "a channel that raises": ({"AIRSICK_TEST_CHANNEL_FAULT": "raise"}, "refused it"),
    "a channel that hangs": (
        {"AIRSICK_TEST_CHANNEL_FAULT": "hang", "AIRSICK_NOTIFY_TIMEOUT": "3"},
        "did not answer within 3 s",
    ),
    "a messages folder that cannot be written": ({}, "cannot be written"),
}


def faulty(root, base: dict, receiver: Receiver, fault: str) -> dict:
    """The environment of a run whose alert meets ``fault``; the messages folder is made a
    file for the fault that needs it (``restore`` undoes it)."""
    if fault == "a messages folder that cannot be written":
        # A file where the folder should be: even root cannot write under it.
        notifications = root / "home" / "notifications"
        subprocess.run(["rm", "-rf", str(notifications)], check=True)
        notifications.write_text("not a folder")
    return (
        base
        | FAULTS[fault][0]
        | {
            "PYTHONPATH": str(root / "inject"),
            "AIRSICK_NOTIFY_URL": receiver.url,
            "AIRSICK_NOTIFY_THRESHOLD": "0",
        }
    )


def restore(root) -> None:
    notifications = root / "home" / "notifications"
    if notifications.is_file():
        notifications.unlink()


def test_the_evening_run_ends_with_a_prediction_when_its_alert_hangs(home):
    """The evening's alert meets the worst of the faults, a channel that never answers: the
    run still ends with tomorrow's prediction and says why the alert failed. (Every fault
    goes through the same delivery, which the reminder below meets one by one.)"""
    root, base = home
    fault = "a channel that hangs"
    with Receiver() as receiver:
        daily = run(faulty(root, base, receiver, fault), "run")
        assert receiver.received == []
    assert daily.returncode == 0, daily.stdout + daily.stderr
    summary = json.loads(daily.stdout)
    assert summary["tomorrow"] and all(0 < row["probability"] < 1 for row in summary["tomorrow"])
    assert summary["alert"]["status"] == "failed", summary
    assert FAULTS[fault][1] in summary["alert"]["detail"], summary


@pytest.mark.parametrize("fault", FAULTS)
def test_the_reminder_ends_well_and_says_why_whatever_the_channel_does(home, fault):
    root, base = home
    # The reminder, as on a day the diary does not have yet: the day after today where the
    # demo persona lives (near midnight, not the machine's tomorrow).
    tomorrow = (Settings(home=base["AIRSICK_HOME"]).today() + timedelta(days=1)).isoformat()
    with Receiver() as receiver:
        try:
            env = faulty(root, base, receiver, fault) | {"AIRSICK_AS_OF": tomorrow}
            reminder = run(env, "run", "reminder")
        finally:
            restore(root)
        assert receiver.received == []
    assert reminder.returncode == 0, reminder.stdout + reminder.stderr
    reminded = json.loads(reminder.stdout)
    assert reminded["status"] == "failed" and FAULTS[fault][1] in reminded["detail"], reminded
