"""Serve the app: ``airsick-app`` (the app image's command) and ``airsick app`` both run this.

The app writes health data, so each person signs in with their own password
(``airsick person password``, ``airsick_notebooks.server``) and sees only their own; a
home where nobody has a password is served on this machine only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from airsick_core.http import port_free
from airsick_core.settings import Settings, UnknownSettingError
from pydantic import ValidationError

from airsick_notebooks import EXPLORE

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class AppError(Exception):
    """The app cannot start as asked; the message says what to do."""


def check(settings: Settings, host: str, port: int) -> None:
    """Raise AppError, in one sentence, when the app cannot be served as asked."""
    from airsick_notebooks.server import Doorkeeper

    if not 1 <= port <= 65535:
        raise AppError(f"Port {port} is not a port; pass one from 1 to 65535.")
    if not port_free(host, port):
        raise AppError(
            f"Port {port} is taken by another program; pass --port or set AIRSICK_APP_PORT."
        )
    if host not in LOOPBACK and Doorkeeper(settings).open:
        raise AppError(
            f"The app writes health data: give each person a password (`airsick person "
            f"password NAME`) or set AIRSICK_APP_PASSWORD before serving it on {host}."
        )


def serve(settings: Settings, host: str, port: int) -> None:
    """Check, then serve the app until stopped (``airsick_notebooks.server``)."""
    from airsick_notebooks import server

    check(settings, host, port)
    server.run(settings, host, port)


def explore_command(port: int) -> list[str]:
    """The ``marimo edit`` command line for the exploration notebook, on loopback only."""
    if not port_free("127.0.0.1", port):
        raise AppError(f"Port {port} is taken by another program; pass --port.")
    marimo = str(Path(sys.executable).parent / "marimo")
    return [marimo, "edit", str(EXPLORE), "--headless", "--host", "127.0.0.1", "--port", str(port)]


def main(argv: list[str] | None = None) -> None:
    """``airsick-app``: serve the marimo app until stopped."""
    parser = argparse.ArgumentParser(
        prog="airsick-app",
        description="Serve airsick's app in the browser: tomorrow's risk and why, the "
        "forecast, the diary and how the model has done (marimo, read-only), each person "
        "signed in to their own. Settings come from AIRSICK_* variables and .env, as for "
        "the airsick command.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address (0.0.0.0 only inside a container)"
    )
    parser.add_argument("--port", type=int, default=None, help="port (default AIRSICK_APP_PORT)")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        port = settings.app_port if args.port is None else args.port
        check(settings, args.host, port)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]).upper()
        parser.exit(2, f"airsick-app: setting {where} is not valid ({first['msg']}); fix it.\n")
    except (AppError, UnknownSettingError) as error:
        parser.exit(2, f"airsick-app: {error}\n")
    from airsick_notebooks import server

    server.run(settings, args.host, port)


if __name__ == "__main__":
    main()
