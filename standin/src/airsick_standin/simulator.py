"""A deterministic simulator of Open-Meteo's hourly air quality.

Same coordinates and hour, same value, whatever window is asked for: every random number
is a hash of (place, variable, component, time index), never the state of a generator.
Each pollutant is built in log space from:

- a level that depends on the place's climate (arid dust belt, Europe, elsewhere),
- a seasonal cycle, a daily cycle in local solar time, and a weekday/weekend cycle,
- persistence: smooth noise at three time scales (days to weeks, ~2 days, hours), part of it
  shared between pollutants so that stagnant days are bad for all of them,
- episodes: dust outbreaks (Saharan/Arabian), winter smog, and pollen seasons in Europe.

The European and US AQIs are computed from the simulated pollutants with their official
breakpoints and averaging windows. Hours after ``issued_at`` are a forecast: the truth
plus an error that grows with lead time and is drawn anew for every issue day, so a
forecast hour is revised from one day to the next and becomes the truth once past.

The numbers are calibrated against real Open-Meteo series (``docs/standin-calibration.md``,
written by ``airsick standin --calibrate``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from airsick_core.names import POLLENS

# Variables the stand-in can answer, in addition to airsick's own, with their decimals.
DECIMALS = {
    "pm10": 1,
    "pm2_5": 1,
    "carbon_monoxide": 0,
    "nitrogen_dioxide": 1,
    "sulphur_dioxide": 1,
    "ozone": 1,
    "dust": 1,
    "aerosol_optical_depth": 2,
    "uv_index": 2,
    "uv_index_clear_sky": 2,
    "ammonia": 1,
    "european_aqi": 0,
    "us_aqi": 0,
    "alder_pollen": 1,
    "birch_pollen": 1,
    "grass_pollen": 1,
    "mugwort_pollen": 1,
    "olive_pollen": 1,
    "ragweed_pollen": 1,
}
EUROPE_ONLY = frozenset({"ammonia", *POLLENS})
GLOBAL_ONLY = frozenset({"uv_index_clear_sky"})
# The weather the stand-in answers on /v1/archive and /v1/forecast, with its decimals.
WEATHER_DECIMALS = {
    "temperature_2m": 1,
    "relative_humidity_2m": 0,
    "precipitation": 1,
    "wind_speed_10m": 1,
}

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class Pollutant:
    """How one pollutant behaves, in log space around its median level."""

    median: float
    log_sd: float
    season_amplitude: float  # log amplitude of the yearly cycle
    season_peak_doy: int
    diurnal: str  # "traffic", "afternoon", "night", "flat"
    diurnal_amplitude: float
    weekend_drop: float  # fraction lost on Saturdays and Sundays
    shared: float  # share of the noise that is common to all pollutants (stagnation)


# Calibrated on Berlin (2023) and Vigo (2024) from Open-Meteo's CAMS Europe series.
EUROPE = {
    "pm10": Pollutant(11.0, 0.50, 0.20, 30, "traffic", 0.10, 0.05, 0.8),
    "pm2_5": Pollutant(8.0, 0.55, 0.25, 20, "traffic", 0.10, 0.05, 0.85),
    "carbon_monoxide": Pollutant(160.0, 0.25, 0.10, 15, "traffic", 0.12, 0.08, 0.7),
    "nitrogen_dioxide": Pollutant(10.5, 0.70, 0.25, 10, "traffic", 0.35, 0.25, 0.6),
    "sulphur_dioxide": Pollutant(1.4, 0.60, 0.15, 20, "flat", 0.05, 0.10, 0.5),
    "ozone": Pollutant(58.0, 0.27, 0.25, 170, "afternoon", 0.25, -0.05, -0.5),
    "ammonia": Pollutant(6.0, 0.70, 0.40, 100, "afternoon", 0.15, 0.0, 0.4),
}
# Calibrated on Riyadh (2023-2026) from Open-Meteo's CAMS global series: a desert city whose
# particulate matter is mostly dust, with storms above 3,000 μg/m³.
ARID = {
    "pm10": Pollutant(520.0, 0.95, 0.25, 150, "afternoon", 0.10, 0.0, 0.9),
    "pm2_5": Pollutant(55.0, 0.80, 0.20, 150, "afternoon", 0.08, 0.0, 0.9),
    "carbon_monoxide": Pollutant(190.0, 0.35, 0.10, 15, "traffic", 0.15, 0.10, 0.6),
    "nitrogen_dioxide": Pollutant(14.0, 0.70, 0.10, 15, "traffic", 0.35, 0.15, 0.6),
    "sulphur_dioxide": Pollutant(6.0, 0.70, 0.10, 200, "flat", 0.05, 0.05, 0.5),
    "ozone": Pollutant(75.0, 0.35, 0.20, 170, "afternoon", 0.30, -0.05, -0.5),
    "ammonia": Pollutant(4.0, 0.60, 0.20, 150, "flat", 0.10, 0.0, 0.4),
}
ELSEWHERE = {
    **EUROPE,
    "pm10": Pollutant(18.0, 0.55, 0.20, 30, "traffic", 0.10, 0.05, 0.8),
    "pm2_5": Pollutant(11.0, 0.60, 0.25, 20, "traffic", 0.10, 0.05, 0.85),
}
# Calibrated on Chennai (2024-2025) from Open-Meteo's CAMS global series: the tropics outside
# the dust belt, more particulate matter and SO2 than Europe, ozone higher, winter haze.
TROPICS = {
    **ELSEWHERE,
    "pm10": Pollutant(27.0, 0.50, 0.30, 20, "traffic", 0.10, 0.03, 0.8),
    "pm2_5": Pollutant(18.5, 0.55, 0.35, 20, "traffic", 0.10, 0.03, 0.85),
    "nitrogen_dioxide": Pollutant(6.7, 0.70, 0.25, 10, "traffic", 0.35, 0.15, 0.6),
    "sulphur_dioxide": Pollutant(6.6, 0.60, 0.15, 20, "flat", 0.05, 0.05, 0.5),
    "ozone": Pollutant(80.0, 0.35, 0.25, 60, "afternoon", 0.30, -0.05, -0.5),
}

# Pollen seasons (Europe only): peak day of year, width in days, peak grains/m³.
POLLEN_SEASONS = {
    "alder_pollen": (55, 14, 60.0),
    "birch_pollen": (110, 9, 250.0),
    "grass_pollen": (160, 22, 60.0),
    "olive_pollen": (140, 10, 120.0),
    "mugwort_pollen": (222, 11, 15.0),
    "ragweed_pollen": (245, 11, 25.0),
}

# Official breakpoints: concentration edges and index edges.
EAQI_BANDS = (0, 20, 40, 60, 80, 100, 120)
EAQI = {
    "pm2_5": (0, 10, 20, 25, 50, 75, 800),
    "pm10": (0, 20, 40, 50, 100, 150, 1200),
    "nitrogen_dioxide": (0, 40, 90, 120, 230, 340, 1000),
    "ozone": (0, 50, 100, 130, 240, 380, 800),
    "sulphur_dioxide": (0, 100, 200, 350, 500, 750, 1250),
}
USAQI_BANDS = (0, 50, 100, 150, 200, 300, 500)
# US AQI edges in μg/m³ (gases converted from ppb/ppm at 25 °C).
USAQI = {
    "pm2_5": (0, 12.0, 35.4, 55.4, 150.4, 250.4, 500.4),
    "pm10": (0, 54, 154, 254, 354, 424, 604),
    "ozone": tuple(x * 1.96 for x in (0, 54, 70, 85, 105, 200, 400)),
    "nitrogen_dioxide": tuple(x * 1.88 for x in (0, 53, 100, 360, 649, 1249, 2049)),
    "sulphur_dioxide": tuple(x * 2.62 for x in (0, 35, 75, 185, 304, 604, 1004)),
    "carbon_monoxide": tuple(x * 1145 for x in (0, 4.4, 9.4, 12.4, 15.4, 30.4, 50.4)),
}
# Averaging windows in hours (Open-Meteo's documentation of both indices).
EAQI_HOURS = {"pm2_5": 24, "pm10": 24, "nitrogen_dioxide": 1, "ozone": 1, "sulphur_dioxide": 1}
USAQI_HOURS = {
    "pm2_5": 24,
    "pm10": 24,
    "ozone": 8,
    "nitrogen_dioxide": 1,
    "sulphur_dioxide": 1,
    "carbon_monoxide": 8,
}
_WARMUP_HOURS = 24  # rolling means need the day before the first hour asked for

FORECAST_LOG_SD_PER_DAY = 0.12


def in_europe(latitude: float, longitude: float) -> bool:
    """Return whether CAMS Europe covers the point (pollen and ammonia exist there only)."""
    return 30.0 <= latitude <= 72.0 and -25.0 <= longitude <= 45.0


def dust_belt(latitude: float, longitude: float) -> float:
    """Return 0..1: how much the point lies in the Saharan-Arabian dust belt."""
    lat_weight = math.exp(-(((latitude - 23.0) / 8.0) ** 2))
    lon_weight = 1.0 / (1.0 + math.exp(-(longitude + 15.0))) / (1.0 + math.exp(longitude - 60.0))
    return lat_weight * lon_weight


def grid_cell(latitude: float, longitude: float) -> tuple[float, float]:
    """Return the centre of the model grid cell, as the API does (float32 noise included)."""
    step = 0.1 if in_europe(latitude, longitude) else 0.4
    lat = float(np.float32(round(latitude / step) * step))
    lon = float(np.float32(round(longitude / step) * step))
    return lat, lon


def named_seed(*parts: object) -> np.uint64:
    """A stable 64-bit seed named by ``parts`` (a place's cell, a variable, a purpose): the
    same parts give the same draws on every machine and in every run."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return x ^ (x >> np.uint64(31))


def uniform(seed: np.uint64, index: np.ndarray) -> np.ndarray:
    """Return one uniform in (0, 1) per integer index, fixed by ``seed``."""
    with np.errstate(over="ignore"):
        mixed = _splitmix(index.astype(np.int64).view(np.uint64) ^ seed)
    return ((mixed >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def normal(seed: np.uint64, index: np.ndarray) -> np.ndarray:
    """Return one standard normal per integer index, fixed by ``seed`` (Box-Muller)."""
    u1 = uniform(seed, index * 2)
    u2 = uniform(seed, index * 2 + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def smooth_noise(seed: np.uint64, hours: np.ndarray, spacing: int) -> np.ndarray:
    """Return unit-scale noise that varies smoothly over ``spacing`` hours."""
    knot = np.floor_divide(hours, spacing)
    frac = (hours - knot * spacing) / spacing
    weight = frac * frac * (3.0 - 2.0 * frac)
    if not knot.size:
        return np.zeros(0)
    # One draw per knot (not per hour): the same numbers, `spacing` times fewer draws.
    first = int(knot.min())
    knots = normal(seed, np.arange(first, int(knot.max()) + 2))
    left, right = knots[knot - first], knots[knot - first + 1]
    # Rescale so the variance is one between knots as well as on them.
    return (left * (1 - weight) + right * weight) / np.sqrt((1 - weight) ** 2 + weight**2)


def persistent_noise(seed_parts: tuple, hours: np.ndarray) -> np.ndarray:
    """Mix three time scales so that the autocorrelation at 1 h, 24 h and 1 week is realistic."""
    slow = smooth_noise(named_seed(*seed_parts, "slow"), hours, 400)
    synoptic = smooth_noise(named_seed(*seed_parts, "synoptic"), hours, 40)
    fast = smooth_noise(named_seed(*seed_parts, "fast"), hours, 7)
    return math.sqrt(0.4) * slow + math.sqrt(0.45) * synoptic + math.sqrt(0.15) * fast


def _bumps(
    seed_parts: tuple,
    hours: np.ndarray,
    block: int,
    probability: np.ndarray | float,
    min_hours: int,
    max_hours: int,
) -> np.ndarray:
    """Return 0..1 episode shapes: at most one episode per ``block`` hours, at random."""
    out = np.zeros(hours.shape)
    first, last = int(hours.min()) // block - 1, int(hours.max()) // block + 1
    blocks = np.arange(first, last + 1)
    happens = uniform(named_seed(*seed_parts, "happens"), blocks) < probability
    starts = blocks * block + (uniform(named_seed(*seed_parts, "start"), blocks) * block).astype(
        int
    )
    spans = min_hours + (uniform(named_seed(*seed_parts, "span"), blocks) * (max_hours - min_hours))
    for start, span in zip(starts[happens], spans[happens], strict=True):
        inside = (hours >= start) & (hours < start + span)
        if inside.any():
            out[inside] = np.maximum(
                out[inside], np.sin(np.pi * (hours[inside] - start) / span) ** 2
            )
    return out


def _diurnal(shape: str, solar_hour: np.ndarray) -> np.ndarray:
    if shape == "traffic":
        return (
            np.exp(-(((solar_hour - 8) / 2) ** 2))
            + 0.8 * np.exp(-(((solar_hour - 19) / 2.5) ** 2))
            - 0.45
        )
    if shape == "afternoon":
        return np.cos(2 * np.pi * (solar_hour - 15) / 24)
    if shape == "night":
        return -np.cos(2 * np.pi * (solar_hour - 15) / 24)
    return np.zeros_like(solar_hour)


def _rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    if window == 1:
        return values
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    out = np.empty_like(values)
    out[window - 1 :] = (cumulative[window:] - cumulative[:-window]) / window
    for i in range(min(window - 1, len(values))):
        out[i] = cumulative[i + 1] / (i + 1)
    return out


def _index(values: np.ndarray, edges: tuple, bands: tuple) -> np.ndarray:
    return np.interp(values, edges, bands, right=bands[-1])


@dataclass(frozen=True)
class Simulator:
    """Simulated hourly air quality for any point on Earth."""

    def hourly(
        self,
        latitude: float,
        longitude: float,
        first_hour: int,
        last_hour: int,
        variables: tuple[str, ...] | list[str],
        issued_at: datetime | None = None,
    ) -> dict[str, np.ndarray]:
        """Return each variable for UTC hours ``first_hour..last_hour`` (hours since 1970).

        Values are rounded as the API rounds them; ``NaN`` stands for the API's ``null``.
        Hours after ``issued_at`` are forecasts issued on that day.
        """
        hours = np.arange(first_hour - _WARMUP_HOURS, last_hour + 1, dtype=np.int64)
        cell = grid_cell(latitude, longitude)
        if set(variables) <= set(WEATHER_DECIMALS):
            weather = _weather(cell, hours[_WARMUP_HOURS:], issued_at)
            return {name: np.round(weather[name], WEATHER_DECIMALS[name]) for name in variables}
        pollutants = self._pollutants(cell, hours, issued_at)
        europe = in_europe(latitude, longitude)
        out: dict[str, np.ndarray] = {}
        for name in variables:
            if (name in EUROPE_ONLY and not europe) or (name in GLOBAL_ONLY and europe):
                values = np.full(hours.shape, np.nan)
            elif name in pollutants:
                values = pollutants[name]
            elif name == "european_aqi":
                values = self._aqi(pollutants, EAQI, EAQI_HOURS, EAQI_BANDS)
            elif name == "us_aqi":
                values = self._aqi(pollutants, USAQI, USAQI_HOURS, USAQI_BANDS)
            elif name in ("uv_index", "uv_index_clear_sky"):
                values = self._uv(cell, hours, cloudy=name == "uv_index")
            elif name == "aerosol_optical_depth":
                values = 0.05 + pollutants["pm2_5"] / 150 + pollutants["dust"] / 900
            elif name in POLLEN_SEASONS:
                values = self._pollen(name, cell, hours)
            else:
                raise KeyError(name)
            out[name] = np.where(
                _gaps(cell, name, hours)[_WARMUP_HOURS:],
                np.nan,
                np.round(values[_WARMUP_HOURS:], DECIMALS[name]),
            )
        return out

    def _pollutants(
        self, cell: tuple[float, float], hours: np.ndarray, issued_at: datetime | None
    ) -> dict[str, np.ndarray]:
        lat, lon = cell
        arid = dust_belt(lat, lon)
        europe = in_europe(lat, lon)
        base = EUROPE if europe else (TROPICS if abs(lat) < 23.5 else ELSEWHERE)
        solar_hour = (hours % 24 + lon / 15.0) % 24
        local_day = np.floor_divide(hours + round(lon / 15.0), 24)
        weekend = ((local_day + 3) % 7) >= 5  # 1970-01-01 was a Thursday
        doy = _day_of_year(local_day)
        shared = persistent_noise((cell, "stagnation"), hours)
        # Winter smog: stagnant spells more likely in the cold months of the hemisphere.
        winter = np.cos(2 * np.pi * (doy - (15 if lat >= 0 else 196)) / 365.25) > 0.3
        smog = _bumps((cell, "smog"), hours, 240, 0.45, 36, 120) * winter
        dust_prob = 0.10 + 0.75 * arid
        dust_event = _bumps((cell, "dust"), hours, 240, dust_prob, 12, 72)
        dust_peak = np.exp(
            np.log(20 + 2000 * arid) + 0.5 * normal(named_seed(cell, "dust-size"), hours // 240)
        )
        forecast_error = _forecast_error(cell, hours, issued_at)

        out: dict[str, np.ndarray] = {}
        for name in EUROPE:
            p_eu, p_arid = base[name], ARID[name]
            median = math.exp((1 - arid) * math.log(p_eu.median) + arid * math.log(p_arid.median))
            spec = p_arid if arid > 0.5 else p_eu
            # The seasons turn by half a year south of the equator (Sydney's winter is July).
            season_peak = spec.season_peak_doy + (0.0 if lat >= 0 else 365.25 / 2)
            own = persistent_noise((cell, name), hours)
            mix = spec.shared
            noise = mix * shared + math.sqrt(1 - mix * mix) * own
            log_value = (
                math.log(median)
                + spec.season_amplitude * np.cos(2 * np.pi * (doy - season_peak) / 365.25)
                + spec.diurnal_amplitude * _diurnal(spec.diurnal, solar_hour)
                + np.log1p(-spec.weekend_drop * weekend)
                + spec.log_sd * noise
            )
            if name in ("pm10", "pm2_5", "nitrogen_dioxide", "carbon_monoxide"):
                log_value = log_value + 0.8 * smog
            out[name] = np.exp(log_value + forecast_error.get(name, 0.0))
        background_dust = (
            out["pm10"] * 0.55 * arid
            + 0.3 * np.exp(persistent_noise((cell, "dust-bg"), hours))
            - 0.3 * (1 - arid)
        )
        dust = np.maximum(0.0, background_dust) + dust_event * dust_peak
        out["dust"] = _saturate(dust * np.exp(forecast_error.get("dust", 0.0)), DUST_CEILING)
        pm10 = out["pm10"] + (0.9 * dust_event * dust_peak) * (1 - 0.5 * arid)
        pm2_5 = out["pm2_5"] + 0.22 * dust_event * dust_peak * (1 - 0.5 * arid)
        out["pm10"] = _saturate(pm10, PM10_CEILING)
        out["pm2_5"] = _saturate(pm2_5, PM2_5_CEILING)
        return out

    @staticmethod
    def _aqi(pollutants: dict, edges: dict, hours: dict, bands: tuple) -> np.ndarray:
        parts = [
            _index(_rolling_mean(pollutants[name], hours[name]), edges[name], bands)
            for name in edges
        ]
        return np.max(parts, axis=0)

    @staticmethod
    def _uv(cell: tuple[float, float], hours: np.ndarray, cloudy: bool) -> np.ndarray:
        lat, lon = cell
        day = np.floor_divide(hours, 24)
        doy = _day_of_year(day)
        declination = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
        solar_hour = (hours % 24 + lon / 15.0) % 24
        angle = np.radians(15.0 * (solar_hour - 12.0))
        phi = np.radians(lat)
        sin_elevation = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(
            declination
        ) * np.cos(angle)
        clear = 12.5 * np.clip(sin_elevation, 0, None) ** 2.4
        if not cloudy:
            return clear
        clouds = 0.35 + 0.65 * uniform(named_seed(cell, "clouds"), day) ** 0.5
        return clear * clouds

    @staticmethod
    def _pollen(name: str, cell: tuple[float, float], hours: np.ndarray) -> np.ndarray:
        lat, lon = cell
        peak_doy, width, peak = POLLEN_SEASONS[name]
        if name == "olive_pollen":  # Mediterranean
            peak *= 1.0 / (1.0 + math.exp((lat - 44.0) * 1.5))
        if name == "ragweed_pollen":  # Pannonian basin and eastward
            peak *= 1.0 / (1.0 + math.exp(-(lon - 12.0) * 0.5))
        shift = (lat - 45.0) * 1.2  # seasons come later further north
        day = np.floor_divide(hours, 24)
        doy = _day_of_year(day)
        season = np.exp(-0.5 * ((doy - peak_doy - shift) / width) ** 2)
        day_factor = np.exp(0.8 * normal(named_seed(cell, name, "day"), day))
        rain = uniform(named_seed(cell, "rain"), day) < 0.25
        solar_hour = (hours % 24 + lon / 15.0) % 24
        diurnal = 0.6 + 0.4 * np.cos(2 * np.pi * (solar_hour - 13) / 24)
        values = peak * season * day_factor * diurnal * np.where(rain, 0.15, 1.0)
        return np.where(values < 0.05, 0.0, values)


# CAMS tops out in the worst Arabian dust storms: the Riyadh recording's PM10 never passes
# 3,271 μg/m³ (99th percentile 3,114) nor its PM2.5 624. Storms approach these ceilings
# smoothly instead of reaching the 10,000+ a log-normal tail would give.
PM10_CEILING = 3400.0
PM2_5_CEILING = 680.0
DUST_CEILING = 3100.0


# The API sends null where its model has no value: about 2 hours in 1,000 of a variable
# (the Riyadh recording: 51 of 26,304 PM10 hours) and now and then a whole UTC day of
# every variable (an outage). Deterministic like everything else here.
NULL_HOUR_RATE = 0.002
NULL_DAY_RATE = 0.002


def _gaps(cell: tuple[float, float], name: str, hours: np.ndarray) -> np.ndarray:
    """Return where the API would send null: scattered hours of one variable, whole days."""
    hour_gap = uniform(named_seed(cell, name, "null-hour"), hours) < NULL_HOUR_RATE
    day_gap = uniform(named_seed(cell, "null-day"), hours // 24) < NULL_DAY_RATE
    return hour_gap | day_gap


def _saturate(values: np.ndarray, ceiling: float) -> np.ndarray:
    """Leave values well under ``ceiling`` as they are; bend larger ones towards it."""
    return values / (1.0 + (values / ceiling) ** 4) ** 0.25


def _day_of_year(day_index: np.ndarray) -> np.ndarray:
    dates = day_index.astype("datetime64[D]")
    return (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1


def _forecast_error(
    cell: tuple[float, float], hours: np.ndarray, issued_at: datetime | None
) -> dict[str, np.ndarray]:
    if issued_at is None:
        return {}
    issue_hour = int(issued_at.astimezone(UTC).timestamp() // 3600)
    lead_days = np.clip((hours - issue_hour) / 24.0, 0.0, None)
    if not lead_days.any():
        return {}
    issue_day = issue_hour // 24
    errors = {}
    for name in (*EUROPE, "dust"):
        drift = persistent_noise((cell, name, "forecast", issue_day), hours)
        errors[name] = FORECAST_LOG_SD_PER_DAY * np.sqrt(lead_days) * drift
    return errors


def _weather(
    cell: tuple[float, float], hours: np.ndarray, issued_at: datetime | None
) -> dict[str, np.ndarray]:
    """Hourly weather: temperature, humidity, rain and wind, deterministic like the air.

    Temperature is a yearly cycle (its mean and amplitude set by latitude and the dust belt),
    a daily cycle peaking mid-afternoon solar time, and weather systems lasting days.
    Calibrated on the Riyadh ERA5 recording (annual mean 27.9 °C, monthly means 16.0 to
    36.5, daily range 11.5, day-to-day anomaly sd 2.2 with lag-1 autocorrelation 0.72,
    humidity 25 %, wind 10 km/h); elsewhere it follows latitude and is uncalibrated.
    Forecast hours carry an error growing with lead time, drawn anew per issue day.
    """
    lat, lon = cell
    arid = dust_belt(lat, lon)
    solar_hour = (hours % 24 + lon / 15.0) % 24
    day = np.floor_divide(hours + round(lon / 15.0), 24)
    doy = _day_of_year(day)
    peak = 200.0 if lat >= 0 else 200.0 - 365.25 / 2
    season = np.cos(2 * np.pi * (doy - peak) / 365.25)
    mean = 28.0 - 0.45 * max(0.0, abs(lat) - 15.0) + 4.5 * arid
    amplitude = 1.5 + 0.15 * abs(lat) + 5.0 * arid
    diurnal = np.cos(2 * np.pi * (solar_hour - 15) / 24)
    systems = smooth_noise(named_seed(cell, "weather-systems"), hours, 60)
    error = {}
    if issued_at is not None:
        issue_hour = int(issued_at.astimezone(UTC).timestamp() // 3600)
        lead = np.sqrt(np.clip((hours - issue_hour) / 24.0, 0.0, None))
        for name in WEATHER_DECIMALS:
            drift = persistent_noise((cell, name, "forecast", issue_hour // 24), hours)
            error[name] = lead * drift
    temperature = (
        mean
        + amplitude * season
        + (4.0 + 2.0 * arid) * diurnal
        + 2.2 * systems
        + 1.0 * error.get("temperature_2m", 0.0)
    )
    wet = np.clip(0.3 * (1 - arid) + 0.03, 0.0, 1.0)
    rainy_day = uniform(named_seed(cell, "rain"), day) < wet * (1.0 - 0.3 * season * (lat >= 0))
    showers = uniform(named_seed(cell, "rain-hour"), hours) < 0.3
    amount = -np.log(uniform(named_seed(cell, "rain-amount"), hours)) * 1.2
    precipitation = np.where(rainy_day & showers, amount, 0.0) * np.exp(
        0.3 * error.get("precipitation", 0.0)
    )
    humidity = np.clip(
        (75.0 - 50.0 * arid)
        - 10.0 * diurnal
        - (6.0 + 6.0 * arid) * season
        - 4.0 * systems
        + 15.0 * rainy_day
        + 5.0 * error.get("relative_humidity_2m", 0.0),
        3.0,
        100.0,
    )
    wind = (
        10.0
        * np.exp(0.4 * persistent_noise((cell, "wind"), hours) + 0.15 * diurnal)
        * np.exp(0.1 * error.get("wind_speed_10m", 0.0))
    )
    return {
        "temperature_2m": temperature,
        "relative_humidity_2m": humidity,
        "precipitation": precipitation,
        "wind_speed_10m": wind,
    }
