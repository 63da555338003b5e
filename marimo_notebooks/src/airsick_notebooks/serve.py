"""Serve the app: ``airsick-app`` (the app image's command) and ``airsick app`` both run this.

The app writes health data, so it asks for AIRSICK_APP_PASSWORD (marimo's own token login)
and refuses to listen beyond this machine without one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from airsick_core.http import port_free
from airsick_core.settings import Settings, UnknownSettingError
from pydantic import ValidationError

from airsick_notebooks import APP, EXPLORE

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class AppError(Exception):
    """The app cannot start as asked; the message says what to do."""


def marimo_command(settings: Settings, host: str, port: int) -> list[str]:
    """The ``marimo run`` command line that serves the app, after checking it can start.

    The password goes to a file only this user reads, never onto the command line.
    """
    if not 1 <= port <= 65535:
        raise AppError(f"Port {port} is not a port; pass one from 1 to 65535.")
    if not port_free(host, port):
        raise AppError(
            f"Port {port} is taken by another program; pass --port or set AIRSICK_APP_PORT."
        )
    password = settings.app_password.get_secret_value() if settings.app_password else None
    if password is None and host not in LOOPBACK:
        raise AppError(
            f"The app writes health data: set AIRSICK_APP_PASSWORD before serving it on {host}."
        )
    marimo = str(Path(sys.executable).parent / "marimo")
    command = [marimo, "run", str(APP), "--headless", "--host", host, "--port", str(port)]
    if password:
        secret = settings.home / "app" / "password"
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.touch(mode=0o600)
        secret.chmod(0o600)
        secret.write_text(password)
        command += ["--token", "--token-password-file", str(secret)]
    return command


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
        "forecast, the diary and how the model has done (marimo, read-only). Settings come "
        "from AIRSICK_* variables and .env, as for the airsick command.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address (0.0.0.0 only inside a container)"
    )
    parser.add_argument("--port", type=int, default=None, help="port (default AIRSICK_APP_PORT)")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        port = settings.app_port if args.port is None else args.port
        command = marimo_command(settings, args.host, port)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]).upper()
        parser.exit(2, f"airsick-app: setting {where} is not valid ({first['msg']}); fix it.\n")
    except (AppError, UnknownSettingError) as error:
        parser.exit(2, f"airsick-app: {error}\n")
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
