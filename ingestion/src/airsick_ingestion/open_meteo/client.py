"""HTTP client for Open-Meteo's APIs: windows, pacing, retries and parsing.

Air quality, archived weather and forecast weather answer in the same shape, so one client
serves all three; each instance talks to one endpoint (``path``).

The client is deliberately small and explicit rather than a generic REST helper: the API
answers in columns, counts each request by its weight, and says "429" without a
Retry-After, so each of those gets its own, tested, piece of code.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import requests
from airsick_core.places import Place

from airsick_ingestion.open_meteo.constants import API_PATH, CALLS_PER_MINUTE, request_weight

log = logging.getLogger(__name__)

INTEGER_VARIABLES = frozenset({"european_aqi", "us_aqi"})


class OpenMeteoError(RuntimeError):
    """The API could not give what was asked; the message says what to do."""


class OpenMeteoRequestError(OpenMeteoError):
    """The API refused the request (HTTP 400) and said why."""


class UnexpectedResponseError(OpenMeteoError):
    """The API answered with a body airsick does not understand; nothing of it is loaded."""


class RateLimitError(OpenMeteoError):
    """The API's hourly or daily allowance is used up: waiting in-process would be wrong."""


@dataclass(frozen=True)
class Window:
    """An inclusive range of UTC dates asked for in one request."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def plan_windows(start: date, end: date, chunk_days: int) -> list[Window]:
    """Split an inclusive date range into consecutive windows of at most ``chunk_days``."""
    if end < start:
        raise ValueError(f"End date {end} is before start date {start}.")
    if chunk_days < 1:
        raise ValueError("chunk_days must be at least 1.")
    windows = []
    cursor = start
    while cursor <= end:
        last = min(end, cursor + timedelta(days=chunk_days - 1))
        windows.append(Window(cursor, last))
        cursor = last + timedelta(days=1)
    return windows


@dataclass
class RateBudget:
    """Keep the weighted calls of the last minute under the API's per-minute limit.

    Pacing before sending is cheaper than being told 429: the free tier counts a request
    by ``max(1, variables/10 * max(1, days/14))`` calls. ``calls_per_minute=0`` disables it
    (for the local stand-in, which has no limit).
    """

    calls_per_minute: float = CALLS_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _spent: deque[tuple[float, float]] = field(default_factory=deque)

    def acquire(self, weight: float) -> float:
        """Wait until ``weight`` calls fit in the last minute; return the seconds waited."""
        if self.calls_per_minute <= 0:
            return 0.0
        waited = 0.0
        while True:
            now = self.clock()
            while self._spent and now - self._spent[0][0] >= 60:
                self._spent.popleft()
            used = sum(w for _, w in self._spent)
            if used + weight <= self.calls_per_minute or not self._spent:
                self._spent.append((now, weight))
                return waited
            pause = 60 - (now - self._spent[0][0]) + 0.01
            self.sleep(pause)
            waited += pause


@dataclass
class RetryPolicy:
    """How transient failures are retried.

    5xx answers, timeouts, dropped connections and truncated bodies back off exponentially;
    a per-minute 429 waits ``rate_limit_wait`` seconds (the API gives no Retry-After and its
    minute window must pass), never a hot loop.
    """

    attempts: int = 6
    backoff: float = 1.0
    max_backoff: float = 30.0
    rate_limit_wait: float = 61.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))


class OpenMeteoClient:
    """Fetch hourly values from one Open-Meteo endpoint, one place and one window at a time."""

    def __init__(
        self,
        base_url: str,
        *,
        path: str = API_PATH,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.budget = budget or RateBudget()
        self.session = session or requests.Session()
        self.requests_sent = 0

    def fetch(self, place: Place, window: Window, variables: Sequence[str]) -> dict:
        """Return the validated JSON body for ``place`` over ``window`` (UTC dates)."""
        params = {
            "latitude": f"{place.latitude:.4f}",
            "longitude": f"{place.longitude:.4f}",
            "hourly": ",".join(variables),
            "timezone": "GMT",
            "timeformat": "iso8601",
            "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(),
        }
        self.budget.acquire(request_weight(len(variables), window.days))
        body = self._get_json(params, what=f"{place.name} {window.start}..{window.end}")
        validate_body(body, variables)
        return body

    def _get_json(self, params: dict[str, str], what: str) -> dict:
        policy = self.retry
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            self.requests_sent += 1
            try:
                response = self.session.get(self.url, params=params, timeout=self.timeout)
                text = response.text
            # Transport failures (timeouts, refused or dropped connections, bodies cut short)
            # are transient by nature: back off and ask again.
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as error:
                if last:
                    raise OpenMeteoError(
                        f"Open-Meteo did not answer for {what} after {attempt} attempts "
                        f"({type(error).__name__}); check AIRSICK_OPEN_METEO_URL and the network."
                    ) from error
                log.warning("transport error for %s (%s); retrying", what, type(error).__name__)
                policy.sleep(policy.delay(attempt))
                continue

            if response.status_code == 200:
                try:
                    return json.loads(text)
                # A 200 whose JSON does not parse was cut short on the way: ask again.
                except json.JSONDecodeError as error:
                    if last:
                        raise UnexpectedResponseError(
                            f"Open-Meteo answered {what} with a body that is not JSON "
                            f"({len(text)} bytes); nothing of it was loaded."
                        ) from error
                    policy.sleep(policy.delay(attempt))
                    continue
            reason = _reason(text)
            if response.status_code == 400:
                raise OpenMeteoRequestError(f"Open-Meteo refused {what}: {reason}")
            if response.status_code == 429:
                if "minute" not in reason.lower():
                    raise RateLimitError(
                        f"Open-Meteo's allowance is used up ({reason}); run the ingest again later."
                    )
                if last:
                    raise RateLimitError(f"Open-Meteo kept answering 429 for {what}: {reason}")
                log.warning("rate limited on %s; waiting %.0f s", what, policy.rate_limit_wait)
                policy.sleep(policy.rate_limit_wait)
                continue
            if response.status_code >= 500 and not last:
                log.warning("HTTP %s for %s; retrying", response.status_code, what)
                policy.sleep(policy.delay(attempt))
                continue
            raise OpenMeteoError(
                f"Open-Meteo answered HTTP {response.status_code} for {what}: {reason}"
            )
        raise AssertionError("unreachable: the loop returns or raises")


def _reason(text: str) -> str:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return text.strip()[:200] or "no reason given"
    if isinstance(body, dict) and "reason" in body:
        return str(body["reason"])
    return text.strip()[:200]


# What JSON numbers and null parse to (``type`` per value: the check runs on every hour).
_NUMBERS = {int, float, type(None)}


def validate_body(body: object, variables: Sequence[str]) -> None:
    """Raise UnexpectedResponseError unless ``body`` is one place's hourly answer."""

    def fail(problem: str) -> UnexpectedResponseError:
        return UnexpectedResponseError(
            f"Open-Meteo's answer has an unexpected shape ({problem}); nothing of it was loaded."
        )

    if not isinstance(body, dict):
        raise fail(f"a {type(body).__name__} instead of an object")
    for key in ("latitude", "longitude", "utc_offset_seconds", "hourly", "hourly_units"):
        if key not in body:
            raise fail(f"no '{key}'")
    hourly = body["hourly"]
    if not isinstance(hourly, dict) or not isinstance(hourly.get("time"), list):
        raise fail("'hourly.time' is not a list")
    n = len(hourly["time"])
    for name in variables:
        column = hourly.get(name)
        if not isinstance(column, list):
            raise fail(f"no hourly '{name}'")
        if len(column) != n:
            raise fail(f"hourly '{name}' has {len(column)} values for {n} hours")
        if not set(map(type, column)) <= _NUMBERS:
            raise fail(f"hourly '{name}' holds values that are not numbers")
    if not set(map(type, hourly["time"])) <= {str, int}:
        raise fail("'hourly.time' holds values that are neither text nor numbers")


