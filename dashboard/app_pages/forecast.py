"""Forecast: how many by a date, when N will be done, features in order, and the backtest.

The numbers are those of `flowdeck forecast` on the same data and settings: both call
`metrics.forecast` (spec section 5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import data, forecast_charts, sidebar
from dashboard.view import current_view
from dashboard.widgets import chart, md, no_data, table
from metrics import forecast as fc
from metrics.days import local_day
from metrics.errors import FlowdeckError

SEEDS_SHOWN = 5
TRIAL_CHOICES = (1_000, 10_000, 100_000)
EXAMPLE_FEATURES = pd.DataFrame(
    {"feature": ["First feature", "Second feature"], "remaining": [8, 12]}
)

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
st.title("Forecast")

if loaded.empty:
    no_data(
        "No work items yet, so nothing to forecast from.",
        "Open the Data page and click Sync now, or run `flowdeck sync` in a terminal.",
    )
    st.stop()

st.caption(
    "Monte Carlo over your own daily throughput: each simulated future draws, for every day, "
    "one day of the recent history (days without delivery included). Read an answer as "
    '"in 85% of the futures we would deliver at least this". The sidebar\'s label and source '
    "filters apply; the types are chosen here."
)

# --- settings ---------------------------------------------------------------------------------
default_day = sidebar.default_range(loaded)[1]
cols = st.columns([1.2, 1, 1.6, 1, 0.8])
as_of_pick = cols[0].date_input(
    "As of", value=default_day, min_value=loaded.first_day or default_day,
    max_value=loaded.as_of_day, key="forecast_as_of",
    help="Forecast from the end of this day (default: the data's last day).",
)  # fmt: skip
window_days = int(
    cols[1].number_input(
        "History window (days)",
        min_value=1,
        max_value=3650,
        value=fc.DEFAULT_WINDOW_DAYS,
        step=7,
        key="forecast_window",
        help="Days of throughput sampled, ending with the as-of day (`--window-days`).",
    )  # fmt: skip
)
types = tuple(
    cols[2].multiselect(
        "Item types",
        loaded.options.get("types", []),
        default=list(view.filters.types),
        key="forecast_types",
        placeholder="All types",
        help="Count only these types (`--type`); it starts from the sidebar's choice.",
    )  # fmt: skip
)
trials = int(
    cols[3].selectbox(
        "Trials",
        TRIAL_CHOICES,
        index=1,
        key="forecast_trials",
        format_func="{:,}".format,
        help="Simulated futures (`--trials`).",
    )  # fmt: skip
)
seed = int(
    cols[4].number_input(
        "Seed",
        min_value=0,
        value=fc.DEFAULT_SEED,
        step=1,
        key="forecast_seed",
        help="The same data and settings give the same forecast (`--seed`).",
    )  # fmt: skip
)

moment = data.replay_moment(loaded, as_of_pick if isinstance(as_of_pick, dt.date) else None)
filters = replace(view.filters, types=())
report = data.report(loaded, filters, moment)
tz = workflow.timezone
day = local_day(moment, tz)
try:
    sample = fc.throughput_sample(report.items, tz, moment, window_days, types)
except FlowdeckError as exc:
    no_data(md(exc), "Pick a later as-of day or a longer history window.")
    st.stop()

st.markdown(
    f"From **{int(sample.sum())} items** delivered in the {window_days} days from "
    f"{sample.index[0]:%d %b %Y} to {day:%d %b %Y} (about {sample.mean() * 7:.1f} a week); "
    f"{trials:,} trials, seed {seed}."
)


def seed_spread(answer_of) -> str:
    """The 85% answer for `SEEDS_SHOWN` seeds from the chosen one: how much it moves."""
    values = [answer_of(seed + i) for i in range(SEEDS_SHOWN)]
    return ", ".join(values)


def date_text(value) -> str:
    return "beyond" if pd.isna(value) else f"{value:%d %b %Y}"


# --- how many by a date -----------------------------------------------------------------------
st.subheader("How many items by a date?")
by_pick = st.date_input(
    "By the end of", value=day + pd.Timedelta(days=28), key="forecast_by",
    max_value=day + pd.Timedelta(days=fc.HORIZON_CAP_DAYS),
    help="A day after the as-of day, within ten years (`--how-many-by`).",
)  # fmt: skip
by = pd.Timestamp(by_pick if isinstance(by_pick, dt.date) else day + pd.Timedelta(days=28))
days = fc.days_until(day, by)
outcomes = data.how_many_outcomes(sample, days, trials, seed)
many = fc.how_many_answers(outcomes)
tiles = st.columns(len(fc.CONFIDENCES))
for tile, (c, n) in zip(tiles, many.items(), strict=True):
    tile.metric(f"{c}% chance of", f"{n} or more", help=f"At least {n} items in {c}% of trials.")
st.markdown(f"**{md(fc.how_many_sentence(many, by, day))}**")
if days > 0:
    chart(forecast_charts.how_many_histogram(outcomes, many, by), key="forecast_how_many")
    spread = seed_spread(
        lambda s: str(fc.how_many_answers(data.how_many_outcomes(sample, days, trials, s))[85])
    )
    st.caption(f"The 85% answer with seeds {seed} to {seed + SEEDS_SHOWN - 1}: {spread} items.")

# --- when will N be done ----------------------------------------------------------------------
st.subheader("When will they be done?")
before_start = max(workflow.start - 1, 0)
waiting = report.items[(report.items["position"] == before_start) & ~report.items["discarded"]]
waiting_stage = workflow.stages[before_start].name
default_n = len(waiting) if workflow.start > 0 and len(waiting) else 10
n = int(
    st.number_input(
        "Number of items",
        min_value=0,
        value=default_n,
        step=1,
        key="forecast_when",
        help=f"Default: the items now in '{waiting_stage}', the stage before the commitment "
        "point (`--when`).",
    )  # fmt: skip
)
finish = data.finish_days(sample, (n,), trials, seed)[0]
when = fc.finish_answers(finish, day)
tiles = st.columns(len(fc.CONFIDENCES))
for tile, (c, value) in zip(tiles, when["date"].items(), strict=True):
    tile.metric(f"{c}% chance by", date_text(value))
st.markdown(f"**{md(fc.when_sentence(when, n, day))}**")
if n > 0:
    chart(forecast_charts.when_histogram(finish, when, day, n), key="forecast_when_chart")
    spread = seed_spread(
        lambda s: date_text(
            fc.finish_answers(data.finish_days(sample, (n,), trials, s)[0], day).loc[85, "date"]
        )
    )
    st.caption(f"The 85% date with seeds {seed} to {seed + SEEDS_SHOWN - 1}: {spread}.")

# --- features in priority order ---------------------------------------------------------------
st.subheader("Features in priority order")
st.caption(
    "The team finishes them one after the other: a feature is done when the items of every "
    "feature above it and its own are. Edit the table (add rows at the bottom) or upload a CSV "
    "with columns feature, remaining (`--features`)."
)
upload = st.file_uploader("Features CSV", type=["csv"], key="forecast_features_file")
features = EXAMPLE_FEATURES
where = "the table"
if upload is not None:
    try:
        features = pd.read_csv(
            upload, dtype=str, keep_default_na=False, sep=None, engine="python",
            encoding="utf-8-sig",
        )  # fmt: skip
        where = upload.name
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        st.error(f"{md(upload.name)}: cannot be read as CSV: {md(str(exc).splitlines()[-1])}")
        features = EXAMPLE_FEATURES
edited = st.data_editor(
    features, num_rows="dynamic", hide_index=True, key=f"forecast_features_{where}",
    column_config={
        "feature": st.column_config.TextColumn("feature", required=True),
        "remaining": st.column_config.NumberColumn("remaining", min_value=0, step=1),
    },
)  # fmt: skip
try:
    plan = fc.read_features(
        edited.dropna(how="all"), where, header_lines=1 if upload is not None else None
    )
except FlowdeckError as exc:
    st.error(md(exc))
    plan = None
if plan is not None and len(plan):
    ranges = fc.features_forecast(sample, day, plan, trials, seed)
    chart(forecast_charts.features_ranges(ranges, day), key="forecast_features_chart")
    for _, row in ranges.iterrows():
        st.markdown(f"- {md(fc.feature_sentence(row, day))}")
    shown = ranges[["feature", "remaining", "cumulative"]].copy()
    for c in fc.CONFIDENCES:
        shown[f"{c}%"] = ranges[f"p{c}"].map(lambda d: "beyond" if pd.isna(d) else f"{d:%Y-%m-%d}")
    table(shown, "features_forecast", key="forecast_features_table")

# --- backtest ---------------------------------------------------------------------------------
st.subheader("How right have our forecasts been?")
st.caption(
    "For each of the last 26 weeks: the 85% forecast of the next 14 days made from what was "
    "known then, against what was delivered (`--backtest`). A calibrated forecast comes true "
    "about 85% of the time."
)
if st.toggle("Run the backtest", value=True, key="forecast_backtest"):
    tested = data.backtest(loaded, filters, moment, window_days, types, trials, seed)
    hits, scored = fc.hit_rate(tested)
    st.markdown(f"**{fc.backtest_sentence(tested)}**")
    if scored and hits / scored < fc.CALIBRATED_HIT_RATE:
        st.warning(fc.unstable_warning(hits, scored))
    chart(forecast_charts.backtest_chart(tested), key="forecast_backtest_chart")
    shown = tested.assign(
        as_of=tested["as_of"].dt.strftime("%Y-%m-%d"),
        hit=tested["hit"].map({True: "yes", False: "no"}).fillna(""),
    )
    with st.expander("Backtest points"):
        table(shown, "backtest", key="forecast_backtest_table")
