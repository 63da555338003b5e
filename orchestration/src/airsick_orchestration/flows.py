"""Prefect flows: one per stage, and the daily flow that runs them in order.

The daily flow is one evening for everyone: every place's air once, one build, then each
person's own evening (``person_flow``: their retrain rule, training and gate, scoring and
alert) as a flow run of its own, whose parameter is that person's settings: what
``airsick forget`` finds. One person's failure is theirs: the
others' evenings run, and the summary names who failed and why.

Every flow takes the settings as its typed parameter: the CLI passes the object it built,
and a deployment passes the values it was served with (``deployments.py``); Prefect
validates them into ``Settings``, which reads the rest, secrets included, from the
environment of the process that runs the flow.

Tasks are thin wrappers over ``steps``; I/O is retried, training never is. dbt builds in one
task and each node's result is published as a table artifact; a failing test fails the flow.
The promotion decision and tomorrow's prediction are published as Markdown artifacts.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from airsick_core.places import Place
from airsick_core.settings import Settings
from airsick_serving.words import chance, personal
from airsick_serving.words import reasons as reasons_in_words
from airsick_transform.runner import BuildSummary, TransformError
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from airsick_orchestration import locks, steps

IO_RETRIES = {"retries": 3, "retry_delay_seconds": [2, 5, 15]}
# When to train is the retrain rule, beside the gate: ``airsick_training.promote.retrain``.
STALE_AIR_HOURS = 36
STALE_DIARY_DAYS = 2
# The daily flow names each stage here as it starts (the CLI shows it as progress).
STAGE_LOGGER = "airsick.stages"


@dataclass(frozen=True)
class DailySummary:
    """What the daily flow did, small enough to read in the UI and to return."""

    places: int
    rows_ingested: int
    new_hours: int
    feature_rows: int
    trained: bool
    retrain_reason: str
    model_version: str | None
    promoted: bool | None
    scores: dict[str, float | str]
    tomorrow: list[dict]
    stale: list[str]
    skipped: list[str]  # what the build set aside or found missing, one sentence each
    alert: dict[str, str]  # what became of the evening alert: status and detail
    people: int  # everyone whose evening ran (the default person's is above)
    failed: dict[str, str]  # whose evening failed, and why in one sentence
    seconds: dict[str, float]  # wall time of each stage's flow, Prefect's bookkeeping included


@task(**IO_RETRIES, task_run_name="ingest {place.name}")
def ingest_place(settings: Settings, place: Place) -> dict:
    air, weather = steps.ingest(settings, [place])
    return {
        "rows": air.rows,
        "new_hours": air.new_hours,
        "requests": air.requests + weather.requests,
        "weather_rows": weather.rows,
    }


@flow(name="ingest", log_prints=True)
def ingest_flow(settings: Settings) -> dict:
    """Fetch what is new of every place's air and weather (everyone's places, each once):
    one task per place, retried on I/O."""
    results = [ingest_place(settings, place) for place in steps.everyones_places(settings)]
    return {
        "places": len(results),
        "rows": sum(r["rows"] for r in results),
        "new_hours": sum(r["new_hours"] for r in results),
    }


@flow(name="transform", log_prints=True)
def transform_flow(settings: Settings) -> dict:
    """Run `dbt build` (models and data tests) and publish every node's result."""
    try:
        summary = dbt_build_task(settings)
    except TransformError as error:
        _publish_dbt_results(error.nodes)
        raise
    _publish_dbt_results(summary.nodes)
    if summary.notes:
        create_markdown_artifact(
            key="data-report",
            markdown="# What the build set aside\n\n" + "\n".join(f"- {n}" for n in summary.notes),
            description="Quarantined values, thin days, missing variables, diary coverage",
        )
    return {"feature_rows": summary.feature_rows, "notes": summary.notes}


@task(retries=0, task_run_name="dbt build")
def dbt_build_task(settings: Settings) -> BuildSummary:
    """One `dbt build` in this process: dbt orders and runs the nodes, a failing test fails it.

    The models and their data tests, as dbt recommends for production: the unit tests
    (static inputs) run in `airsick transform` and in CI, not every evening.

    One task, not one per node: a Prefect task per dbt node tripled the build's wall time.
    Each node's result is in the flow's `dbt-build` artifact instead.
    """
    return steps.transform(settings, unit_tests=False)


def _publish_dbt_results(nodes: list[dict]) -> None:
    if nodes:
        failed = sum(node["status"] in ("error", "fail", "runtime error") for node in nodes)
        create_table_artifact(
            key="dbt-build",
            table=nodes,
            description=f"dbt build: {len(nodes)} nodes, {failed} failed",
        )


def _markdown(frame) -> str:
    """A DataFrame as a Markdown table (without pulling in tabulate)."""
    header = ["model", *frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([str(i), *map(str, row)]) + " |" for i, row in frame.iterrows()]
    return "\n".join(lines)


