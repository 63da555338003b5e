"""`python -m airsick_serving`: the model server on its own, as its container runs it.

`airsick serve` does the same from the airsick settings; this entry point needs only the
serving component, so the model server's image carries nothing else.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from airsick_serving.front import serve


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m airsick_serving",
        description="Serve everyone's champions over HTTP (models:/airsick.everyone@current, "
        "routing each request to models:/airsick-PERSON@champion), following promotions.",
    )
    parser.add_argument(
        "--person",
        default=os.environ.get("AIRSICK_PERSON", "demo"),
        help="Whose champion answers a request that names nobody (default: $AIRSICK_PERSON, "
        "else demo).",
    )
    parser.add_argument(
        "--tracking-uri",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        help="MLflow tracking and registry URI (default: $MLFLOW_TRACKING_URI).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    parser.add_argument("--port", type=int, default=5001, help="Port to listen on.")
    parser.add_argument(
        "--logs", type=Path, default=Path.home() / "logs", help="Folder for the backends' logs."
    )
    parser.add_argument(
        "--poll-seconds", type=float, default=5.0, help="How often to look for a new champion."
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=int(os.environ.get("AIRSICK_SERVE_MAX_ROWS", "20000")),
        help="Most rows one request may score; larger ones get 413 (default 20,000).",
    )
    parser.add_argument(
        "--models",
        type=int,
        default=int(os.environ.get("AIRSICK_SERVE_MODELS", "256")),
        help="How many people's champions to keep loaded (default 256).",
    )
    args = parser.parse_args()
    if not args.tracking_uri:
        parser.error("give --tracking-uri or set MLFLOW_TRACKING_URI to the registry's URI")
    serve(
        args.tracking_uri,
        args.person,
        args.host,
        args.port,
        args.logs,
        args.poll_seconds,
        args.max_rows,
        args.models,
    )


if __name__ == "__main__":
    main()
