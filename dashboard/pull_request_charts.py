"""Charts of pull-request flow (spec section 8): where a change waits (no Streamlit here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts import _layout
from dashboard.safe_text import plot_text
from metrics.pull_requests import WAIT_NAMES, WAITS

WAIT_COLOURS = {
    "coding_hours": "#1e88e5",
    "pickup_hours": "#ef6c00",
    "review_hours": "#7e57c2",
    "deploy_hours": "#8d6e63",
}


def weekly_waits(weeks: pd.DataFrame) -> go.Figure:
    """Stacked bars: per week, the median hours of each wait (from
    `metrics.pull_requests.weekly_waits`)."""
    fig = go.Figure()
    for wait in WAITS:
        fig.add_trace(
            go.Bar(
                x=weeks.index,
                y=weeks[wait],
                name=WAIT_NAMES[wait],
                marker_color=WAIT_COLOURS[wait],
                customdata=weeks["pull_requests"],
                hovertemplate=f"{WAIT_NAMES[wait]}: median %{{y:.1f}} h, week of "
                "%{x|%Y-%m-%d} (%{customdata} merged)<extra></extra>",
            )
        )
    fig = _layout(fig, "Where pull requests wait (median hours per week)", "", "hours")
    # Four names do not fit beside the title at half width: the legend goes under the chart.
    fig.update_layout(
        barmode="stack",
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0},
    )
    return fig


def size_against_time(flow: pd.DataFrame) -> go.Figure:
    """Each merged pull request: lines changed against hours from opening to merge (log axes:
    sizes and times spread over orders of magnitude)."""
    known = flow[flow["lines_changed"].notna()]
    hours = (known["merged_at"] - known["opened_at"]).dt.total_seconds() / 3600
    fig = go.Figure(
        go.Scatter(
            x=known["lines_changed"].astype("float64").clip(lower=1),
            y=hours.clip(lower=0.1),
            mode="markers",
            marker={"color": "#5c6bc0", "opacity": 0.6},
            text=[plot_text(i) for i in known["item_id"]],
            hovertemplate="%{text}: %{x} lines, %{y:.1f} h open to merge<extra></extra>",
            name="pull requests",
        )
    )
    # Ticks at powers of ten only: log axes otherwise crowd minor labels at half width.
    fig.update_xaxes(type="log", dtick=1)
    fig.update_yaxes(type="log", tickvals=[1, 2, 5, 10, 24, 48, 100, 200, 500, 1000, 2000])
    return _layout(fig, "Pull-request size against time in review", "lines changed", "hours")
