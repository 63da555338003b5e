import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="airsick: tomorrow's air and you")

with app.setup:
    import json
    from datetime import date, timedelta

    import altair as alt
    import marimo as mo
    import pandas as pd
    from airsick_core.settings import Settings
    from airsick_ingestion.diary.events import SEVERITIES, SYMPTOMS, DiaryError
    from airsick_serving.client import AirsickClient, ServingError
    from airsick_serving.words import chance, personal
    from airsick_serving.words import reasons as reasons_in_words
    from airsick_stores import Stores, Unavailable


@app.function
def risk_colour(probability: float) -> str:
    """Green under 1 in 10, amber under 1 in 3, red above: the card's colour."""
    if probability < 0.10:
        return "#2e7d32"
    if probability < 1 / 3:
        return "#ef6c00"
    return "#c62828"


@app.function
def risk_card(
    place: str,
    day: date,
    probability: float,
    reasons: list[dict],
    version: str,
    evidence_days: int = 0,
    prior_people: int = 0,
) -> str:
    """One place's risk for one day as an HTML card: words first, the number, a bar, why,
    and how personal the answer is."""
    colour = risk_colour(probability)
    width = max(2.0, min(100.0, probability * 100))
    why = reasons_in_words(reasons, top=3)
    return f"""
    <div class="airsick-card" style="border:1px solid #ddd;border-left:8px solid {colour};
         border-radius:10px;padding:14px 18px;min-width:240px;max-width:420px;flex:1">
      <div style="font-size:0.9rem;color:#555">{place} · {day:%A %d %B}</div>
      <div style="font-size:2rem;font-weight:700;color:{colour};line-height:1.2">
        {chance(probability)}</div>
      <div style="font-size:1rem">{probability:.0%} chance of being sick</div>
      <div style="background:#eee;border-radius:4px;height:10px;margin:8px 0"
           role="meter" aria-valuenow="{probability:.3f}" aria-valuemin="0" aria-valuemax="1">
        <div style="background:{colour};width:{width:.0f}%;height:10px;border-radius:4px"></div>
      </div>
      <div style="font-size:0.9rem">Why: {why}.</div>
      <div style="font-size:0.85rem;color:#555">
        {personal(evidence_days, prior_people).capitalize()}.</div>
      <div style="font-size:0.75rem;color:#777">model version {version}</div>
    </div>"""


@app.function
def whole(value) -> int:
    """A count from a stored prediction (0 where older predictions lack it)."""
    return 0 if value is None or pd.isna(value) else int(value)


@app.function
def factors_that_raise(reasons: list[dict]) -> list[str]:
    """The factors that raised tomorrow's risk: the forecast chart highlights these."""
    return [r["factor"] for r in reasons if r.get("effect", 0) > 0]


@app.function
def forecast_charts(frame: pd.DataFrame, highlight: list[str]) -> list[alt.Chart]:
    """Hourly forecast, one small chart per variable (they wrap to any screen width); the
    variables that matter come first and in colour; all-zero variables are left out."""
    frame = frame.reset_index(drop=True)
    present = frame.groupby("variable")["value"].transform(lambda v: v.fillna(0).abs().sum() > 0)
    data = frame[present].copy()
    data["kind"] = data["was_forecast"].map({True: "forecast", False: "measured"})
    data = data[["hour", "variable", "value", "kind", "place"]]
    order = sorted(data["variable"].unique(), key=lambda v: (v not in highlight, v))
    charts = []
    for index, variable in enumerate(order):
        matters = variable in highlight
        legend = alt.Legend(title=None, orient="top") if index == 0 else None
        charts.append(
            alt.Chart(data[data["variable"] == variable], title=variable)
            .mark_line(
                strokeWidth=2.5 if matters else 1.5, color="#c62828" if matters else "#757575"
            )
            .encode(
                x=alt.X("hour:T", title=None, axis=alt.Axis(format="%a %d", tickCount="day")),
                y=alt.Y("value:Q", title=None),
                strokeDash=alt.StrokeDash(
                    "kind:N",
                    scale=alt.Scale(domain=["measured", "forecast"], range=[[1, 0], [5, 3]]),
                    legend=legend,
                ),
                detail="place:N",
                tooltip=["place", "hour:T", alt.Tooltip("value:Q", format=".1f")],
            )
            .properties(width=280, height=110)
        )
    return charts


