"""A load generator in its own process: C concurrent clients POSTing one row each, for S seconds.

Prints one JSON line: requests, errors, seconds, latencies p50/p99 (ms), throughput (req/s).
Usage: python -m benchmarks.loadgen URL BODY_FILE CLIENTS SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp


async def client(session, url, body, until, latencies, errors):
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            async with session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as answer:
                await answer.read()
                if answer.status != 200:
                    errors.append(answer.status)
                    continue
        except aiohttp.ClientError as error:
            errors.append(type(error).__name__)
            continue
        latencies.append(time.perf_counter() - started)


async def main(url: str, body: bytes, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list = []
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm up: first requests pay for imports and caches on the server.
        for _ in range(20):
            async with session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as answer:
                await answer.read()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(client(session, url, body, until, latencies, errors) for _ in range(clients))
        )
        elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")  # noqa: E731
    return {
        "requests": len(ms),
        "errors": len(errors),
        "seconds": elapsed,
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "throughput": len(ms) / elapsed,
    }


if __name__ == "__main__":
    url, body_file, clients, seconds = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    payload = Path(body_file).read_bytes()
    print(json.dumps(asyncio.run(main(url, payload, clients, seconds))))
