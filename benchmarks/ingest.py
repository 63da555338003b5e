"""Ingest throughput: 1 and 20 places x 3 years through the stand-in, and peak memory.

The stand-in runs in its own process, the ingest in another (`airsick ingest`), so the
figures are the ingest's own: wall time, rows per second, requests, peak resident memory.
Pacing is off (the stand-in has no rate limit); against the real API the free tier's
600 weighted calls a minute would dominate: 3 years of one place weigh about 130 calls.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta

from benchmarks._util import measure, standin_process


def places(n: int) -> str:
    """N places on a grid over Europe, each in its own timezone-free name."""
    spots = [(38 + (i // 5) * 3.1, -8 + (i % 5) * 5.3) for i in range(n)]
    return ";".join(f"p{i:02d}={lat:.3f},{lon:.3f},UTC" for i, (lat, lon) in enumerate(spots))


def run(n_places: int, years: int = 3) -> dict:
    home = tempfile.mkdtemp(prefix="airsick-bench-ingest-")
    start = datetime.now(UTC).date() - timedelta(days=365 * years)
    env = {
        **os.environ,
        "AIRSICK_HOME": home,
        "AIRSICK_PLACES": places(n_places),
        "AIRSICK_HISTORY_START": start.isoformat(),
        "AIRSICK_OPEN_METEO_CALLS_PER_MINUTE": "0",
    }
    with standin_process(env) as url:
        env["AIRSICK_OPEN_METEO_URL"] = url
        cold = measure([sys.executable, "-m", "airsick_orchestration", "ingest"], env)
        daily = measure([sys.executable, "-m", "airsick_orchestration", "ingest"], env)
    rows = int(re.search(r"Ingested ([\d,]+) rows", cold.stdout).group(1).replace(",", ""))
    requests_sent = int(re.search(r"\((\d+) requests", cold.stdout).group(1))
    return {
        "places": n_places,
        "rows": rows,
        "requests": requests_sent,
        "seconds": cold.seconds,
        "rows_per_s": rows / cold.seconds,
        "peak_mb": cold.peak_rss_mb,
        "rerun_seconds": daily.seconds,
    }


def main() -> None:
    print("ingest: 3 years of hourly air quality through the stand-in (own process)")
    print(
        f"{'places':>6} {'rows':>10} {'requests':>8} {'seconds':>8} {'rows/s':>9} "
        f"{'peak MB':>8} {'rerun s':>8}"
    )
    for n in (1, 20):
        r = run(n)
        print(
            f"{r['places']:>6} {r['rows']:>10,} {r['requests']:>8} {r['seconds']:>8.1f} "
            f"{r['rows_per_s']:>9,.0f} {r['peak_mb']:>8.0f} {r['rerun_seconds']:>8.1f}"
        )


if __name__ == "__main__":
    main()