@app.function
def diary_entry(values: dict) -> dict:
    """The form's values as the diary writer's arguments (the writer validates them)."""
    sick = values["state"] == "sick"
    return {
        "day": values["day"],
        "sick": sick,
        "symptoms": list(values["symptoms"]) if sick else None,
        "severity": values["severity"] if sick and values["severity"] != "-" else None,
        "note": values["note"].strip() or None,
        "source": "app",
    }


@app.function
def hindcast_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Each evening's prediction for the next day, with the days that were sick marked."""
    base = alt.Chart(frame).encode(x=alt.X("predicts_date:T", title=None))
    line = base.mark_line(color="#1565c0").encode(
        y=alt.Y("probability:Q", title="predicted chance", axis=alt.Axis(format="%"))
    )
    sick = (
        base.transform_filter(alt.datum.was_sick)
        .mark_point(color="#c62828", filled=True, size=40)
        .encode(y="probability:Q", tooltip=["predicts_date:T", "probability:Q", "model_version"])
    )
    return (line + sick).properties(width="container", height=160)


@app.function
def realized_scores(frame: pd.DataFrame) -> dict:
    """Brier score of the predictions whose outcome is known, and against the base rate."""
    known = frame.dropna(subset=["was_sick"])
    if known.empty:
        return {"days": 0}
    outcome = known["was_sick"].astype(float)
    return {
        "days": len(known),
        "brier": float(((known["probability"] - outcome) ** 2).mean()),
        "base_rate_brier": float(((outcome.mean() - outcome) ** 2).mean()),
    }


@app.function
def verdict_colour(verdict: str) -> str:
    """Red raises, green lowers, grey for no clear effect or not enough evidence yet."""
    return {"raises your risk": "#c62828", "lowers your risk": "#2e7d32"}.get(verdict, "#9e9e9e")


@app.function
def triggers_frame(found: list[dict]) -> pd.DataFrame:
    """The triggers as rows to chart and list: what is known first, then what is not yet."""
    frame = pd.DataFrame(found)
    if frame.empty:
        return frame
    known = ~frame["verdict"].isin(["not enough evidence yet", "no data here"])
    frame["shown_low"] = frame["low"].where(known)
    frame["shown_high"] = frame["high"].where(known)
    frame["colour"] = frame["verdict"].map(verdict_colour)
    return frame


@app.function
def triggers_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Each factor's odds ratio with its 95 % interval, on a log scale around 1 (no effect)."""
    order = list(frame["label"])
    shown = frame[frame["shown_low"].notna()]
    # The axis spans what is drawn (and 1), so a phone's narrow chart still reads.
    low = min(float(shown["shown_low"].min()), 0.8) * 0.9
    high = max(float(shown["shown_high"].max()), 1.25) * 1.1
    scale = alt.Scale(type="log", domain=[low, high], nice=False)
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=130))
    x = alt.X("odds_ratio:Q", scale=scale, title="odds × (1: no effect)")
    colour = alt.Color("colour:N", scale=None)
    rules = (
        alt.Chart(shown)
        .mark_rule(strokeWidth=2)
        .encode(x=alt.X("shown_low:Q", scale=scale), x2="shown_high:Q", y=y, color=colour)
    )
    points = (
        alt.Chart(shown)
        .mark_point(filled=True, size=70)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                "label",
                "verdict",
                "change",
                alt.Tooltip("odds_ratio:Q", format=".2f"),
                alt.Tooltip("low:Q", format=".2f"),
                alt.Tooltip("high:Q", format=".2f"),
            ],
        )
    )
    no_effect = (
        alt.Chart(pd.DataFrame({"one": [1.0]})).mark_rule(strokeDash=[4, 3]).encode(x="one:Q")
    )
    return (no_effect + rules + points).properties(width="container", height=24 * len(shown) + 30)


@app.function
def backtest_chart(frame: pd.DataFrame, model: str) -> alt.LayerChart:
    """The backtest's out-of-sample prediction for each day, sick days marked."""
    data = frame[frame["model"] == model].assign(
        predicts_date=lambda f: f["local_date"] + pd.Timedelta(days=1),
        was_sick=lambda f: f["y"] == 1,
    )
    base = alt.Chart(data).encode(x=alt.X("predicts_date:T", title=None))
    line = base.mark_line(color="#757575", strokeDash=[4, 2]).encode(
        y=alt.Y("p:Q", title="backtest chance", axis=alt.Axis(format="%"))
    )
    sick = (
        base.transform_filter(alt.datum.was_sick)
        .mark_point(color="#c62828", filled=True, size=30)
        .encode(y="p:Q", tooltip=["predicts_date:T", alt.Tooltip("p:Q", format=".0%")])
    )
    return (line + sick).properties(width="container", height=160)


