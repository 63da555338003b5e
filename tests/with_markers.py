"""Run the airsick CLI with a marker file written as named steps begin: the explicit events
the overlap tests wait for before they `kill -9` it (never the wording of a log line).

    python -m tests.with_markers MARKER_FOLDER -- airsick arguments…

Each event wraps one function of the product; if a function was renamed, the run stops at
once saying which, instead of the test waiting for an event that never comes.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path


def _promoting(client, person, version, promote, *rest, **more) -> bool:
    return promote


def events() -> dict[str, tuple]:
    """Each event: the module attribute whose call starts it (and, for some, on which
    arguments)."""
    from airsick_orchestration import flows, steps
    from airsick_training import track
    from airsick_training import train as training

    return {
        "ingest": (flows, "ingest_flow"),
        "transform": (flows, "transform_flow"),
        "train": (training, "backtest"),  # the first backtest of a training
        "register": (track, "register"),
        "promote": (track, "record_decision", _promoting),  # a decision to promote
        "score": (steps, "score_everyone"),  # the evening scores everyone in one pass
    }


def install(folder: Path) -> None:
    """Make each event's function touch ``folder/<event>`` when it is called."""
    folder.mkdir(parents=True, exist_ok=True)
    for event, (module, name, *when) in events().items():
        original = getattr(module, name, None)
        if original is None:
            raise SystemExit(f"with_markers: {module.__name__}.{name} no longer exists")

        def marked(*args, _event=event, _original=original, _when=when, **kwargs):
            if not _when or _when[0](*args, **kwargs):
                (folder / _event).touch()
            return _original(*args, **kwargs)

        setattr(module, name, functools.wraps(original)(marked))


def main() -> None:
    folder, separator, *arguments = sys.argv[1:]
    assert separator == "--", __doc__
    install(Path(folder))
    from airsick_orchestration.cli import app

    app(arguments, prog_name="airsick")


if __name__ == "__main__":
    main()