def parse_times(times: Sequence[str | int], utc_offset_seconds: int) -> np.ndarray:
    """Return UTC hours as ``datetime64[s]`` from the API's iso8601 or unixtime values."""
    if times and isinstance(times[0], int):
        return np.asarray(times, dtype="int64").astype("datetime64[s]")
    try:
        local = np.asarray(times, dtype="datetime64[s]")
    except ValueError as error:
        raise UnexpectedResponseError(
            "Open-Meteo's 'hourly.time' holds text that is not an ISO 8601 time; nothing loaded."
        ) from error
    return local - np.timedelta64(int(utc_offset_seconds), "s")


# dlt's column hints for what ``to_table`` writes before the variables: who, where, when.
PLACE_HOUR_COLUMNS = {
    "place": {"data_type": "text", "nullable": False},
    "latitude": {"data_type": "double", "nullable": False},
    "longitude": {"data_type": "double", "nullable": False},
    "timezone": {"data_type": "text", "nullable": False},
    "grid_latitude": {"data_type": "double"},
    "grid_longitude": {"data_type": "double"},
    "time": {"data_type": "timestamp", "nullable": False},
    "fetched_at": {"data_type": "timestamp", "nullable": False},
    "is_forecast": {"data_type": "bool", "nullable": False},
}