@app.function
def backtest_scores(frame: pd.DataFrame, model: str) -> dict:
    """Brier score of the backtest's predictions against the base rate's, on the same days."""
    scores = {}
    for name in (model, "base_rate"):
        rows = frame[frame["model"] == name]
        scores[name] = float(((rows["p"] - rows["y"]) ** 2).mean()) if len(rows) else float("nan")
    days = int((frame["model"] == model).sum())
    return {"days": days, "brier": scores[model], "base_rate_brier": scores["base_rate"]}


@app.function
def signed_in(default: str) -> str:
    """Whose app this is: the person the server signed in (``airsick_notebooks.server``),
    else (``marimo edit``, a home with no passwords on loopback) the default person."""
    request = mo.app_meta().request
    user = (request.user if request is not None else None) or {}
    return str(user["username"]) if user.get("is_authenticated") else default


@app.cell
def _():
    settings = Settings()
    settings = settings.model_copy(update={"person": signed_in(settings.person)})
    stores = Stores.from_settings(settings)
    client = AirsickClient(settings.serve_url, timeout=(1.0, 10.0), attempts=2)
    mo.md(
        f"# How likely am I to be sick tomorrow?\n"
        f"For **{settings.person}**, from the air where you live and your diary. "
        "[Sign out](/logout)"
    )
    return client, settings, stores


@app.cell
def _(settings):
    diary_form = (
        mo.md(
            """
            ## How was today?
            {day} {state}

            {symptoms} {severity}

            {note}
            """
        )
        .batch(
            day=mo.ui.date(value=settings.today(), label="Day"),
            state=mo.ui.radio(options=["well", "sick"], value="well", label="I was", inline=True),
            symptoms=mo.ui.multiselect(
                options=sorted(SYMPTOMS), label="Symptoms (if sick)", full_width=True
            ),
            severity=mo.ui.dropdown(
                options=["-", *SEVERITIES.values()], value="-", label="How bad"
            ),
            note=mo.ui.text_area(label="Note", placeholder="Anything worth remembering"),
        )
        .form(submit_button_label="Log this day", bordered=True)
    )
    diary_form
    return (diary_form,)


@app.cell
def _(diary_form, settings, stores):
    logged = None
    if diary_form.value is not None:
        try:
            _entry = diary_entry(diary_form.value)
            _result = stores.diary.log(settings.person, settings.today(), **_entry)
            _state = "sick" if _entry["sick"] else "well"
            logged = mo.callout(
                mo.md(
                    f"Logged {_entry['day']} as {_state}."
                    if _result.written
                    else f"{_entry['day']} was already logged like this; nothing changed."
                ),
                kind="success",
            )
        except DiaryError as _error:
            logged = mo.callout(mo.md(str(_error)), kind="danger")
        except Exception as _error:
            logged = mo.callout(
                mo.md(f"The diary could not be written right now ({_error})."), kind="danger"
            )
    logged
    return (logged,)


@app.cell
def _(logged, settings, stores):
    _ = logged  # re-read the diary after every entry
    try:
        _days = stores.diary.latest(settings.person, since=settings.today() - timedelta(days=14))
        _table = (
            mo.ui.table(
                _days.assign(
                    date=_days["date"].astype(str),
                    state=_days["sick"].map({True: "sick", False: "well"}),
                    symptoms=_days["symptoms"].fillna("").str.replace(",", ", "),
                    severity=_days["severity"].map(SEVERITIES).fillna(""),
                    note=_days["note"].fillna(""),
                )[["date", "state", "symptoms", "severity", "note"]],
                selection=None,
                show_column_summaries=False,
                pagination=True,
                page_size=7,
                label="The last two weeks",
            )
            if len(_days)
            else mo.md("The diary is empty.")
        )
    except Unavailable as _error:
        _table = mo.callout(mo.md(str(_error)), kind="warn")
    _table
    return


@app.cell
def _():
    show_anyway = mo.ui.button(
        label="Show tomorrow's risk and the air now",
        value=False,
        on_click=lambda _: True,
    )
    return (show_anyway,)


