"""What the ``airsick`` commands print: sentences, tables, progress and errors.

The commands in ``cli.py`` do the work (through ``steps``) and hand the results here; this
module decides how a person reads them in a terminal (rich), and nothing else.
"""

from __future__ import annotations

import json
import logging
from datetime import date

import typer
from airsick_core import names
from airsick_serving.words import chance, personal, reasons
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> None:
    """End the command with one sentence that says what to do, never a traceback."""
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


def note(text: str) -> None:
    err.print(f"[cyan]note:[/] {text}")


def progress() -> Progress:
    """Bars for long work (a row per place and source), gone when it is done."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


class StageStatus(logging.Handler):
    """Shows which stage of a flow is running in a rich status line."""

    def __init__(self, status, flow_name: str) -> None:
        super().__init__(logging.INFO)
        self.status, self.flow_name = status, flow_name

    def emit(self, record: logging.LogRecord) -> None:
        self.status.update(f"{self.flow_name} flow: {record.getMessage()}…")


def ingested(result, weather, lake: str) -> None:
    resumed = (
        f", completed {result.resumed_packages} interrupted load" if result.resumed_packages else ""
    )
    console.print(
        f"Ingested {result.rows:,} rows ({result.new_hours:,} new hours) for "
        f"{result.places} place{'s' if result.places != 1 else ''} in {result.seconds:.1f} s "
        f"({result.requests} requests{resumed}) into {lake}, "
        f"and {weather.rows:,} hours of weather ({weather.requests} requests)"
    )


def built(summary) -> None:
    """What dbt built and tested, and what the build set aside."""
    for text in summary.notes:
        note(text)
    for warning in summary.warnings:
        name = warning.split(":", 1)[0].removeprefix("test ")
        err.print(f"[yellow]warning:[/] dbt test {name} warned (data a person cannot fix)")
    console.print(
        f"Built {summary.models} models and passed {summary.tests} data tests and "
        f"{summary.unit_tests} unit tests in {summary.seconds:.1f} s: "
        f"{summary.feature_rows:,} rows in {names.FEATURES}, "
        f"{summary.scoring_rows:,} to score."
    )


def trained(report) -> None:
    """The backtest as one table (the challenger in bold, the oracle dimmed), the gate's
    decision in one sentence, and the MLflow run."""
    if report.folds:
        table = Table(
            title=f"Walk-forward backtest: {report.labelled_days:,} labelled days, "
            f"{report.folds} {report.fold_kind} folds"
        )
        table.add_column("model")
        metrics = ("roc_auc", "pr_auc", "brier", "log_loss", "calibration_error")
        for heading in ("ROC AUC", "PR AUC", "Brier", "log loss", "calib. error"):
            table.add_column(heading, justify="right")
        for name, row in report.table.iterrows():
            style = "bold" if name == report.challenger else ("dim" if name == "oracle" else None)
            table.add_row(name, *(f"{row[m]:.3f}" for m in metrics), style=style)
        console.print(table)
    verdict = "promoted to @champion" if report.promoted else "stays @challenger"
    console.print(f"Version {report.version} ({report.challenger}) {verdict}: {report.reason}.")
    console.print(f"MLflow run: {report.run_url}")


def _tomorrow_sentence(
    place, day: date, probability, why: str, version, evidence_days, prior_people=0
) -> str:
    how = personal(int(evidence_days), int(prior_people))
    return (
        f"{place}: {day:%a %d %b}, {chance(probability)} ({probability:.0%}) chance of being "
        f"sick; {why}; model v{version}, {how}."
    )


def predictions(scored) -> None:
    """One sentence per place for tomorrow: the date, the chance in words and numbers, why."""
    rows = scored.predictions
    tomorrow = rows[rows["local_date"] == rows["local_date"].min()]
    for row in tomorrow.itertuples():
        console.print(
            _tomorrow_sentence(
                row.place,
                row.predicts_date,
                row.probability,
                reasons(json.loads(row.reasons)),
                row.model_version,
                getattr(row, "evidence_days", 0),
                getattr(row, "prior_people", 0),
            )
        )
    console.print(f"{len(rows)} predictions ({scored.via}) written to {scored.path}")


def triggers(person: str, latest: dict, past, history: bool, mlflow_ui_url: str) -> None:
    """Each factor's effect on the person, how sure it is, and (``history``) how it moved."""
    from airsick_training.triggers import Trigger

    found = [Trigger(**t) for t in latest["triggers"]]
    days = latest.get("labelled_days") or 0
    console.print(
        f"What affects {person}, from {days} logged days (training up to {latest['date_to']}):"
    )
    table = Table(show_edge=False)
    for column in ("factor", "verdict", "odds ×", "95 % interval", "typical change", "evidence"):
        table.add_column(column, justify="right" if column in ("odds ×", "evidence") else "left")
    colours = {"raises your risk": "red", "lowers your risk": "green"}
    for t in found:
        sure = t.verdict not in ("not enough evidence yet", "no data here")
        table.add_row(
            t.label,
            f"[{colours.get(t.verdict, 'default')}]{t.verdict}[/]",
            f"{t.odds_ratio:.2f}" if sure else "",
            f"{t.low:.2f} to {t.high:.2f}" if sure else "",
            t.change,
            f"{t.evidence:.0%}",
        )
    console.print(table)
    console.print(
        "Odds × is how the odds of being sick the next day change after the typical change "
        "(1 = no change); evidence is the share of the prior's uncertainty your diary removed."
    )
    if history and past is not None and len(past):
        wide = past.pivot_table(index="trained_to", columns="term", values="odds_ratio")
        console.print(wide.round(2).to_string())
    console.print(f"Tracked in MLflow: run {latest['run_id']} at {mlflow_ui_url}")