def to_table(body: dict, place: Place, variables: Sequence[str], fetched_at: datetime) -> pa.Table:
    """Turn one validated body into rows: one per hour, stamped with when it was fetched."""
    hourly = body["hourly"]
    times = parse_times(hourly["time"], int(body["utc_offset_seconds"]))
    n = len(times)
    fetched = np.datetime64(fetched_at.astimezone(UTC).replace(tzinfo=None), "us")
    utc = pa.timestamp("us", tz="UTC")
    columns: dict[str, pa.Array] = {
        "place": pa.array([place.name] * n, pa.string()),
        "latitude": pa.array(np.full(n, place.latitude)),
        "longitude": pa.array(np.full(n, place.longitude)),
        "timezone": pa.array([place.timezone] * n, pa.string()),
        "grid_latitude": pa.array(np.full(n, float(body["latitude"]))),
        "grid_longitude": pa.array(np.full(n, float(body["longitude"]))),
        "time": pa.array(times.astype("datetime64[us]"), utc),
        "fetched_at": pa.array(np.full(n, fetched), utc),
        "is_forecast": pa.array(times.astype("datetime64[us]") > fetched),
    }
    for name in variables:
        kind = pa.int64() if name in INTEGER_VARIABLES else pa.float64()
        columns[name] = pa.array(hourly[name], kind)
    # Identity and time columns are never null: say so, so dlt's hints and Arrow's agree.
    schema = pa.schema(
        pa.field(name, array.type, nullable=name in variables or name.startswith("grid_"))
        for name, array in columns.items()
    )
    return pa.table(columns, schema=schema)


def fetch_ahead(
    client: OpenMeteoClient,
    place: Place,
    windows: Sequence[Window],
    variables: Sequence[str],
    now: Callable[[], datetime],
) -> Iterator[tuple[Window, datetime, dict]]:
    """Fetch each window in turn; yield it with when it was fetched and the answer.

    The next window's request is in flight while the caller writes this one: still one
    request at a time (the client's pacing and retries are unchanged), but no idle wait.
    """

    def fetch(window: Window) -> tuple[datetime, dict]:
        fetched_at = now()
        return fetched_at, client.fetch(place, window, variables)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-meteo") as ahead:
        pending = ahead.submit(fetch, windows[0]) if windows else None
        for index, window in enumerate(windows):
            fetched_at, body = pending.result()
            following = index + 1 < len(windows)
            pending = ahead.submit(fetch, windows[index + 1]) if following else None
            try:
                yield window, fetched_at, body
            except GeneratorExit:
                if pending is not None:
                    pending.cancel()
                raise


def iter_place_windows(
    client: OpenMeteoClient,
    place: Place,
    windows: Sequence[Window],
    variables: Sequence[str],
    now: Callable[[], datetime],
) -> Iterator[tuple[Window, pa.Table]]:
    """Fetch each window in turn (the next one ahead) and yield it as rows."""
    for window, fetched_at, body in fetch_ahead(client, place, windows, variables, now):
        yield window, to_table(body, place, variables, fetched_at)