@app.cell
def _(logged, settings, show_anyway, stores):
    _ = logged  # a day just logged reveals the numbers
    try:
        revealed = stores.diary.logged_on(settings.person, settings.today()) or bool(
            show_anyway.value
        )
    except Unavailable:
        revealed = True
    # Like AirRater: the day's air and risk come after the diary, so they cannot nudge it.
    mo.md("") if revealed else mo.vstack(
        [
            mo.md(
                "Tomorrow's risk and the air are shown once today is in your diary, so that "
                "the numbers do not colour how you remember the day."
            ),
            show_anyway,
        ]
    )
    return (revealed,)


@app.cell
def _(client, settings, stores):
    notices = []
    tomorrow = pd.DataFrame()
    try:
        _rows = stores.marts.scoring_rows(settings.person)
    except Unavailable as _error:
        notices.append(f"{_error} The rest of the page still works.")
        _rows = pd.DataFrame()
    _skipped = stores.marts.notes(settings.person)
    if _skipped:
        notices.append("About the data: " + "; ".join(_skipped) + ".")
    if not _rows.empty:
        try:
            _answers = client.predict(_rows, person=settings.person)
            tomorrow = _rows[["place", "local_date", "predicts_date"]].assign(
                probability=[a.probability for a in _answers],
                reasons=[a.reasons for a in _answers],
                model_version=[a.model_version for a in _answers],
                evidence_days=[a.evidence_days for a in _answers],
                prior_people=[a.prior_people for a in _answers],
            )
        except ServingError:
            notices.append(
                "The model server is not answering right now, so these are the last "
                "predictions the evening run stored (start it with `airsick serve`)."
            )
            try:
                _stored = stores.predictions.latest(settings.person)
            except Unavailable:
                _stored = pd.DataFrame()
            if not _stored.empty:
                tomorrow = _stored.assign(reasons=_stored["reasons"].map(json.loads))
    return notices, tomorrow


@app.cell
def _(notices, revealed, tomorrow):
    mo.stop(not revealed)
    _first = (
        tomorrow[tomorrow["predicts_date"] == tomorrow["predicts_date"].min()]
        if len(tomorrow)
        else tomorrow
    )
    _cards = [
        mo.Html(
            risk_card(
                r.place,
                pd.Timestamp(r.predicts_date).date(),
                r.probability,
                r.reasons,
                r.model_version,
                whole(getattr(r, "evidence_days", 0)),
                whole(getattr(r, "prior_people", 0)),
            )
        )
        for r in _first.itertuples()
    ]
    mo.vstack(
        [
            *[mo.callout(mo.md(n), kind="warn") for n in notices],
            mo.md("## Tomorrow"),
            mo.hstack(_cards, wrap=True, justify="start", gap=1)
            if _cards
            else mo.md("Nothing to show yet: run `airsick demo --once` or the daily flow."),
        ]
    )
    return


@app.cell
def _(revealed, stores, tomorrow):
    mo.stop(not revealed)
    _highlight = []
    if len(tomorrow):
        _first = tomorrow.sort_values("predicts_date").iloc[0]
        _highlight = factors_that_raise(_first["reasons"])
    try:
        _frame = stores.marts.forecast()
        _forecast_view = (
            mo.hstack(
                [
                    mo.ui.altair_chart(_chart, chart_selection=False, legend_selection=False)
                    for _chart in forecast_charts(_frame, _highlight)
                ],
                wrap=True,
                justify="start",
            )
            if len(_frame)
            else mo.md("No forecast in the lake yet.")
        )
    except Unavailable as _error:
        _forecast_view = mo.callout(mo.md(str(_error)), kind="warn")
    _said = ", ".join(_highlight) if _highlight else "none of them stands out"
    mo.vstack(
        [
            mo.md(
                f"## The air and the weather in the coming days\nIn colour: what raises your "
                f"risk tomorrow "
                f"({_said}). Dashed: forecast."
            ),
            _forecast_view,
        ]
    )
    return


