"""An offline stand-in for Open-Meteo's APIs, as their contracts describe them.

``/v1/air-quality`` as ``../shared/open-meteo-api.md`` says; ``/v1/archive`` and
``/v1/forecast`` (weather) as ``docs/open-meteo-weather-api.md`` says. It answers with
the simulator (any place, any date the endpoint allows) or with recorded responses
(replay). Tests drive it through a few control routes under
``/_standin/``: set its clock, queue faults (429, 503, slow, truncated, garbage) for the
next requests, and read how many requests it served.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import orjson
from airsick_core.http import BackgroundServer
from airsick_ingestion.open_meteo.constants import (
    API_PATH,
    ARCHIVE_FIRST_DATE,
    ARCHIVE_LAG_DAYS,
    ARCHIVE_PATH,
    FIRST_DATE,
    FORECAST_PATH,
    MAX_FORECAST_DAYS,
    WEATHER_MAX_FORECAST_DAYS,
    WEATHER_PAST_DAYS,
    WEATHER_UNITS,
    request_weight,
)

from airsick_standin.replay import Replay
from airsick_standin.simulator import DECIMALS, WEATHER_DECIMALS, Simulator, grid_cell

log = logging.getLogger(__name__)

UNITS = {
    "aerosol_optical_depth": "",
    "uv_index": "",
    "uv_index_clear_sky": "",
    "european_aqi": "EAQI",
    "us_aqi": "USAQI",
    **{name: "grains/m³" for name in DECIMALS if name.endswith("_pollen")},
    **WEATHER_UNITS,
}
FAULTS = ("429", "429-hourly", "503", "slow", "truncated", "garbage")
MAX_WEIGHT = 5000


@dataclass(frozen=True)
class Endpoint:
    """What one of the API's endpoints accepts: its variables and its range of days."""

    path: str
    variables: frozenset[str]
    first_date: date | None  # None: today minus ``max_past_days`` (the forecast API)
    max_past_days: int
    max_forecast_days: int
    default_forecast_days: int
    lag_days: int = 0  # hours newer than this many days before now are null (the archive)


AIR_QUALITY = Endpoint(
    API_PATH, frozenset(DECIMALS), date.fromisoformat(FIRST_DATE), 92, MAX_FORECAST_DAYS, 5
)
ARCHIVE = Endpoint(
    ARCHIVE_PATH,
    frozenset(WEATHER_DECIMALS),
    date.fromisoformat(ARCHIVE_FIRST_DATE),
    0,
    0,
    0,
    lag_days=ARCHIVE_LAG_DAYS,
)
FORECAST = Endpoint(
    FORECAST_PATH,
    frozenset(WEATHER_DECIMALS),
    None,
    WEATHER_PAST_DAYS,
    WEATHER_MAX_FORECAST_DAYS,
    7,
)
ENDPOINTS = {endpoint.path: endpoint for endpoint in (AIR_QUALITY, ARCHIVE, FORECAST)}


class BadRequest(ValueError):
    """A request the real API answers with HTTP 400 and this reason."""


@dataclass
class Control:
    """The stand-in's mutable state: its clock, queued faults and counters."""

    now: datetime | None = None
    slow_seconds: float = 3.0
    faults: deque[str] = field(default_factory=deque)
    counts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    def next_fault(self) -> str | None:
        with self.lock:
            self.counts["requests"] += 1
            return self.faults.popleft() if self.faults else None


@dataclass(frozen=True)
class Query:
    """A validated air-quality request."""

    latitudes: list[float]
    longitudes: list[float]
    variables: list[str]
    timezone: str
    unixtime: bool
    first_hour: int  # UTC hours since 1970, inclusive
    last_hour: int
    utc_offset: int
    fmt: str


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _floats(text: str | None, name: str) -> list[float]:
    if text is None:
        raise BadRequest(f"Parameter '{name}' is required")
    try:
        return [float(item) for item in text.split(",")]
    except ValueError as error:
        raise BadRequest(f"Parameter '{name}' must be a floating point number") from error


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise BadRequest(
            f"Invalid date format for parameter '{name}'. Make sure to use 'YYYY-MM-DD'"
        ) from error


def _int(text: str | None, name: str, default: int, low: int, high: int, label: str) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError as error:
        raise BadRequest(f"Parameter '{name}' must be an integer") from error
    if not low <= value <= high:
        raise BadRequest(f"{label} is invalid. Allowed range {low} to {high}.")
    return value


