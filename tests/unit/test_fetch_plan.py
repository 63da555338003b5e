from datetime import date

from airsick_ingestion.open_meteo.source import FetchPlan


def test_first_run_fetches_history_and_forecast():
    plan = FetchPlan(today=date(2026, 5, 20), history_start=date(2023, 5, 20), forecast_days=4)
    windows = plan.windows(None)
    # A day before the first local day: a place east of Greenwich starts it in UTC's day before.
    assert windows[0].start == date(2023, 5, 19)
    assert windows[-1].end == date(2026, 5, 24)
    assert plan.observed_until(windows) == date(2026, 5, 19)


def test_daily_run_fetches_only_the_overlap_and_forecast():
    plan = FetchPlan(today=date(2026, 5, 21), history_start=date(2023, 5, 20), overlap_days=3)
    windows = plan.windows(observed_through=date(2026, 5, 19))
    assert len(windows) == 1
    assert windows[0].start == date(2026, 5, 17)
    assert windows[0].end == date(2026, 5, 25)


def test_a_missed_week_is_caught_up():
    plan = FetchPlan(today=date(2026, 5, 27), history_start=date(2023, 5, 20))
    windows = plan.windows(observed_through=date(2026, 5, 19))
    assert windows[0].start == date(2026, 5, 17)
    assert sum(w.days for w in windows) == (date(2026, 5, 31) - date(2026, 5, 17)).days + 1


def test_backfill_window_wins_over_state():
    plan = FetchPlan(
        today=date(2026, 5, 20),
        history_start=date(2023, 5, 20),
        backfill=(date(2020, 1, 1), date(2020, 12, 31)),
        chunk_days=31,
    )
    windows = plan.windows(observed_through=date(2026, 5, 19))
    # Local days are whole anywhere: one UTC day more on each side (UTC-12 to UTC+14).
    assert windows[0].start == date(2019, 12, 31)
    assert windows[-1].end == date(2021, 1, 1)
    assert plan.observed_until(windows) == date(2021, 1, 1)
    assert all(w.days <= 31 for w in windows)