@task(retries=0)  # training is never retried blindly: a failure needs a look
def train_task(settings: Settings):
    return steps.train(settings)


@flow(name="train", log_prints=True)
def train_flow(settings: Settings, force: bool = False) -> dict:
    """Retrain when the rule says so (or when ``force``), gate the result, publish the decision."""
    from airsick_training.train import retrain_decision

    logger = get_run_logger()
    rule = retrain_decision(
        settings.lakehouse, steps.stores(settings).registry, settings.person, settings.today()
    )
    needed, reason = rule.promote, rule.reason
    logger.info("retrain %s: %s", "needed" if needed or force else "skipped", reason)
    if not (needed or force):
        return {"trained": False, "reason": reason}
    report = train_task(settings)
    table = _markdown(report.table.round(4))
    verdict = "promoted to @champion" if report.promoted else "stays @challenger"
    create_markdown_artifact(
        key="promotion-decision",
        markdown=f"# Training {report.run_id[:8]}\n\n{table}\n\n**Version {report.version} "
        f"({report.challenger}) {verdict}**: {report.reason}.\n\n[MLflow run]({report.run_url})",
        description="Backtest scores and the gate's decision",
    )
    brier = report.table["brier"]
    scores: dict = {"challenger": report.challenger, "labelled_days": report.labelled_days}
    if report.challenger in brier:
        scores["brier"] = float(brier[report.challenger])
    scores |= {name: float(brier[name]) for name in ("base_rate", "oracle") if name in brier}
    return {
        "trained": True,
        "reason": reason,
        "version": report.version,
        "promoted": report.promoted,
        "scores": scores,
    }


@task(**IO_RETRIES)
def score_task(settings: Settings):
    return steps.predict(settings)


@flow(name="score", log_prints=True)
def score_flow(settings: Settings) -> list[dict]:
    """Score tomorrow and the forecast days; publish tomorrow's prediction."""
    scored = score_task(settings)
    rows = scored.predictions
    tomorrow = rows[rows["local_date"] == rows["local_date"].min()]
    lines = ["| place | day | chance | why | model | how personal |", "|---|---|---|---|---|---|"]
    out = []
    for row in tomorrow.itertuples():
        why = reasons_in_words(json.loads(row.reasons))
        lines.append(
            f"| {row.place} | {row.predicts_date:%a %d %b} | "
            f"{chance(row.probability)} ({row.probability:.0%}) | {why} | "
            f"v{row.model_version} | {personal(int(row.evidence_days), int(row.prior_people))} |"
        )
        out.append(
            {
                "place": row.place,
                "date": str(row.predicts_date.date()),
                "probability": round(float(row.probability), 4),
                "why": why,
                "model_version": str(row.model_version),
                "evidence_days": int(row.evidence_days),
                "prior_people": int(row.prior_people),
            }
        )
    create_markdown_artifact(
        key="tomorrow", markdown="\n".join(lines), description="Tomorrow's risk of being sick"
    )
    return out


def freshness(settings: Settings) -> list[str]:
    """Say which inputs are stale or missing: air not fetched lately, a diary not kept."""
    stores = steps.stores(settings)
    stale = []
    fetched = stores.raw.last_fetched()
    if fetched is None or datetime.now(UTC) - fetched > timedelta(hours=STALE_AIR_HOURS):
        stale.append(f"air quality last fetched {fetched or 'never'}")
    recorded = stores.diary.last_day(settings.person)
    if recorded is None:
        stale.append(
            "the diary is empty, so the answer comes from the population prior; "
            "log today with `airsick diary log`"
        )
    elif settings.today() - recorded > timedelta(days=STALE_DIARY_DAYS):
        stale.append(f"diary last kept for {recorded}; log today with `airsick diary log`")
    return stale


@task(retries=0, task_run_name="evening alert")
def alert_task(settings: Settings, tomorrow: list[dict]) -> dict:
    """Send the evening alert if due; a failure is logged, never raised."""
    from airsick_serving import notify

    delivery = notify.guarded("evening alert", lambda: steps.alert(settings, tomorrow))
    logger = get_run_logger()
    (logger.warning if delivery.status == "failed" else logger.info)(
        "evening alert %s: %s", delivery.status, delivery.detail
    )
    return {"status": delivery.status, "detail": delivery.detail}


@flow(name="reminder", log_prints=True)
def reminder_flow(settings: Settings) -> dict:
    """Remind the person to log today, if it is not in the diary yet (once a day); a failure
    is logged, never raised."""
    from airsick_serving import notify

    delivery = notify.guarded("diary reminder", lambda: steps.remind(settings))
    (get_run_logger().warning if delivery.status == "failed" else get_run_logger().info)(
        "diary reminder %s: %s", delivery.status, delivery.detail
    )
    return {"status": delivery.status, "detail": delivery.detail}


