"""Run every benchmark, or the ones named: `python -m benchmarks [ingest ...]`."""

from __future__ import annotations

import importlib
import sys

ALL = [
    "startup",
    "ingest",
    "transform",
    "train",
    "skill",
    "prior",
    "people",
    "weather",
    "serving",
    "soak",
    "orchestration",
    "cluster",
]


def main() -> None:
    for name in sys.argv[1:] or ALL:
        importlib.import_module(f"benchmarks.{name}").main()
        print()


if __name__ == "__main__":
    main()
