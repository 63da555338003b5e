"""The optional parts of a checkout: the offline stand-in (with the demo persona) and the app.

A checkout's ``uv sync`` installs both; the images leave them out (the orchestration image
has no ``offline`` or ``app`` extra), so the commands that need them import them here and
say in one sentence what to install when they are missing.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator

import httpx
from airsick_core.http import PortTakenError, port_free
from airsick_core.settings import Settings


class NotInstalledError(RuntimeError):
    """An optional part (the offline stand-in and demo persona, the app) is not installed here."""


def _optional(package: str, module: str, missing: str):
    try:
        return importlib.import_module(f"{package}.{module}")
    except ModuleNotFoundError as error:
        raise NotInstalledError(missing) from error


def offline(module: str):
    """Import ``airsick_standin.<module>``: the demo and the stand-in need it."""
    return _optional(
        "airsick_standin",
        module,
        "The offline stand-in and the demo persona are not installed here; install "
        "airsick-orchestration[offline] (a checkout's `uv sync` does), or use the real API.",
    )


def notebooks(module: str):
    """Import ``airsick_notebooks.<module>``: ``airsick app`` and ``explore`` need it."""
    return _optional(
        "airsick_notebooks",
        module,
        "The app is not installed here; install airsick-orchestration[app] (a checkout's "
        "`uv sync` does), or run `airsick-app` from the app's own image.",
    )


def standin_healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_standin/health", timeout=1).is_success
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def standin_serving(settings: Settings) -> Iterator[Settings]:
    """Make sure a stand-in answers; yield settings pointing at it, unpaced.

    One already running at the configured port is reused; otherwise one is started for the
    duration (port 0 picks a free port).
    """

    def pointing_at(url: str) -> Settings:
        return settings.model_copy(update={"open_meteo_url": url, "open_meteo_calls_per_minute": 0})

    if settings.standin_port and standin_healthy(settings.standin_url):
        yield pointing_at(settings.standin_url)
        return
    if settings.standin_port and not port_free(settings.standin_host, settings.standin_port):
        raise PortTakenError(
            f"Port {settings.standin_port} is taken by another program; "
            "set AIRSICK_STANDIN_PORT to a free one."
        )
    with offline("server").StandIn(settings.standin_host, settings.standin_port) as server:
        yield pointing_at(server.url)