@task(retries=0, task_run_name="learn the prior from everyone")
def prior_task(settings: Settings) -> dict:
    """Learn the prior from everyone's diaries (``airsick_training.learnt_prior``)."""
    learnt = steps.learn_prior(settings)
    if learnt.version is None:
        get_run_logger().info(
            "the literature's prior stays: %s of %s people have enough days",
            learnt.people,
            learnt.everyone,
        )
    else:
        create_markdown_artifact(
            key="learnt-prior",
            markdown=f"# The prior, learnt from {learnt.people} people's diaries\n\n"
            f"Version {learnt.version} of the population prior; each newcomer's model "
            "starts from it, leaving them out.",
            description="The prior learnt from everyone",
        )
    return {"people": learnt.people, "version": learnt.version}


@flow(name="evening", log_prints=True)
def person_flow(settings: Settings) -> dict:
    """One person's evening after the build: train if their retrain rule says so (and
    gate), score their places, send their alert.

    Its parameter (the person's settings) says whose it is; neither its name nor its
    artifacts' keys do: Prefect keeps run names and keys in its event history and key
    collections, which `forget` cannot reach through Prefect's API."""
    started = time.perf_counter()
    trained = train_flow(settings)
    trained_in = time.perf_counter() - started
    tomorrow = score_flow(settings)
    alert = alert_task(settings, tomorrow)
    return {
        "trained": trained,
        "tomorrow": tomorrow,
        "alert": alert,
        "seconds": {
            "train": round(trained_in, 2),
            "score": round(time.perf_counter() - started - trained_in, 2),
        },
    }


def everyones_evening(settings: Settings) -> tuple[dict[str, dict], dict[str, str]]:
    """Each person's evening in turn; return the evenings that ended and, for the others,
    why each failed (one sentence)."""
    done: dict[str, dict] = {}
    failed: dict[str, str] = {}
    for person in steps.everyone(settings):
        state = person_flow(person, return_state=True)
        if state.is_completed():
            done[person.person] = state.result()
        else:
            failed[person.person] = _why(state)
            get_run_logger().error("%s's evening failed: %s", person.person, failed[person.person])
    # Who failed is named (whose answer is missing tonight); those answered are counted:
    # their own runs say the rest. `forget` deletes a summary that names the person.
    lines = ["| person | why their evening failed |", "|---|---|"]
    lines += [f"| {name} | {why} |" for name, why in failed.items()]
    create_markdown_artifact(
        key="everyone",
        markdown=f"# The evening: {len(done)} answered, {len(failed)} failed\n\n"
        + ("\n".join(lines) if failed else "Everyone was answered."),
        description="How many were answered, and who failed and why",
    )
    return done, failed


def _why(state) -> str:
    try:
        state.result()
    except Exception as error:  # the person's failure, as its one sentence
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return state.message or state.type.value


@flow(name="daily", log_prints=True)
def daily_flow(settings: Settings) -> dict:
    """Ingest everyone's places, build once, then each person's evening (train when
    warranted, gate, score tomorrow, alert); one daily run at a time."""
    with locks.exclusive(settings.home / "locks", "daily"):
        return _daily(settings)


def _daily(settings: Settings) -> dict:
    stages = logging.getLogger(STAGE_LOGGER)
    seconds: dict[str, float] = {}

    def timed(name: str, run):
        stages.info(name)
        started = time.perf_counter()
        result = run()
        seconds[name] = round(time.perf_counter() - started, 2)
        return result

    ingested = timed("ingest", lambda: ingest_flow(settings))
    stale = freshness(settings)
    built = timed("transform", lambda: transform_flow(settings))
    timed("prior", lambda: prior_task(settings))
    done, failed = timed("evenings", lambda: everyones_evening(settings))
    if not done:
        raise RuntimeError(
            "; ".join(f"{name}'s evening failed: {why}" for name, why in failed.items())
        )
    own = done.get(settings.person)
    if own is None:  # the default person failed; the others were served
        own = {
            "trained": {
                "trained": False,
                "reason": f"the evening failed: {failed[settings.person]}",
            },
            "tomorrow": [],
            "alert": {},
            "seconds": {"train": 0.0, "score": 0.0},
        }
    trained, tomorrow, alert = own["trained"], own["tomorrow"], own["alert"]
    seconds |= own["seconds"]
    summary = DailySummary(
        places=ingested["places"],
        rows_ingested=ingested["rows"],
        new_hours=ingested["new_hours"],
        feature_rows=built["feature_rows"],
        trained=trained["trained"],
        retrain_reason=trained["reason"],
        model_version=trained.get("version"),
        promoted=trained.get("promoted"),
        scores=trained.get("scores", {}),
        tomorrow=tomorrow,
        stale=stale,
        skipped=built.get("notes", []),
        alert=alert,
        people=len(done) + len(failed),
        failed=failed,
        seconds=seconds,
    )
    for problem in stale:
        get_run_logger().warning("stale: %s", problem)
    return asdict(summary)
