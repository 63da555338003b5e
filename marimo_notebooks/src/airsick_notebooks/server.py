"""The app behind a sign-in: each person sees their own diary, predictions and triggers.

marimo's documented way to add authentication: the app as an ASGI app
(``marimo.create_asgi_app``) inside a Starlette app whose middleware says who is asking.
A person signs in at ``/login`` with their name and password (``airsick person
password``); a signed session cookie then names them (Starlette's ``SessionMiddleware``
and ``AuthenticationMiddleware``), and the notebook shows whose data that cookie names
(``mo.app_meta().request.user``). Everything but ``/login`` and ``/health`` needs it:
pages are sent to ``/login``, anything else gets 401.

AIRSICK_APP_PASSWORD, where set, is the default person's password (as it was when the
app served one person). A home where nobody has a password is served on loopback only,
to the default person, without a sign-in.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import secrets
from pathlib import Path

from airsick_core.settings import Settings
from airsick_stores.passwords import Passwords
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    SimpleUser,
    UnauthenticatedUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from airsick_notebooks import APP

OPEN = ("/login", "/logout", "/health")
SESSION_DAYS = 14

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>airsick: sign in</title>
<style>
 body {{font-family: system-ui, sans-serif; max-width: 24rem; margin: 12vh auto; padding: 0 1rem}}
 label, input, button {{display: block; width: 100%; font-size: 1.1rem; margin: .4rem 0}}
 input {{padding: .5rem; box-sizing: border-box}} button {{padding: .6rem}}
 .error {{color: #c62828}}
</style></head>
<body><h1>How likely am I to be sick tomorrow?</h1>
<p>Sign in to see your own diary and predictions.</p>
<p class="error" role="alert">{error}</p>
<form method="post" action="/login">
 <label for="person">Your name</label>
 <input id="person" name="person" autocomplete="username" required value="{person}">
 <label for="password">Password</label>
 <input id="password" name="password" type="password" autocomplete="current-password" required>
 <button type="submit">Sign in</button>
</form></body></html>"""


class Doorkeeper:
    """Who may see whose app: the stored passwords, and AIRSICK_APP_PASSWORD for the
    default person."""

    def __init__(self, settings: Settings) -> None:
        self.default = settings.person
        self.passwords = Passwords(settings.home / "app" / "passwords.json")
        secret = settings.app_password
        self.legacy = secret.get_secret_value() if secret else None

    @property
    def open(self) -> bool:
        """Nobody has a password: the default person's app, no sign-in (loopback only)."""
        return self.legacy is None and not self.passwords.people()

    def admits(self, person: str, password: str) -> bool:
        if self.passwords.check(person, password):
            return True
        if person == self.default and self.legacy is not None:
            return hmac.compare_digest(password.encode(), self.legacy.encode())
        return False

    def still_admitted(self, person: str) -> bool:
        """A session is honoured while its person has a password (forget removes it)."""
        return person in self.passwords.people() or (
            person == self.default and self.legacy is not None
        )


class SessionBackend(AuthenticationBackend):
    def __init__(self, doorkeeper: Doorkeeper) -> None:
        self.doorkeeper = doorkeeper

    async def authenticate(self, conn):
        if self.doorkeeper.open:
            return AuthCredentials(["authenticated"]), SimpleUser(self.doorkeeper.default)
        person = conn.session.get("person")
        if person and self.doorkeeper.still_admitted(person):
            return AuthCredentials(["authenticated"]), SimpleUser(person)
        return None


class SignedInOnly:
    """Let through only the signed-in (pages go to /login, the rest gets 401)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        user = scope.get("user")
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"] in OPEN
            or (user is not None and not isinstance(user, UnauthenticatedUser))
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        accepts = dict(scope["headers"]).get(b"accept", b"")
        if scope["method"] == "GET" and b"text/html" in accepts:
            answer: Response = RedirectResponse("/login", status_code=303)
        else:
            answer = PlainTextResponse("Sign in at /login first.", status_code=401)
        await answer(scope, receive, send)


def _session_key(folder: Path) -> str:
    """The key that signs session cookies: made once per home, readable by this user only."""
    path = folder / "session-key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def build(settings: Settings) -> Starlette:
    """The app's server: /login, /logout, /health and the marimo app, signed-in only."""
    import marimo

    doorkeeper = Doorkeeper(settings)
    notebook = (
        marimo.create_asgi_app(quiet=True, include_code=False)
        .with_app(path="", root=str(APP))
        .build()
    )

    async def login_page(request: Request) -> Response:
        if doorkeeper.open:  # nobody to sign in as: the default person's app
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(LOGIN_PAGE.format(error="", person=""))

    async def login(request: Request) -> Response:
        form = await request.form()
        person, password = str(form.get("person", "")).strip(), str(form.get("password", ""))
        if await asyncio.to_thread(doorkeeper.admits, person, password):
            request.session.clear()
            request.session["person"] = person
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(
            LOGIN_PAGE.format(
                error="That name and password do not match; try again.",
                person=html.escape(person),
            ),
            status_code=401,
        )

    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    return Starlette(
        routes=[
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout),
            Route("/health", health),
            Mount("/", app=notebook),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=_session_key(settings.home / "app"),
                session_cookie="airsick_session",
                max_age=SESSION_DAYS * 24 * 3600,
                same_site="lax",
            ),
            Middleware(AuthenticationMiddleware, backend=SessionBackend(doorkeeper)),
            Middleware(SignedInOnly),
        ],
    )


def run(settings: Settings, host: str, port: int) -> None:
    """Serve the app until stopped."""
    import uvicorn

    uvicorn.run(build(settings), host=host, port=port, log_level="warning", access_log=False)
