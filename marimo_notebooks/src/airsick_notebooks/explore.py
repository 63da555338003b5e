import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="airsick: explore the features")

with app.setup:
    import altair as alt
    import marimo as mo
    import numpy as np
    import pandas as pd
    from airsick_core.settings import Settings
    from airsick_stores import Stores, Unavailable

    EXPLORATION_EXPERIMENT = "exploration"
    LAGS = ("", "_lag1", "_lag2", "_lag3")


@app.function
def base_variables(columns: list[str]) -> list[str]:
    """The daily variables that have lags in the feature table (pm2_5_mean, ozone_max, ...)."""
    return sorted(c for c in columns if f"{c}_lag1" in columns)


@app.function
def filtered(frame: pd.DataFrame, places: list[str], start, end) -> pd.DataFrame:
    """Rows of the chosen places within [start, end]."""
    days = pd.to_datetime(frame["local_date"])
    keep = frame["place"].isin(places) & (days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))
    return frame[keep]


@app.function
def sick_rate_by_bins(frame: pd.DataFrame, variable: str, bins: int = 5) -> pd.DataFrame:
    """Next-day sickness rate per quantile bin of a variable and of each of its lags.

    Columns: lag (0-3 days before), bin (1 = lowest), level (the bin's median), rate, days.
    """
    rows = []
    labelled = frame.dropna(subset=["sick_next_day"])
    for lag, suffix in enumerate(LAGS):
        column = variable + suffix
        values = labelled[[column, "sick_next_day"]].dropna()
        if values[column].nunique() < bins:
            continue
        quantile = pd.qcut(values[column], bins, labels=False, duplicates="drop") + 1
        grouped = values.groupby(quantile).agg(
            level=(column, "median"),
            rate=("sick_next_day", "mean"),
            days=("sick_next_day", "size"),
        )
        rows.append(grouped.reset_index(names="bin").assign(lag=f"{lag} days before"))
    if not rows:
        return pd.DataFrame(columns=["lag", "bin", "level", "rate", "days"])
    return pd.concat(rows, ignore_index=True)


@app.function
def seasonality(frame: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Per calendar month: the variable's mean and the share of days followed by sickness."""
    month = pd.to_datetime(frame["local_date"]).dt.month
    return (
        frame.assign(month=month)
        .groupby("month")
        .agg(level=(variable, "mean"), sick_rate=("sick_next_day", "mean"))
        .reset_index()
    )


@app.function
def quick_experiment(frame: pd.DataFrame, columns: list[str], test_share: float = 0.25) -> dict:
    """Fit a logistic regression on the chosen columns, trained on the earlier days and
    scored on the later ones (time-ordered, never shuffled); return its scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = frame.dropna(subset=["sick_next_day"]).sort_values("local_date")
    x = data[columns].to_numpy(dtype="float64")
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    y = data["sick_next_day"].astype(int).to_numpy()
    split = int(len(data) * (1 - test_share))
    if split < 30 or len(data) - split < 30 or len(set(y[:split])) < 2:
        raise ValueError("Too few labelled days in the selection for a quick experiment.")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(x[:split], y[:split])
    p = model.predict_proba(x[split:])[:, 1]
    base = np.full_like(p, y[:split].mean(), dtype="float64")
    scores = {
        "brier": float(brier_score_loss(y[split:], p)),
        "base_rate_brier": float(brier_score_loss(y[split:], base)),
        "train_days": split,
        "test_days": len(data) - split,
    }
    if len(set(y[split:])) == 2:
        scores["roc_auc"] = float(roc_auc_score(y[split:], p))
    return scores


@app.function
def log_experiment(tracking_uri: str, columns: list[str], scores: dict, place: str) -> str:
    """Record a quick experiment in MLflow's `exploration` experiment; return the run id."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(EXPLORATION_EXPERIMENT)
    with mlflow.start_run(run_name=f"quick logistic on {len(columns)} features") as run:
        mlflow.set_tags({"airsick.kind": "exploration", "places": place})
        mlflow.log_params({"model": "logistic", "features": ",".join(columns)[:6000]})
        mlflow.log_metrics({k: float(v) for k, v in scores.items()})
    return run.info.run_id


@app.cell
def _():
    mo.md("""
    # Explore the features
    The daily feature table (dbt's `marts.fct_daily_features`): what the air was like,
    and whether the next day was a sick one.
    """)
    return


@app.cell
def _():
    settings = Settings()
    try:
        features = Stores.from_settings(settings).marts.features(settings.person)
        problem = None if len(features) else "The feature table is empty: run the pipeline."
    except Unavailable as error:
        features, problem = pd.DataFrame(), str(error)
    mo.stop(problem is not None, mo.callout(mo.md(problem or ""), kind="warn"))
    return features, settings


@app.cell
def _(features):
    first, last = pd.to_datetime(features["local_date"]).agg(["min", "max"])
    place_choice = mo.ui.multiselect(
        options=sorted(features["place"].unique()),
        value=sorted(features["place"].unique()),
        label="Places",
    )
    dates = mo.ui.date_range(start=first.date(), stop=last.date(), label="Days")
    variable = mo.ui.dropdown(
        options=base_variables(list(features.columns)), value="pm2_5_mean", label="Variable"
    )
    mo.hstack([place_choice, dates, variable], wrap=True, justify="start")
    return dates, place_choice, variable


@app.cell
def _(dates, features, place_choice):
    chosen = filtered(features, place_choice.value, *dates.value)
    mo.md(
        f"{len(chosen):,} days selected; {chosen['sick_next_day'].mean():.0%} were followed "
        f"by a sick day."
    )
    return (chosen,)


@app.cell
def _(chosen, variable):
    _data = chosen.assign(next_day=chosen["sick_next_day"].map({True: "sick", False: "well"}))
    _histogram = (
        alt.Chart(_data.dropna(subset=["next_day"]))
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X(f"{variable.value}:Q", bin=alt.Bin(maxbins=40)),
            y=alt.Y("count():Q", stack=None),
            color=alt.Color("next_day:N", title="next day"),
        )
        .properties(title="Distribution, by what the next day was", width=320, height=200)
    )
    _months = seasonality(chosen, variable.value)
    _season = (
        alt.Chart(_months)
        .mark_line(point=True)
        .encode(x="month:O", y=alt.Y("level:Q", title=variable.value))
        .properties(title="Seasonality", width=320, height=200)
    ) | (
        alt.Chart(_months)
        .mark_bar(color="#c62828", opacity=0.6)
        .encode(x="month:O", y=alt.Y("sick_rate:Q", axis=alt.Axis(format="%")))
        .properties(title="Share of days followed by sickness", width=320, height=200)
    )
    mo.vstack([mo.md("## Distribution and seasons"), _histogram, _season])
    return