@app.cell
def _(settings, stores):
    _parts = [mo.md("## What affects me")]
    try:
        _latest, _history = stores.registry.triggers(settings.person)
    except Unavailable as _error:
        _latest, _history = None, pd.DataFrame()
        _parts.append(mo.callout(mo.md(str(_error)), kind="warn"))
    if _latest is None:
        _parts.append(mo.md("Nothing learnt yet: your triggers appear after the first training."))
    else:
        _frame = triggers_frame(_latest["triggers"])
        _parts.append(
            mo.md(
                f"From your {_latest.get('labelled_days') or 0} logged days (training up to "
                f"{_latest['date_to']}). How the odds of being sick the next day change after a "
                "typical change of each factor at your places; the line is the 95 % interval."
            )
        )
        if _frame["shown_low"].notna().any():
            _parts.append(mo.ui.altair_chart(triggers_chart(_frame), chart_selection=False))
        _parts.append(
            mo.ui.table(
                _frame.assign(
                    odds=[
                        f"{o:.2f}" if known else ""
                        for o, known in zip(
                            _frame["odds_ratio"], _frame["shown_low"].notna(), strict=True
                        )
                    ],
                    evidence=(_frame["evidence"] * 100).round().astype(int).astype(str) + " %",
                )[["label", "verdict", "odds", "change", "evidence"]].rename(
                    columns={"label": "factor", "change": "typical change"}
                ),
                selection=None,
                show_column_summaries=False,
                pagination=False,
                label="Evidence: how much of the uncertainty your diary has removed",
            )
        )
        if _history["trained_to"].nunique() > 1:
            _named = _history.assign(
                trained_to=pd.to_datetime(_history["trained_to"], errors="coerce")
            ).dropna(subset=["trained_to"])
            _parts.append(
                mo.ui.altair_chart(
                    alt.Chart(_named, title="How the estimates moved, training by training")
                    .mark_line(point=True)
                    .encode(
                        x=alt.X("trained_to:T", title=None),
                        y=alt.Y("odds_ratio:Q", scale=alt.Scale(type="log"), title="odds ×"),
                        color=alt.Color("term:N", legend=alt.Legend(orient="bottom", columns=3)),
                    )
                    .properties(width="container", height=180),
                    chart_selection=False,
                    legend_selection=False,
                )
            )
    mo.vstack(_parts)
    return


@app.cell
def _(settings, stores):
    _parts = [mo.md("## How the model has done")]
    try:
        _past = stores.marts.hindcast(settings.person)
    except Unavailable as _error:
        _past = pd.DataFrame()
        _parts.append(mo.callout(mo.md(str(_error)), kind="warn"))
    if len(_past):
        _scores = realized_scores(_past)
        if _scores["days"]:
            _parts.append(
                mo.md(
                    f"Over {_scores['days']} days with a known outcome: Brier score "
                    f"**{_scores['brier']:.3f}** (lower is better; always saying the usual "
                    f"rate would score {_scores['base_rate_brier']:.3f})."
                )
            )
        _parts.append(mo.ui.altair_chart(hindcast_chart(_past), chart_selection=False))
    else:
        _parts.append(
            mo.md("No evening-before predictions yet: they appear after the first evenings.")
        )
    try:
        _backtest, _about = stores.registry.backtest(settings.person)
    except Unavailable as _error:
        _backtest, _about = pd.DataFrame(), {}
        _parts.append(mo.callout(mo.md(str(_error)), kind="warn"))
    if len(_backtest):
        _model = _about["challenger"]
        _scored = backtest_scores(_backtest, _model)
        _parts += [
            mo.md(
                f"**Backtest** (not predictions you received): each of {_scored['days']} past "
                f"days predicted by the {_model} model trained only on the days before it "
                f"({_about['fold_kind']} folds, training up to {_about['trained_to']}). Brier "
                f"score **{_scored['brier']:.3f}**; always saying the usual rate would score "
                f"{_scored['base_rate_brier']:.3f}."
            ),
            mo.ui.altair_chart(backtest_chart(_backtest, _model), chart_selection=False),
        ]
    try:
        _versions = stores.registry.versions(settings.person)
        if len(_versions):
            _shown = _versions.assign(
                registered=_versions["registered"].dt.strftime("%Y-%m-%d %H:%M"),
                champion=_versions["is_champion"].map({True: "current", False: ""}),
                compared=[
                    f"{gain} ({interval})" if gain else ""
                    for gain, interval in zip(_versions["gain"], _versions["interval"], strict=True)
                ],
            )[["version", "registered", "decision", "champion", "days", "compared", "reason"]]
            _parts += [
                mo.md(
                    "Model versions and the gate's decisions. *days*: the logged days it "
                    "learnt from; *compared*: how much better than the model answering "
                    "before it (log loss per day, with its 90 % interval), on every past "
                    "day the backtest predicted."
                ),
                mo.ui.table(
                    _shown,
                    selection=None,
                    pagination=True,
                    page_size=5,
                    show_column_summaries=False,
                ),
            ]
    except Unavailable as _error:
        _parts.append(mo.callout(mo.md(str(_error)), kind="warn"))
    mo.vstack(_parts)
    return


if __name__ == "__main__":
    app.run()
