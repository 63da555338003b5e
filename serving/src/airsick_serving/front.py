"""The HTTP server users call: MLflow's routes, in front of one model server for everyone.

The model served is the router (``airsick_training.router``, ``models:/airsick.everyone@
current``): each request names its person (``"params": {"person": "ana"}``; without it,
the server's default person, AIRSICK_PERSON) and is answered by that person's champion,
which the router loads on first use and follows on promotion by itself. One person's
promotion touches nothing of the others'.

The front follows the router's own versions (a new one comes with a new airsick): every
few seconds it asks the registry which holds ``@current``; when that moves, it starts
`mlflow models serve` for the new version, waits until it answers ``/ping``, sends new
requests there, lets requests in flight on the old one finish, and only then stops it. No
request fails during the switch. Every answer says which of the person's versions
produced it (header ``X-Airsick-Model-Version`` and ``model_version``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
from airsick_core import names
from airsick_core.http import free_port
from airsick_stores import ModelRef, Registry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airsick_serving.backend import Backend
from airsick_serving.validate import MAX_ROWS, Invalid, max_bytes, parse

log = logging.getLogger(__name__)
VERSION_HEADER = "X-Airsick-Model-Version"


@dataclass
class Front:
    """The state behind the app: the serving backend, its columns and its HTTP client."""

    tracking_uri: str
    log_dir: Path
    person: str
    poll_seconds: float = 5.0
    current: Backend | None = None
    columns: list[str] = field(default_factory=list)
    client: aiohttp.ClientSession | None = None
    waiting_reason: str = "starting"
    registry: Registry = field(init=False)
    switches: int = 0
    max_rows: int = MAX_ROWS
    models: int = 256  # how many people's champions the router keeps loaded
    workers: int = 2  # `mlflow models serve` worker processes

    def __post_init__(self) -> None:
        self.registry = Registry(self.tracking_uri)

    @property
    def name(self) -> str:
        return names.ROUTER_MODEL

    async def follow(self) -> None:
        """Poll the registry forever; switch to a new champion when the alias moves."""
        while True:
            try:
                await self.check_once()
            except Exception as error:  # the follower must survive a registry hiccup
                log.warning("could not check the champion: %s", error)
            await asyncio.sleep(self.poll_seconds)

    async def check_once(self) -> None:
        ref = await asyncio.to_thread(self.registry.router)
        if ref is None:
            self.waiting_reason = (
                "the model for everyone is not registered yet; `airsick train` registers it"
            )
            return
        if self.current is not None and self.current.version == ref.version:
            return
        await self.switch_to(ref)

    async def switch_to(self, ref: ModelRef) -> None:
        log.info("starting version %s", ref.version)
        backend = Backend(
            ref.uri,
            ref.version,
            free_port(),
            self.tracking_uri,
            self.log_dir / f"model-server-v{ref.version}.log",
            workers=self.workers,
            environment={
                "AIRSICK_SERVE_MODELS": str(self.models),
                "AIRSICK_SERVE_POLL_SECONDS": str(self.poll_seconds),
            },
        )
        try:
            await asyncio.to_thread(lambda: backend.start().wait_healthy())
            columns = await asyncio.to_thread(self.registry.input_columns, ref)
        except Exception as error:  # whatever failed, the half-started server must not leak
            await asyncio.to_thread(backend.stop, 0)
            self.waiting_reason = f"version {ref.version} could not be served: {error}"
            log.error("%s", self.waiting_reason)
            return
        old, old_client = self.current, self.client
        # aiohttp's C-accelerated client: the hop to the backend costs least.
        self.client = aiohttp.ClientSession(
            base_url=backend.url,
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=64),
        )
        self.current, self.columns = backend, columns
        self.switches += 1
        log.info("now serving version %s", ref.version)
        if old is not None:
            await asyncio.to_thread(old.stop)
            if old_client is not None:
                await old_client.close()

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self.current is not None:
            await asyncio.to_thread(self.current.stop, 5)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error_code": "BAD_REQUEST" if status < 500 else "UNAVAILABLE", "message": message},
        status_code=status,
    )


def _their_words(content: bytes) -> str:
    """The model's own sentence from MLflow's error (which quotes the whole input first)."""
    try:
        message = str(orjson.loads(content).get("message", ""))
    except (orjson.JSONDecodeError, AttributeError):
        message = content[:300].decode(errors="replace")
    return message.rpartition("Error: ")[2].strip() or "The model refused the request."


def build_app(front: Front) -> Starlette:
    """Return the ASGI app: /ping, /health, /version, /invocations, /airsick/model.

    Long because each route is a small handler closed over ``front`` (the model being
    served now), listed together with the routing table that names them.
    """

    def unavailable() -> JSONResponse:
        return _error(503, f"No model is being served: {front.waiting_reason}.")

    async def ping(request: Request) -> Response:
        if front.current is None:
            return unavailable()
        return Response("\n", headers={VERSION_HEADER: front.current.version})

    async def version(request: Request) -> Response:
        if front.current is None:
            return unavailable()
        async with front.client.get("/version") as answer:
            content = await answer.read()
        return Response(
            content, media_type="text/plain", headers={VERSION_HEADER: front.current.version}
        )

    async def model(request: Request) -> Response:
        if front.current is None:
            return unavailable()
        return JSONResponse(
            {"name": front.name, "version": front.current.version, "inputs": front.columns}
        )

    async def index(request: Request) -> Response:
        """Say what this server is and how to use it (a person may open it in a browser)."""
        return JSONResponse(
            {
                "name": front.name,
                "serving": front.current.version if front.current else None,
                "waiting": None if front.current else front.waiting_reason,
                "routes": {
                    "GET /ping": "200 when a champion is served",
                    "GET /version": "the MLflow version of the model server",
                    "GET /airsick/model": "the served version and its input columns",
                    "POST /invocations": 'score rows: {"dataframe_split": {"columns": [...], '
                    '"data": [[...]]}}',
                },
            }
        )

    async def invocations(request: Request) -> Response:
        backend, client = front.current, front.client
        if backend is None or client is None:
            return unavailable()
        limit = max_bytes(front.max_rows)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:  # refused before it is read
            return _error(
                413,
                f"The request is {int(declared):,} bytes; send at most {limit:,} "
                f"(up to {front.max_rows:,} rows, AIRSICK_SERVE_MAX_ROWS).",
            )
        try:
            body = parse(await request.body(), front.columns, front.max_rows, front.person)
        except Invalid as invalid:
            return _error(invalid.status, invalid.message)
        except Exception as error:  # whatever else a body can do, it is the client's to fix
            log.warning("refused a request body: %s", error)
            return _error(400, "The request could not be read; send a JSON dataframe_split.")
        backend.in_flight += 1
        try:
            async with client.post(
                "/invocations",
                data=orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
                headers={"Content-Type": "application/json"},
            ) as answer:
                status, content = answer.status, await answer.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            return _error(
                503, f"The model server did not answer ({type(error).__name__}); retry in a moment."
            )
        finally:
            backend.in_flight -= 1
        if status >= 500:
            return _error(502, f"The model server failed: {content[:300].decode(errors='replace')}")
        if status >= 400:
            return _error(status, _their_words(content))
        result = orjson.loads(content)
        # The person's champion's version (the router's own is in /airsick/model).
        answered = {str(p.get("model_version", "")) for p in result.get("predictions", [])}
        result["model_version"] = answered.pop() if len(answered) == 1 else ""
        return Response(
            orjson.dumps(result),
            media_type="application/json",
            headers={VERSION_HEADER: result["model_version"]},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        task = asyncio.create_task(front.follow())
        try:
            yield
        finally:
            task.cancel()
            await front.close()

    return Starlette(
        routes=[
            Route("/", index),
            Route("/ping", ping),
            Route("/health", ping),
            Route("/version", version),
            Route("/invocations", invocations, methods=["POST"]),
            Route("/airsick/model", model),
        ],
        lifespan=lifespan,
    )


def serve(
    tracking_uri: str,
    person: str,
    host: str,
    port: int,
    log_dir: Path,
    poll_seconds: float = 5.0,
    max_rows: int = MAX_ROWS,
    models: int = 256,
    workers: int = 2,
) -> None:
    """Run the front until interrupted (``airsick serve``)."""
    import uvicorn

    app = build_app(
        Front(
            tracking_uri,
            log_dir,
            person,
            poll_seconds=poll_seconds,
            max_rows=max_rows,
            models=models,
            workers=workers,
        )
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