def parse_query(
    params: dict[str, list[str]], now: datetime, endpoint: Endpoint = AIR_QUALITY
) -> Query:
    """Validate the parameters as the real API does, or raise BadRequest with its reason."""
    latitudes = _floats(_one(params, "latitude"), "latitude")
    longitudes = _floats(_one(params, "longitude"), "longitude")
    if len(latitudes) != len(longitudes):
        raise BadRequest(
            "Parameter 'latitude' and 'longitude' must have the same number of elements"
        )
    if len(latitudes) > 1000:
        raise BadRequest("Only up to 1000 locations can be requested at once")
    for lat in latitudes:
        if not -90 <= lat <= 90:
            raise BadRequest(f"Latitude must be in range of -90 to 90°. Given: {lat}.")
    for lon in longitudes:
        if not -180 <= lon <= 180:
            raise BadRequest(f"Longitude must be in range of -180 to 180°. Given: {lon}.")

    variables = [v for v in (_one(params, "hourly") or "").split(",") if v]
    for name in variables:
        if name not in endpoint.variables:
            raise BadRequest(
                f"Cannot initialize VariableOrDerived from invalid String value {name} "
                "for key hourly"
            )

    tz_name = _one(params, "timezone") or "GMT"
    if tz_name == "auto":
        tz_name = "GMT"  # the stand-in has no timezone database by coordinates
    try:
        zone = ZoneInfo("UTC" if tz_name.upper() in ("GMT", "UTC") else tz_name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise BadRequest("Invalid timezone") from error

    timeformat = _one(params, "timeformat") or "iso8601"
    if timeformat not in ("iso8601", "unixtime"):
        raise BadRequest(
            f"Cannot initialize Timeformat from invalid String value {timeformat} "
            "for key timeformat"
        )
    fmt = _one(params, "format") or "json"
    if fmt not in ("json", "csv"):
        raise BadRequest(f"The stand-in answers format json or csv, not {fmt}")

    local_now = now.astimezone(zone)
    today = local_now.date()
    latest = today + timedelta(days=endpoint.max_forecast_days)
    start_text, end_text = _one(params, "start_date"), _one(params, "end_date")
    past_text, forecast_text = _one(params, "past_days"), _one(params, "forecast_days")
    start_hour, end_hour = _one(params, "start_hour"), _one(params, "end_hour")
    if start_text or end_text:
        if not (start_text and end_text):
            raise BadRequest("Both 'start_date' and 'end_date' must be set")
        if int(past_text or 0) or int(forecast_text or 0):
            raise BadRequest(
                "Parameter 'past_days' is mutually exclusive with 'start_date' and 'end_date'"
            )
        start, end = _date(start_text, "start_date"), _date(end_text, "end_date")
        first_allowed = endpoint.first_date or today - timedelta(days=endpoint.max_past_days)
        for name, value in (("start_date", start), ("end_date", end)):
            if not first_allowed <= value <= latest:
                raise BadRequest(
                    f"Parameter '{name}' is out of allowed range from {first_allowed} to {latest}"
                )
        if end < start:
            raise BadRequest("End-date must be larger or equals than start-date")
        first_local = datetime.combine(start, datetime.min.time())
        last_local = datetime.combine(end, datetime.min.time()) + timedelta(hours=23)
    elif start_hour or end_hour:
        if not (start_hour and end_hour):
            raise BadRequest("Both 'start_hour' and 'end_hour' must be set")
        try:
            first_local = datetime.fromisoformat(start_hour)
            last_local = datetime.fromisoformat(end_hour)
        except ValueError as error:
            raise BadRequest("Invalid date format. Make sure to use 'YYYY-MM-DDTHH:MM'") from error
        if last_local < first_local:
            raise BadRequest("End-date must be larger or equals than start-date")
    else:
        past = _int(past_text, "past_days", 0, 0, endpoint.max_past_days, "Past days")
        forecast = _int(
            forecast_text,
            "forecast_days",
            endpoint.default_forecast_days,
            0,
            endpoint.max_forecast_days,
            "Forecast days",
        )
        first_local = datetime.combine(today - timedelta(days=past), datetime.min.time())
        last_local = datetime.combine(
            today + timedelta(days=forecast), datetime.min.time()
        ) - timedelta(hours=1)

    # Like the real API, one offset serves the whole response.
    offset = int(zone.utcoffset(first_local).total_seconds())
    epoch = datetime(1970, 1, 1)  # noqa: DTZ001 - local wall-clock times, offset applied below
    first_hour = int((first_local - epoch).total_seconds() - offset) // 3600
    last_hour = int((last_local - epoch).total_seconds() - offset) // 3600
    days = max(1, (last_hour - first_hour + 1) // 24)
    if request_weight(len(variables), days, len(latitudes)) > MAX_WEIGHT:
        raise BadRequest(
            "Your API call requests too much data. Please reduce the number of locations, "
            "variables or time interval."
        )
    return Query(
        latitudes,
        longitudes,
        variables,
        tz_name,
        timeformat == "unixtime",
        first_hour,
        last_hour,
        offset,
        fmt,
    )


class StandIn(BackgroundServer):
    """The stand-in server: start it on loopback, point ``AIRSICK_OPEN_METEO_URL`` at it."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        replay: Replay | None = None,
        now: datetime | None = None,
    ) -> None:
        self.simulator = Simulator()
        self.replay = replay
        self.control = Control(now=now)
        super().__init__(host, port, _handler(self))

    # The answer, separated from HTTP so it can be tested directly.
    def answer(
        self, params: dict[str, list[str]], endpoint: Endpoint = AIR_QUALITY
    ) -> tuple[int, str, bytes]:
        """Return status, content type and body for one request to ``endpoint``."""
        started = time.perf_counter()
        now = self.control.clock()
        try:
            query = parse_query(params, now, endpoint)
            bodies = [
                self._place(query, lat, lon, index, now, started, endpoint)
                for index, (lat, lon) in enumerate(
                    zip(query.latitudes, query.longitudes, strict=True)
                )
            ]
        except BadRequest as error:
            return _json_error(str(error))
        except LookupError as error:
            return _json_error(str(error))
        if query.fmt == "csv":
            return 200, "text/csv; charset=utf-8", _csv(bodies).encode()
        payload = bodies[0] if len(bodies) == 1 else bodies
        return 200, "application/json; charset=utf-8", _dumps(payload)

    def _place(
        self,
        query: Query,
        lat: float,
        lon: float,
        index: int,
        now: datetime,
        started: float,
        endpoint: Endpoint = AIR_QUALITY,
    ) -> dict[str, Any]:
        if self.replay:
            hours, values = self.replay.hourly(
                lat, lon, query.first_hour, query.last_hour, query.variables
            )
            cell_lat, cell_lon, elevation = self.replay.cell(lat, lon)
        else:
            hours = np.arange(query.first_hour, query.last_hour + 1, dtype=np.int64)
            values = self.simulator.hourly(
                lat, lon, query.first_hour, query.last_hour, query.variables, issued_at=now
            )
            cell_lat, cell_lon = grid_cell(lat, lon)
            elevation = float(round(abs(np.sin(cell_lat * 7.0) * np.cos(cell_lon * 3.0)) * 600))
        if endpoint.lag_days:
            # The archive has not reached its newest days yet: it sends null for them.
            reached = int(now.timestamp() // 3600) - 24 * endpoint.lag_days
            values = {name: np.where(hours > reached, np.nan, v) for name, v in values.items()}
        zone = ZoneInfo("UTC" if query.timezone.upper() in ("GMT", "UTC") else query.timezone)
        if query.unixtime:
            times: list = (hours * 3600).tolist()
        else:
            local = (
                (hours * 3600 + query.utc_offset).astype("datetime64[s]").astype("datetime64[m]")
            )
            times = np.datetime_as_string(local, unit="m").tolist()
        first = datetime.fromtimestamp(query.first_hour * 3600, UTC)
        body: dict[str, Any] = {
            "latitude": cell_lat,
            "longitude": cell_lon,
            "generationtime_ms": round((time.perf_counter() - started) * 1000, 3),
            "utc_offset_seconds": query.utc_offset,
            "timezone": "GMT" if query.timezone.upper() in ("GMT", "UTC") else query.timezone,
            "timezone_abbreviation": first.astimezone(zone).tzname() or "GMT",
            "elevation": elevation,
        }
        if index:
            body["location_id"] = index
        body["hourly_units"] = {
            "time": "unixtime" if query.unixtime else "iso8601",
            **{name: UNITS.get(name, "μg/m³") for name in query.variables},
        }
        body["hourly"] = {"time": times}
        for name in query.variables:
            body["hourly"][name] = _json_numbers(values[name], integer=name.endswith("_aqi"))
        return body


def _json_numbers(column: np.ndarray, integer: bool = False) -> list:
    """A column as JSON numbers, NaN as null (whole numbers for the AQI, as the API sends)."""
    missing = np.isnan(column)
    filled = np.where(missing, 0, column)
    out = (filled.astype(np.int64) if integer else filled.astype(float)).tolist()
    for index in np.flatnonzero(missing).tolist():
        out[index] = None
    return out


def _dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as the API sends it (orjson: six times faster than json here)."""
    return orjson.dumps(payload)


def _json_error(reason: str) -> tuple[int, str, bytes]:
    return 400, "application/json; charset=utf-8", _dumps({"error": True, "reason": reason})


def _csv(bodies: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for body in bodies:
        meta = [
            "latitude",
            "longitude",
            "elevation",
            "utc_offset_seconds",
            "timezone",
            "timezone_abbreviation",
        ]
        writer.writerow(meta)
        writer.writerow([body.get(key) for key in meta])
        out.write("\n")
        names = [n for n in body["hourly"] if n != "time"]
        units = body["hourly_units"]
        writer.writerow(["time"] + [f"{n} ({units[n]})" if units[n] else n for n in names])
        for i, t in enumerate(body["hourly"]["time"]):
            row = [body["hourly"][n][i] for n in names]
            writer.writerow([t] + ["NaN" if v is None else v for v in row])
    return out.getvalue()


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    control = standin.control

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "airsick-open-meteo-standin"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            control.counts[f"status_{status}"] += 1

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            self._route(split.path, parse_qs(split.query))

        def do_POST(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            if split.path.startswith("/_standin/"):
                self._control(split.path, json.loads(raw or "{}"))
                return
            params = parse_qs(split.query)
            params.update(parse_qs(raw))
            self._route(split.path, params)

        def _route(self, path: str, params: dict[str, list[str]]) -> None:
            if path == "/_standin/health":
                self._send(200, "application/json", b'{"status":"ok"}')
                return
            if path == "/_standin/stats":
                self._send(200, "application/json", _dumps(dict(control.counts)))
                return
            endpoint = ENDPOINTS.get(path)
            if endpoint is None:
                self._send(404, "application/json", _dumps({"error": True, "reason": "Not Found"}))
                return
            fault = control.next_fault()
            if fault == "429":
                reason = "Minutely API request limit exceeded. Please try again in one minute."
                self._send(429, "application/json", _dumps({"error": True, "reason": reason}))
                return
            if fault == "429-hourly":
                reason = "Hourly API request limit exceeded. Please try again in the next hour."
                self._send(429, "application/json", _dumps({"error": True, "reason": reason}))
                return
            if fault == "503":
                self._send(503, "text/html", b"<html><body>503 Service Unavailable</body></html>")
                return
            if fault == "garbage":
                self._send(
                    200, "application/json", b'{"hello": "this is not an air-quality answer"}'
                )
                return
            if fault == "slow":
                time.sleep(control.slow_seconds)
            status, content_type, body = standin.answer(params, endpoint)
            if fault == "truncated":
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                control.counts["truncated"] += 1
                return
            self._send(status, content_type, body)

        def _control(self, path: str, body: dict[str, Any]) -> None:
            if path == "/_standin/faults":
                unknown = [f for f in body.get("faults", []) if f not in FAULTS]
                if unknown:
                    self._send(
                        400,
                        "application/json",
                        _dumps({"error": True, "reason": f"unknown faults {unknown}"}),
                    )
                    return
                with control.lock:
                    control.faults.extend(body.get("faults", []))
                    if "slow_seconds" in body:
                        control.slow_seconds = float(body["slow_seconds"])
            elif path == "/_standin/clock":
                control.now = datetime.fromisoformat(body["now"]) if body.get("now") else None
            elif path == "/_standin/reset":
                with control.lock:
                    control.faults.clear()
                    control.counts.clear()
            else:
                self._send(404, "application/json", b'{"error":true,"reason":"Not Found"}')
                return
            self._send(200, "application/json", b'{"ok":true}')

    return Handler
