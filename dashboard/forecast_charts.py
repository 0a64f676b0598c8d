"""Charts of the Forecast page: plain functions from frames to plotly figures (no Streamlit).

Confidence lines use the percentile colours of the other charts (50% green to 95% red), so the
"safer" the answer, the warmer its colour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts import FAILURE_COLOUR, PERCENTILE_COLOURS, SUCCESS_COLOUR, _layout
from dashboard.safe_text import plot_text


def _confidence_line(fig: go.Figure, x, c: int, label: str, row: int) -> None:
    colour = PERCENTILE_COLOURS.get(c, "#555")
    fig.add_vline(x=x, line={"color": colour, "dash": "dash", "width": 1.5})
    # Answers are often close together: stagger their labels down the plot.
    fig.add_annotation(
        x=x, y=1 - 0.09 * row, xref="x", yref="paper", text=label, showarrow=False,
        xanchor="left", font={"size": 11, "color": colour}, bgcolor="rgba(255,255,255,0.8)",
    )  # fmt: skip


def how_many_histogram(outcomes: pd.Series, answers: pd.Series, by: pd.Timestamp) -> go.Figure:
    """How many trials delivered each total by `by`, with a line at each confidence's answer
    (at least that many items in c% of the trials)."""
    counts = outcomes.value_counts().sort_index()
    share = counts / max(len(outcomes), 1) * 100
    fig = go.Figure(
        go.Bar(
            x=counts.index, y=counts.to_numpy(), marker_color="#1e88e5", name="trials",
            customdata=share.to_numpy(),
            hovertemplate="%{x} items: %{y} trials (%{customdata:.1f}%)<extra></extra>",
        )
    )  # fmt: skip
    for row, (c, n) in enumerate(answers.items()):
        _confidence_line(fig, n, int(c), f"{c}%: {n}+", row)
    return _layout(
        fig, f"Items delivered by {by:%d %b %Y} in each simulated future", "items", "trials"
    )


def when_histogram(finish: pd.DataFrame, answers: pd.DataFrame, as_of_day: pd.Timestamp, n: int):
    """On which day each trial finished `n` items (trials beyond the cap are left out and
    counted in the title), with a line at each confidence's date."""
    days = pd.Series(finish, dtype="float64")
    done = days.dropna()
    dates = as_of_day + pd.to_timedelta(done, unit="D")
    counts = dates.value_counts().sort_index()
    fig = go.Figure(
        go.Bar(
            x=counts.index, y=counts.to_numpy(), marker_color="#1e88e5", name="trials",
            hovertemplate="%{x|%d %b %Y}: %{y} trials<extra></extra>",
        )
    )  # fmt: skip
    for row, (c, day) in enumerate(answers["date"].items()):
        if not pd.isna(day):
            _confidence_line(fig, day, int(c), f"{c}%: {day:%d %b}", row)
    missing = len(days) - len(done)
    note = f" ({missing} trials beyond ten years)" if missing else ""
    title = f"Day the {n} items are done in each simulated future{note}"
    return _layout(fig, title, "done on", "trials")


def features_ranges(table: pd.DataFrame, as_of_day: pd.Timestamp) -> go.Figure:
    """One row per feature, in priority order top to bottom: a bar from its 50% to its 95%
    date, a mark at 85%. A date beyond ten years is drawn as an open bar to the cap."""
    names = [plot_text(f"{i + 1}. {name}") for i, name in enumerate(table["feature"])]
    cap = as_of_day + pd.Timedelta(days=3650)
    start = table["p50"].fillna(cap)
    end = table["p95"].fillna(cap)
    width_ms = (end - start).dt.total_seconds() * 1000
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names, x=np.maximum(width_ms.to_numpy(), 86_400_000 / 4), base=start,
            orientation="h", marker_color="rgba(30,136,229,0.35)", name="50% to 95%",
            customdata=np.stack([start.dt.strftime("%d %b %Y"), end.dt.strftime("%d %b %Y")], 1),
            hovertemplate="%{y}: 50% by %{customdata[0]}, 95% by %{customdata[1]}<extra></extra>",
        )
    )  # fmt: skip
    p85 = table["p85"]
    fig.add_trace(
        go.Scatter(
            y=names, x=p85.fillna(cap), mode="markers", name="85%",
            marker={"color": PERCENTILE_COLOURS[85], "size": 12, "symbol": "diamond"},
            text=[f"{d:%d %b %Y}" if not pd.isna(d) else "beyond" for d in p85],
            hovertemplate="%{y}: 85% by %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(type="date")
    height = 140 + 40 * len(table)
    return _layout(fig, "Features in priority order: done between", "date", "", height=height)


def backtest_chart(table: pd.DataFrame) -> go.Figure:
    """Per past point, the 85% forecast for the next 14 days (a step line) against what was
    delivered (bars: green a hit, red a miss, grey no forecast)."""
    colours = np.where(
        table["hit"].isna(), "#9e9e9e", np.where(table["hit"].fillna(False), SUCCESS_COLOUR,
                                                  FAILURE_COLOUR)
    )  # fmt: skip
    verdict = np.where(
        table["hit"].isna(), "no forecast", np.where(table["hit"].fillna(False), "hit", "miss")
    )
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=table["as_of"], y=table["actual"].astype("float64"), marker_color=colours,
            name="delivered in the next 14 days", customdata=verdict,
            hovertemplate="from %{x|%d %b %Y}: %{y} delivered (%{customdata})<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=table["as_of"], y=table["forecast_85"].astype("float64"), mode="lines+markers",
            line={"color": PERCENTILE_COLOURS[85], "shape": "hv"}, name="85% forecast",
            hovertemplate="from %{x|%d %b %Y}: forecast %{y} or more<extra></extra>",
        )
    )  # fmt: skip
    return _layout(fig, "Past 85% forecasts against what happened", "forecast made on", "items")