def forgotten(person: str, done) -> None:
    """Where a person's data was removed from, place by place."""
    kept = done.stores
    raw = ", ".join(f"{n:,} {t} rows" for t, n in kept.raw.items()) or "nothing"
    tables = sum(kept.lakehouse.values())
    runs = kept.mlflow
    console.print(f"Removed {person}'s data: from the raw zone {raw};")
    console.print(
        f"from the lakehouse {tables:,} rows in {len(kept.lakehouse)} tables, with every "
        "older snapshot and its files;"
    )
    console.print(
        f"from MLflow {runs.runs} runs, {runs.model_versions} model versions and "
        f"{runs.logged_models} logged models"
        + (
            " with their artifacts, for good;"
            if runs.purged or not runs.runs
            else " (deleted; purge them on the tracking server with `mlflow gc`);"
        )
    )
    prefect = done.prefect
    logs = (
        "their logs" if prefect.logs >= 0 else "(the server keeps their logs until its retention)"
    )
    console.print(
        f"from Prefect {prefect.flow_runs} flow runs and {prefect.artifacts} artifacts with "
        f"{logs}; {kept.pipeline_files} of dlt's package and state files, and dbt's outputs;"
    )
    console.print(f"and {done.notifications} messages from the ledger.")


def daily(summary: dict) -> None:
    """The daily flow's summary: what was ingested and built, the training, tomorrow."""
    seconds = summary["seconds"]
    console.print(
        f"Ingested {summary['rows_ingested']:,} rows ({summary['new_hours']:,} new hours) for "
        f"{summary['places']} place(s) in {seconds['ingest']:.1f} s; built "
        f"{summary['feature_rows']:,} feature rows with dbt in {seconds['transform']:.1f} s."
    )
    if summary["trained"]:
        verdict = "promoted to @champion" if summary["promoted"] else "stays @challenger"
        scores = summary["scores"]
        name = scores["challenger"]
        if "brier" in scores:
            oracle = f", oracle {scores['oracle']:.3f}" if "oracle" in scores else ""
            result = (
                f"{name} Brier {scores['brier']:.3f} (base rate {scores['base_rate']:.3f}{oracle})"
            )
        else:
            result = f"{name}, from {scores.get('labelled_days', 0)} labelled days"
        took = (
            f"{seconds['train']:.1f} s"
            if summary.get("people", 1) == 1
            else f"{seconds['train']:.1f} s for the evening's trainings"
        )
        console.print(
            f"Trained because {summary['retrain_reason']}: {result}; version "
            f"{summary['model_version']} {verdict} ({took})."
        )
    else:
        console.print(f"No training: {summary['retrain_reason']}.")
    for row in summary["tomorrow"]:
        console.print(
            _tomorrow_sentence(
                row["place"],
                date.fromisoformat(row["date"]),
                row["probability"],
                row["why"],
                row["model_version"],
                row.get("evidence_days", 0),
                row.get("prior_people", 0),
            )
        )
    alert = summary.get("alert", {})
    if alert and alert["status"] != "off":
        console.print(f"Evening alert {alert['status']}: {alert['detail']}.")
    for text in summary.get("skipped", []):
        note(text)
    for problem in summary["stale"]:
        err.print(f"[yellow]stale:[/] {problem}")
    people, failed = summary.get("people", 1), summary.get("failed", {})
    if people > 1:
        console.print(
            f"Everyone: {summary.get('answered', people - len(failed))} of {people} people "
            f"answered ({seconds.get('evenings', 0):.1f} s for all their evenings)."
        )
    for name, why in failed.items():
        err.print(f"[red]{name}'s evening failed:[/] {why}")


def settings_table(settings) -> None:
    """The settings by concern (``airsick_core.settings.GROUPS``), secrets hidden."""
    from airsick_core.settings import GROUPS, variable
    from pydantic import SecretStr

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("variable", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("from", no_wrap=True)
    for group, fields in GROUPS.items():
        table.add_row(f"[bold cyan]{group}[/]", "", "")
        for name in fields:
            value = getattr(settings, name)
            if isinstance(value, SecretStr):
                shown = "(hidden)" if value.get_secret_value() else ""
            else:
                shown = "" if value is None else str(value)
            origin = "set" if name in settings.model_fields_set else "default"
            table.add_row(f"  {variable(name)}", shown, origin)
    console.print(table)


def person_added(person, shared: list[str]) -> None:
    places = ", ".join(
        f"{p.name} ({p.latitude:.2f}, {p.longitude:.2f}, {p.timezone})" for p in person.places
    )
    console.print(f"{person.name} is in: {places}.")
    for sentence in shared:
        console.print(f"  {sentence}: fetched once for everyone there.")
    console.print(
        f"Their first evening (`airsick run`) answers from the population prior; each day "
        f"they log (`AIRSICK_PERSON={person.name} airsick diary log --sick|--well`) makes "
        "the answer theirs."
    )


def people(rows, default: str) -> None:
    """``airsick person list``: everyone, the default person marked."""
    if not rows:
        console.print("Nobody yet: `airsick person add NAME --place NAME=LAT,LON,TIMEZONE`.")
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("person", "places", "days logged", "last logged"):
        table.add_column(column)
    for row in rows:
        name = f"{row.name} (default)" if row.name == default else row.name
        last = row.last_logged.isoformat() if row.last_logged else "-"
        table.add_row(name, ", ".join(row.places), f"{row.days_logged:,}", last)
    console.print(table)
    console.print(f"{len(rows):,} people")
