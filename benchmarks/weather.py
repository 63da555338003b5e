"""Does the weather improve the backtest? The personal model with and without it.

Every training backtests the personal model twice on the same folds: with the weather
terms (maximum temperature, its change, humidity, rain) and on the air and diary alone
(``personal_air``); the gate then takes whichever wins. This prints both for:

- the demo persona (simulated Madrid, three years; the stand-in simulates its weather),
- the real-air personas on real recordings (tests/real_people.py): Riyadh, whose recording
  carries real ERA5 weather, and Chennai, whose recording has none (a check that missing
  weather changes nothing).

Neither persona's law has a weather term (airsick_standin/persona.py), so weather can only
help here by standing in for something the law does use (the season, the air).
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "open-meteo"


def _demo(home: Path):
    from airsick_core.settings import Settings
    from airsick_orchestration import optional, steps

    settings = Settings(home=home, standin_port=0)
    with optional.standin_serving(settings) as pointed:
        steps.create_persona(pointed)
        steps.ingest(pointed)
    steps.transform(settings)
    return steps.train(settings)


def _line(name: str, report) -> str:
    table = report.table
    with_weather, air = table.loc["personal"], table.loc["personal_air"]
    change = (with_weather["brier"] - air["brier"]) / air["brier"]
    return (
        f"{name:22s} {report.labelled_days:5d} days  "
        f"Brier {with_weather['brier']:.4f} with weather vs {air['brier']:.4f} without "
        f"({change:+.1%}); log loss {with_weather['log_loss']:.4f} vs {air['log_loss']:.4f}; "
        f"ROC AUC {with_weather['roc_auc']:.3f} vs {air['roc_auc']:.3f}; "
        f"challenger: {report.challenger}"
    )


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    print("weather in the backtest (personal model, same folds, with vs without weather)")
    with tempfile.TemporaryDirectory() as scratch:
        print(_line("demo (Madrid, sim.)", _demo(Path(scratch) / "demo")), flush=True)
        if not SHARED.is_dir():
            print("real-air personas: ../shared/data/open-meteo is absent; skipped")
            return
        from tests.real_people import run_person

        for series, note in (("riyadh", "real ERA5"), ("chennai", "no weather")):
            _, news = run_person(SHARED, series, "full", Path(scratch) / series)
            print(_line(f"{series} ({note})", news["train"]), flush=True)


if __name__ == "__main__":
    main()
