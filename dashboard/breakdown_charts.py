"""Charts that break work down: blocked days by reason, stage and week; throughput by type."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts import TYPE_COLOURS, _layout
from dashboard.safe_text import plot_text

BLOCKED_COLOUR = "#c62828"


def blocked_days_bars(by: pd.DataFrame, column: str, title: str) -> go.Figure:
    """Horizontal bars of `blocked_days` per `column` (from `metrics.blockers.blocked_days_by`),
    most first, with the number of items in the hover."""
    shown = by.iloc[::-1]  # plotly draws the first bar at the bottom
    labels = [plot_text(v) for v in shown[column]]
    fig = go.Figure(
        go.Bar(
            x=shown["blocked_days"],
            y=labels,
            orientation="h",
            marker_color=BLOCKED_COLOUR,
            customdata=shown["items"],
            hovertemplate="%{y}: %{x} blocked days, %{customdata} items<extra></extra>",
        )
    )
    return _layout(fig, title, "blocked days", "", height=max(220, 40 * len(by) + 110))


def blocked_days_weekly(weeks: pd.DataFrame) -> go.Figure:
    """Blocked item-days per week (from `metrics.blockers.blocked_days_per_week`)."""
    fig = go.Figure(
        go.Bar(
            x=weeks.index,
            y=weeks["blocked_days"],
            marker_color=BLOCKED_COLOUR,
            customdata=weeks["items_blocked"],
            name="blocked days",
            hovertemplate="week of %{x|%Y-%m-%d}: %{y} blocked days, "
            "%{customdata} items<extra></extra>",
        )
    )
    return _layout(fig, "Blocked days per week", "", "blocked item-days")


def throughput_by_type(delivered: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp):
    """Items delivered per week (weeks start on Monday), stacked by item type.

    `delivered`: delivered items with `done_day` (local day) and `type`, already within
    [first, last]. Every week of the range is shown, empty weeks as 0."""
    monday = first - pd.Timedelta(days=first.day_of_week)
    weeks = pd.date_range(monday, last, freq="7D")
    week = delivered["done_day"] - pd.to_timedelta(delivered["done_day"].dt.day_of_week, unit="D")
    kinds = delivered["type"].replace("", "(no type)")
    counts = pd.crosstab(week, kinds).reindex(weeks, fill_value=0)
    fig = go.Figure()
    order = counts.sum().sort_values(ascending=False).index
    for i, kind in enumerate(order):
        fig.add_trace(
            go.Bar(
                x=counts.index,
                y=counts[kind],
                name=plot_text(kind),
                marker_color=TYPE_COLOURS[i % len(TYPE_COLOURS)],
                hovertemplate=f"{plot_text(kind)}, week of %{{x|%Y-%m-%d}}: %{{y}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    return _layout(fig, "Throughput per week by type", "", "items delivered")
