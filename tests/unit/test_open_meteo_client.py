"""The client's pure parts and its retry policy, with a scripted fake session."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime

import pytest
import requests
from airsick_core.places import Place
from airsick_ingestion.open_meteo.client import (
    OpenMeteoClient,
    OpenMeteoRequestError,
    RateBudget,
    RateLimitError,
    RetryPolicy,
    UnexpectedResponseError,
    Window,
    parse_times,
    plan_windows,
    to_table,
    validate_body,
)
from airsick_ingestion.open_meteo.constants import request_weight

PLACE = Place("home", 40.4168, -3.7038, "Europe/Madrid")


def body(times, **columns):
    return {
        "latitude": 40.4,
        "longitude": -3.7,
        "utc_offset_seconds": 0,
        "hourly_units": {"time": "iso8601"},
        "hourly": {"time": times, **columns},
    }


def test_windows_cover_the_range_without_gaps_or_overlap():
    windows = plan_windows(date(2023, 1, 1), date(2023, 12, 31), 92)
    assert windows[0].start == date(2023, 1, 1)
    assert windows[-1].end == date(2023, 12, 31)
    assert sum(w.days for w in windows) == 365
    assert all(w.days <= 92 for w in windows)
    for before, after in itertools.pairwise(windows):
        assert (after.start - before.end).days == 1


def test_single_day_window_and_bad_ranges():
    assert plan_windows(date(2024, 2, 29), date(2024, 2, 29), 92) == [
        Window(date(2024, 2, 29), date(2024, 2, 29))
    ]
    with pytest.raises(ValueError, match="before"):
        plan_windows(date(2024, 2, 2), date(2024, 2, 1), 92)


def test_request_weight_follows_the_api():
    assert request_weight(16, 1) == 1.6
    assert request_weight(5, 3) == 1.0
    assert request_weight(16, 92) == pytest.approx(16 / 10 * 92 / 14)
    assert request_weight(16, 92, n_places=3) == pytest.approx(3 * 16 / 10 * 92 / 14)


def test_budget_waits_for_the_minute_to_pass_instead_of_spinning():
    clock = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    budget = RateBudget(calls_per_minute=20, clock=lambda: clock[0], sleep=sleep)
    assert budget.acquire(10) == 0
    assert budget.acquire(10) == 0
    waited = budget.acquire(10)
    assert waited == pytest.approx(60.01)
    assert len(sleeps) == 1
    assert RateBudget(calls_per_minute=0).acquire(1e9) == 0


def test_times_become_utc_from_either_format():
    iso = parse_times(["2024-03-31T01:00", "2024-03-31T02:00"], utc_offset_seconds=3600)
    assert str(iso[0]) == "2024-03-31T00:00:00"
    unix = parse_times([1711846800], utc_offset_seconds=0)
    assert str(unix[0]) == "2024-03-31T01:00:00"


def test_table_keeps_nulls_and_marks_forecast_hours():
    fetched = datetime(2024, 1, 1, 1, 30, tzinfo=UTC)
    good = body(
        ["2024-01-01T00:00", "2024-01-01T01:00", "2024-01-01T02:00"],
        pm10=[1.5, None, 3.0],
        european_aqi=[10, 11, None],
    )
    table = to_table(good, PLACE, ["pm10", "european_aqi"], fetched)
    assert table.column("pm10").to_pylist() == [1.5, None, 3.0]
    assert table.column("european_aqi").to_pylist() == [10, 11, None]
    assert table.column("is_forecast").to_pylist() == [False, False, True]
    assert set(table.column("place").to_pylist()) == {"home"}
    assert table.schema.field("time").type.tz == "UTC"
    assert not table.schema.field("time").nullable


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ([], "list instead of an object"),
        ({"hourly": {}}, "no 'latitude'"),
        (body(["2024-01-01T00:00"]), "no hourly 'pm10'"),
        (body(["2024-01-01T00:00"], pm10=[1.0, 2.0]), "2 values for 1 hours"),
        (body(["2024-01-01T00:00"], pm10=["high"]), "not numbers"),
    ],
)
def test_unexpected_shapes_are_refused(bad, says):
    with pytest.raises(UnexpectedResponseError, match=says):
        validate_body(bad, ["pm10"])


class FakeResponse:
    def __init__(self, status, payload):
        self.status_code = status
        self.text = payload if isinstance(payload, str) else json.dumps(payload)


class ScriptedSession:
    """Answers each GET with the next scripted response or raises the scripted error."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = 0

    def get(self, url, params, timeout):
        self.calls += 1
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def client_with(session, sleeps):
    return OpenMeteoClient(
        "http://standin",
        retry=RetryPolicy(attempts=4, backoff=1, rate_limit_wait=61, sleep=sleeps.append),
        budget=RateBudget(0),
        session=session,
    )


def test_transient_failures_are_retried_with_backoff_and_a_minute_for_429():
    ok = FakeResponse(200, body(["2024-01-01T00:00"], pm10=[1.0]))
    session = ScriptedSession(
        FakeResponse(503, "<html>busy</html>"),
        FakeResponse(429, {"error": True, "reason": "Minutely API request limit exceeded."}),
        requests.Timeout("slow"),
        ok,
    )
    sleeps = []
    result = client_with(session, sleeps).fetch(
        PLACE, Window(date(2024, 1, 1), date(2024, 1, 1)), ["pm10"]
    )
    assert result["hourly"]["pm10"] == [1.0]
    assert session.calls == 4
    assert sleeps == [1, 61, 4]


def test_400_quotes_the_api_reason_and_is_not_retried():
    reason = "Latitude must be in range of -90 to 90°. Given: 91.0."
    session = ScriptedSession(FakeResponse(400, {"error": True, "reason": reason}))
    with pytest.raises(OpenMeteoRequestError, match="Latitude must be in range"):
        client_with(session, []).fetch(PLACE, Window(date(2024, 1, 1), date(2024, 1, 1)), ["pm10"])
    assert session.calls == 1


def test_hourly_limit_is_not_waited_out_in_process():
    session = ScriptedSession(
        FakeResponse(429, {"error": True, "reason": "Hourly API request limit exceeded."})
    )
    with pytest.raises(RateLimitError, match="run the ingest again later"):
        client_with(session, []).fetch(PLACE, Window(date(2024, 1, 1), date(2024, 1, 1)), ["pm10"])


def test_gives_up_after_the_last_attempt_with_a_clear_error():
    session = ScriptedSession(*[requests.ConnectionError("refused")] * 4)
    with pytest.raises(Exception, match="check AIRSICK_OPEN_METEO_URL"):
        client_with(session, []).fetch(PLACE, Window(date(2024, 1, 1), date(2024, 1, 1)), ["pm10"])
    assert session.calls == 4
