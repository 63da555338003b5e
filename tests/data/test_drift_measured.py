"""The drift measure on what the pipeline built: the demo persona's feature mart."""

from __future__ import annotations

from datetime import timedelta

from airsick_lakehouse import connect
from airsick_training.drift import RECENT_DAYS, measure


def test_new_days_and_labels_are_counted_from_the_mart(built_demo):
    settings = built_demo
    today = settings.today()
    with connect(settings.lakehouse) as con:
        labelled_days = con.execute(
            "select count(distinct local_date) from lake.marts.fct_daily_features "
            "where person = ? and local_date > ? and sick_next_day is not null",
            [settings.person, today - timedelta(days=10)],
        ).fetchone()[0]
    drift = measure(settings.lakehouse, settings.person, today - timedelta(days=10), today)
    assert drift.new_days == 10 and drift.new_labels == labelled_days > 0
    assert drift.psi is not None and 0 <= drift.psi < 5

    # Only the last four weeks count as "recent", however long ago training was.
    old = measure(settings.lakehouse, settings.person, today - timedelta(days=200), today)
    assert old.new_days == RECENT_DAYS and old.new_labels > drift.new_labels

    # A champion trained up to today has seen everything.
    assert measure(settings.lakehouse, settings.person, today, today).new_days == 0
