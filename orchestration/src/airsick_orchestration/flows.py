"""Prefect flows: one per stage, and the daily flow that runs them in order.

The daily flow is one evening for everyone (``everyones_evening``): every place's air once,
one build, the prior learnt once, everyone's champions and retrain rules read together, a
training flow run for each person whose rule says so (its parameter is that person's
settings: what ``airsick forget`` finds), or with AIRSICK_DASK_ADDRESS one training task
each on a Dask cluster (``cluster``), everyone scored in one pass, each person's alert.
What is shared is done once; what is a person's own (their training) is theirs alone. One
person's failure is theirs: the others are answered, and the summary names who failed and
why.

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
from datetime import UTC, date, datetime, timedelta

from airsick_core.places import Place
from airsick_core.settings import Settings
from airsick_serving.words import chance, personal
from airsick_serving.words import reasons as reasons_in_words
from airsick_transform.runner import BuildSummary, TransformError
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

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
    answered: int  # how many of them have tomorrow's answer
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
            table=[{k: v for k, v in node.items() if k != "sql"} for node in nodes],
            description=f"dbt build: {len(nodes)} nodes, {failed} failed",
        )


def _markdown(frame) -> str:
    """A DataFrame as a Markdown table (without pulling in tabulate)."""
    header = ["model", *frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([str(i), *map(str, row)]) + " |" for i, row in frame.iterrows()]
    return "\n".join(lines)


@task(retries=0)  # training is never retried blindly: a failure needs a look
def train_task(settings: Settings, snapshot: int | None = None):
    return steps.train(settings, snapshot=snapshot)


@flow(name="train", log_prints=True)
def train_flow(settings: Settings, force: bool = False, reason: str | None = None) -> dict:
    """Retrain when the rule says so (or when ``force``, or when the evening already
    applied the rule: ``reason``), gate the result, publish the decision."""
    from airsick_training.train import retrain_decision

    logger = get_run_logger()
    if reason is None:
        rule = retrain_decision(
            settings.lakehouse, steps.stores(settings).registry, settings.person, settings.today()
        )
        needed, reason = rule.promote, rule.reason
    else:
        needed = True
    logger.info("retrain %s: %s", "needed" if needed or force else "skipped", reason)
    if not (needed or force):
        return {"trained": False, "reason": reason}
    return _train_and_publish(settings, reason)


def _train_and_publish(settings: Settings, reason: str, snapshot: int | None = None) -> dict:
    """Train, gate and publish the decision as an artifact; return what the summary says."""
    report = train_task(settings, snapshot)
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


@task(retries=0, task_run_name="train {settings.person}", cache_policy=NO_CACHE)
def train_person_task(settings: Settings, reason: str, snapshot: int) -> dict:
    """One person's training, gate and decision, on whichever Dask worker runs it (the
    summary names the worker), on the lakehouse's ``snapshot``: the evening's build."""
    from distributed import get_worker

    worker = get_worker().address
    get_run_logger().info("training %s on Dask worker %s", settings.person, worker)
    return _train_and_publish(settings, reason, snapshot) | {"worker": worker}


@flow(name="trainings", log_prints=True)
def trainings_flow(
    people: list[Settings], reasons: dict[str, str], snapshot: int
) -> dict[str, dict]:
    """Everyone due a training, each as a task on the flow's task runner (a Dask cluster:
    ``cluster.task_runner``), all on the same ``snapshot`` of the lakehouse (a reference,
    not the data: each worker reads its person's rows); whose failed is theirs, and said.
    A worker that dies is Dask's to handle (it runs the task again on another); a scheduler
    that goes away leaves tasks unfinished, and the evening fails saying so."""
    from airsick_orchestration import cluster

    futures = {p.person: train_person_task.submit(p, reasons[p.person], snapshot) for p in people}
    done, unfinished = {}, []
    for person, future in futures.items():
        future.wait()
        state = future.state
        if not state.is_final():
            unfinished.append(person)
        else:
            done[person] = (
                {"ok": True, "result": state.result()}
                if state.is_completed()
                else {"ok": False, "why": _why(state)}
            )
    if unfinished:
        raise cluster.lost(people[0].dask_address, unfinished, len(futures))
    return done


@task(**IO_RETRIES)
def score_task(settings: Settings):
    return steps.predict(settings)


@flow(name="score", log_prints=True)
def score_flow(settings: Settings) -> list[dict]:
    """Score tomorrow and the forecast days; publish tomorrow's prediction."""
    return _publish_tomorrow(score_task(settings).predictions)


def _tomorrow(rows) -> list[dict]:
    """One person's predictions for the first day they are scored for, as the summary says."""
    rows = rows[rows["local_date"] == rows["local_date"].min()]
    return [
        {
            "place": row.place,
            "date": str(row.predicts_date.date()),
            "probability": round(float(row.probability), 4),
            "why": reasons_in_words(json.loads(row.reasons)),
            "model_version": str(row.model_version),
            "evidence_days": int(row.evidence_days),
            "prior_people": int(row.prior_people),
        }
        for row in rows.itertuples()
    ]


def _publish_tomorrow(rows) -> list[dict]:
    """Publish one person's tomorrow as the ``tomorrow`` artifact; return it."""
    tomorrow = _tomorrow(rows)
    lines = ["| place | day | chance | why | model | how personal |", "|---|---|---|---|---|---|"]
    for row in tomorrow:
        lines.append(
            f"| {row['place']} | {date.fromisoformat(row['date']):%a %d %b} | "
            f"{chance(row['probability'])} ({row['probability']:.0%}) | {row['why']} | "
            f"v{row['model_version']} | "
            f"{personal(row['evidence_days'], row['prior_people'])} |"
        )
    create_markdown_artifact(
        key="tomorrow", markdown="\n".join(lines), description="Tomorrow's risk of being sick"
    )
    return tomorrow


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


@task(retries=0, task_run_name="everyone's champions", cache_policy=NO_CACHE)
def champions_task(settings: Settings, people: list[str]) -> tuple[dict, dict[str, str]]:
    """Load each person's champion once for the evening (``steps.champions``)."""
    return steps.champions(settings, people)


@task(retries=0, task_run_name="everyone's retrain rules", cache_policy=NO_CACHE)
def decisions_task(settings: Settings, people: list[str], loaded: dict) -> dict:
    return steps.retrain_decisions(settings, people, loaded)


@task(**IO_RETRIES, task_run_name="score everyone", cache_policy=NO_CACHE)
def score_everyone_task(settings: Settings, loaded: dict):
    return steps.score_everyone(settings, loaded)


@task(retries=0, task_run_name="everyone's alerts", cache_policy=NO_CACHE)
def alerts_task(people: list[Settings], tomorrow: dict[str, list[dict]]) -> dict[str, dict]:
    """Each answered person's evening alert, if due; a failure is logged, never raised."""
    from airsick_serving import notify

    sent = {}
    for person in people:
        if person.person in tomorrow:
            delivery = notify.guarded(
                "evening alert", lambda p=person: steps.alert(p, tomorrow[p.person])
            )
            if delivery.status == "failed":
                get_run_logger().warning("an evening alert failed: %s", delivery.detail)
            sent[person.person] = {"status": delivery.status, "detail": delivery.detail}
    return sent


@dataclass
class Evening:
    """Everyone's evening after the build: whose answers, trainings and alerts, who failed."""

    tomorrow: dict[str, list[dict]]  # person → tomorrow's predictions
    trained: dict[str, dict]  # person → what their training (or their rule) said
    alerts: dict[str, dict]
    failed: dict[str, str]  # person → why their evening failed, one sentence
    seconds: dict[str, float]


def everyones_evening(settings: Settings) -> Evening:
    """Everyone's evening in shared steps: their champions loaded and their retrain rules
    read once; a training flow run for each person whose rule says so (their gate, their
    champion); everyone scored in one pass into one file; each person's alert.

    A person's failure (training, scoring) is theirs: the others are answered, and they
    are named with why. Whoever failed to train is still answered by their champion."""
    people = steps.everyone(settings)
    names = [person.person for person in people]
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    loaded, failed = champions_task(settings, names)
    decisions = decisions_task(settings, names, loaded)
    seconds["decide"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    trained = {name: {"trained": False, "reason": decisions[name].reason} for name in names}
    retrained = []
    due = [p for p in people if p.person not in failed and decisions[p.person].promote]
    for name, outcome in _trainings(settings, due, decisions).items():
        if outcome["ok"]:
            trained[name] = outcome["result"]
            retrained.append(name)
        else:
            failed[name] = f"their training failed: {outcome['why']}"
    if retrained:  # the trained: their champion may be new
        loaded |= champions_task(settings, retrained)[0]
    seconds["train"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    scored = score_everyone_task(settings, {p: m for p, m in loaded.items() if p in names})
    tomorrow = {}
    if not scored.predictions.empty:
        for name, rows in scored.predictions.groupby("person", sort=False):
            tomorrow[name] = _tomorrow(rows)
        if settings.person in tomorrow:
            _publish_tomorrow(scored.predictions[scored.predictions["person"] == settings.person])
    for name, why in scored.failed.items():
        failed[name] = why
    for name in names:
        if name not in tomorrow and name not in failed:
            failed[name] = "they have no champion yet"
    seconds["score"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    alerts = alerts_task(people, tomorrow)
    seconds["alerts"] = round(time.perf_counter() - started, 2)
    for name, why in failed.items():
        answered = " (answered by their champion)" if name in tomorrow else ""
        failed[name] = why + answered
        get_run_logger().error("an evening failed: %s", failed[name])
    _publish_everyone(tomorrow, failed)
    return Evening(tomorrow, trained, alerts, failed, seconds)


def _trainings(settings: Settings, due: list[Settings], decisions: dict) -> dict[str, dict]:
    """Train everyone ``due``: one training flow run each, one after another, or all as
    tasks on the Dask cluster of AIRSICK_DASK_ADDRESS (``cluster``)."""
    if not due:
        return {}
    if settings.dask_address:
        from airsick_orchestration import cluster

        reasons = {person.person: decisions[person.person].reason for person in due}
        steps.ensure_router(settings)  # here, once, rather than raced by the workers
        snapshot = steps.snapshot(settings)  # the build they all read
        runner = cluster.task_runner(settings)
        try:
            return trainings_flow.with_options(task_runner=runner)(due, reasons, snapshot)
        except OSError as error:  # the scheduler went between the check and the trainings
            raise cluster.lost(settings.dask_address, list(reasons), len(reasons)) from error
    found = {}
    for person in due:
        state = train_flow(person, reason=decisions[person.person].reason, return_state=True)
        found[person.person] = (
            {"ok": True, "result": state.result()}
            if state.is_completed()
            else {"ok": False, "why": _why(state)}
        )
    return found


def _publish_everyone(tomorrow: dict, failed: dict[str, str]) -> None:
    # Who failed is named (whose answer is missing tonight); those answered are counted:
    # their own runs say the rest. `forget` deletes a summary that names the person.
    lines = ["| person | why their evening failed |", "|---|---|"]
    lines += [f"| {name} | {why} |" for name, why in failed.items()]
    create_markdown_artifact(
        key="everyone",
        markdown=f"# The evening: {len(tomorrow)} answered, {len(failed)} failed\n\n"
        + ("\n".join(lines) if failed else "Everyone was answered."),
        description="How many were answered, and who failed and why",
    )


def _why(state) -> str:
    try:
        state.result()
    except Exception as error:  # the person's failure, as its one sentence
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return state.message or state.type.value


@flow(name="daily", log_prints=True)
def daily_flow(settings: Settings) -> dict:
    """Ingest everyone's places, build once, then each person's evening (train when
    warranted, gate, score tomorrow, alert); one daily run at a time, on every machine
    that shares the lakehouse (``locks.shared``)."""
    with locks.shared(settings, "daily"):
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

    if settings.dask_address:
        from airsick_orchestration import cluster

        cluster.check(settings)  # before anything is written
    ingested = timed("ingest", lambda: ingest_flow(settings))
    stale = freshness(settings)
    built = timed("transform", lambda: transform_flow(settings))
    timed("prior", lambda: prior_task(settings))
    evening = timed("evenings", lambda: everyones_evening(settings))
    if not evening.tomorrow:
        raise RuntimeError(
            "; ".join(f"{name}'s evening failed: {why}" for name, why in evening.failed.items())
        )
    trained = evening.trained.get(settings.person, {"trained": False, "reason": ""})
    if settings.person in evening.failed:
        why = evening.failed[settings.person]
        trained = {"trained": False, "reason": f"the evening failed: {why}"}
    tomorrow = evening.tomorrow.get(settings.person, [])
    alert = evening.alerts.get(settings.person, {})
    seconds |= evening.seconds
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
        people=len(evening.trained),
        answered=len(evening.tomorrow),
        failed=evening.failed,
        seconds=seconds,
    )
    for problem in stale:
        get_run_logger().warning("stale: %s", problem)
    return asdict(summary)