@app.cell
def _(chosen, variable):
    _bins = sick_rate_by_bins(chosen, variable.value)
    _chart = (
        alt.Chart(_bins)
        .mark_line(point=True)
        .encode(
            x=alt.X("bin:O", title=f"quintile of {variable.value} (1 = lowest)"),
            y=alt.Y("rate:Q", title="next-day sickness", axis=alt.Axis(format="%")),
            color=alt.Color("lag:N", title=None),
            tooltip=["lag", "bin", "level", alt.Tooltip("rate:Q", format=".1%"), "days"],
        )
        .properties(width=520, height=240)
    )
    mo.vstack([mo.md("## Sickness against the variable and its lags"), _chart])
    return


@app.cell
def _(features):
    experiment_columns = mo.ui.multiselect(
        options=[
            c
            for c in features.columns
            if features[c].dtype.kind in "fiub" and c not in ("sick_next_day",)
        ],
        value=["pm2_5_mean", "pm2_5_mean_lag1", "ozone_max", "sick_today"],
        label="Features for a quick model",
    )
    run_button = mo.ui.run_button(label="Fit and log to MLflow")
    mo.vstack(
        [
            mo.md(
                "## A quick experiment\nA logistic regression on the features you pick, trained "
                "on the earlier 75% of the selected days and scored on the later 25%. Each fit "
                f"is logged to MLflow's `{EXPLORATION_EXPERIMENT}` experiment, apart from the "
                "production runs, to compare with the registered models there."
            ),
            mo.hstack([experiment_columns, run_button], wrap=True, justify="start"),
        ]
    )
    return experiment_columns, run_button


@app.cell
def _(chosen, experiment_columns, run_button, settings):
    mo.stop(not run_button.value, mo.md("Pick features, then fit."))
    try:
        _scores = quick_experiment(chosen, list(experiment_columns.value))
        _run = log_experiment(
            settings.tracking_uri,
            list(experiment_columns.value),
            _scores,
            ",".join(sorted(chosen["place"].unique())),
        )
        _said = mo.md(
            f"Brier **{_scores['brier']:.3f}** on {_scores['test_days']} later days (always "
            f"saying the usual rate: {_scores['base_rate_brier']:.3f}); AUC "
            f"{_scores.get('roc_auc', float('nan')):.2f}. Logged as run `{_run[:8]}` in "
            f"`{EXPLORATION_EXPERIMENT}`."
        )
    except ValueError as _error:
        _said = mo.callout(mo.md(str(_error)), kind="warn")
    _said
    return


if __name__ == "__main__":
    app.run()
