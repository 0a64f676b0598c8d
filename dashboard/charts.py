"""Chart builders: plain functions from frames to plotly figures (no Streamlit here).

Every untrusted string that reaches a label or a hover goes through `plot_text`. Colours carry
meaning consistently: green on pace, amber watch, red beyond the SLE; blocked items are drawn
with a cross.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.safe_text import plot_text
from metrics.days import local_days
from metrics.limits import limits_in_force

PACE_COLOURS = {"ok": "#2e7d32", "watch": "#f9a825", "late": "#c62828", "": "#757575"}
PERCENTILE_COLOURS = {50: "#2e7d32", 70: "#9e9d24", 85: "#ef6c00", 95: "#c62828"}
BAND_FILL = {
    50: "rgba(46,125,50,0.10)",
    70: "rgba(158,157,36,0.12)",
    85: "rgba(239,108,0,0.12)",
    95: "rgba(198,40,40,0.12)",
}
TYPE_COLOURS = ["#1565c0", "#c62828", "#6a1b9a", "#00838f", "#ef6c00", "#558b2f", "#4e342e"]
STAGE_COLOURS = [
    "#90a4ae",
    "#4fc3f7",
    "#1e88e5",
    "#7e57c2",
    "#ffb300",
    "#43a047",
    "#8d6e63",
    "#26a69a",
    "#ec407a",
    "#5c6bc0",
]
FAILURE_COLOUR = "#c62828"
SUCCESS_COLOUR = "#2e7d32"


def stage_colour(index: int) -> str:
    return STAGE_COLOURS[index % len(STAGE_COLOURS)]


def _layout(fig: go.Figure, title: str, x_title: str = "", y_title: str = "", height: int = 360):
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hoverlabel={"align": "left"},
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


#: Where each percentile's label sits, so that close lines keep readable labels.
_H_LABEL = {50: "bottom left", 70: "top left", 85: "top right", 95: "top right"}


def _percentile_lines(fig: go.Figure, bands: pd.Series, axis: str = "y", **kwargs) -> None:
    for i, (p, value) in enumerate(bands.items()):
        if pd.isna(value):
            continue
        label = f"p{p} {value:g} days" + (" (SLE)" if p == 85 else "")
        line = {"color": PERCENTILE_COLOURS.get(int(p), "#555"), "dash": "dash", "width": 1}
        if axis == "y":
            fig.add_hline(
                y=value, line=line, annotation_text=label,
                annotation_position=_H_LABEL.get(int(p), "top left"), **kwargs,
            )  # fmt: skip
        else:
            fig.add_vline(x=value, line=line, **kwargs)
            # Vertical lines are often a day apart: stagger their labels down the plot.
            fig.add_annotation(
                x=value, y=1 - 0.09 * i, xref="x", yref="paper", text=label, showarrow=False,
                xanchor="left", font={"size": 11, "color": line["color"]},
                bgcolor="rgba(255,255,255,0.8)",
            )  # fmt: skip


AGING_HEIGHT = 420
#: Right margin (px) holding the percentile labels, off the plot and away from the age axis.
LABEL_MARGIN = 120
#: Vertical room (px) one label needs.
_LABEL_PX = 15


def _percentile_labels_beside(fig: go.Figure, bands: pd.Series, top: float, height: int) -> None:
    """Dashed percentile lines across the plot, their labels in the right margin: labels of close
    percentiles are pushed apart (never printed over each other), and none sits on the y axis's
    tick labels on the left."""
    shown = [(int(p), float(v)) for p, v in bands.items() if pd.notna(v)]
    plot_px = max(height - 130, 100)  # the title, legend and tick labels take the rest
    gap = top * _LABEL_PX / plot_px
    placed: list[float] = []
    for p, value in sorted(shown, key=lambda pv: pv[1]):
        y = max(value, placed[-1] + gap) if placed else value
        placed.append(y)
        colour = PERCENTILE_COLOURS.get(p, "#555")
        fig.add_hline(y=value, line={"color": colour, "dash": "dash", "width": 1})
        fig.add_annotation(
            x=1, y=y, xref="paper", yref="y", xanchor="left", yanchor="middle", showarrow=False,
            text=f"p{p} {value:g} days" + (" (SLE)" if p == 85 else ""),
            font={"size": 11, "color": colour},
        )  # fmt: skip
    if placed and placed[-1] > top:
        # The highest label pushed above the plot: raise the axis to keep it inside.
        fig.update_yaxes(range=[0, placed[-1] + gap])


def _jitter(n: int, width: float = 0.28) -> np.ndarray:
    """Deterministic spread of points within a category (the same picture on every rerun)."""
    if n <= 1:
        return np.zeros(n)
    return np.linspace(-width, width, n)


def aging_wip(items: pd.DataFrame, stages: list[str], bands: pd.Series) -> go.Figure:
    """Age of each item in progress by stage, over the p50/p70/p85/p95 bands of recent cycle
    times. `items`: the report's items; only rows `in_progress` are drawn."""
    wip = items[items["in_progress"]]
    fig = go.Figure()
    # Bands first, so the points sit on top: 0..p50, p50..p70, p70..p85, p85..p95.
    lower = 0.0
    top = (
        float(
            np.nanmax(
                [
                    bands.max() if bands.notna().any() else 0,
                    wip["age_days"].astype("float64").max() if len(wip) else 0,
                ]
            )
        )
        + 2
    )
    for p, value in bands.items():
        if pd.isna(value):
            continue
        fig.add_hrect(y0=lower, y1=value, fillcolor=BAND_FILL[int(p)], line_width=0, layer="below")
        lower = float(value)
    if bands.notna().any():
        fig.add_hrect(
            y0=lower,
            y1=max(top, lower + 1),
            fillcolor="rgba(198,40,40,0.20)",
            line_width=0,
            layer="below",
        )
        _percentile_labels_beside(fig, bands, max(top, lower + 1), AGING_HEIGHT)
    position = {name: i for i, name in enumerate(stages)}
    for band, colour in PACE_COLOURS.items():
        rows = wip[wip["pace_band"].fillna("") == band]
        if rows.empty:
            continue
        x = np.array([position.get(s, np.nan) for s in rows["stage"]], dtype="float64")
        for s in set(rows["stage"]):
            mask = (rows["stage"] == s).to_numpy()
            x[mask] += _jitter(int(mask.sum()))
        blocked = rows["blocked_now"].to_numpy(dtype=bool)
        hover = [
            f"<b>{plot_text(i)}</b> {plot_text(t)}<br>{plot_text(s)}, {int(a)} days"
            + (", blocked" if b else "")
            for i, t, s, a, b in zip(
                rows.index, rows["title"], rows["stage"], rows["age_days"], blocked, strict=True
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=rows["age_days"].astype("float64"),
                mode="markers",
                name={"ok": "on pace", "watch": "watch", "late": "beyond the SLE"}.get(
                    band, "no pace yet"
                ),
                marker={
                    "color": colour,
                    "size": 11,
                    "symbol": np.where(blocked, "x", "circle"),
                    "line": {"width": 1, "color": "white"},
                },
                hovertext=hover,
                hoverinfo="text",
            )
        )
    if wip["blocked_now"].any():
        # The cross's meaning in the legend: the pace entries show circles.
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name="blocked (a cross)",
                marker={"color": "#555", "size": 11, "symbol": "x"}, hoverinfo="skip",
            )
        )  # fmt: skip
    fig.update_xaxes(
        tickmode="array",
        tickvals=list(range(len(stages))),
        ticktext=[plot_text(s) for s in stages],
        range=[-0.5, len(stages) - 0.5],
    )
    if fig.layout.yaxis.range is None:  # not raised for a label already
        fig.update_yaxes(range=[0, max(top, 1)])
    _layout(fig, "Aging work in progress", "", "age (days)", height=AGING_HEIGHT)
    fig.update_layout(margin={"r": LABEL_MARGIN})
    return fig


def cumulative_flow(cfd: pd.DataFrame, stages: list[str], first_index: int = 0) -> go.Figure:
    """Cumulative flow: one band per stage, the last stage at the bottom. `cfd` is the report's
    CFD table (index local days); `first_index` is the workflow index of `stages[0]`, so a
    stage keeps its colour when earlier stages are left out."""
    fig = go.Figure()
    if cfd.empty:
        return _layout(fig, "Cumulative flow", "", "items")
    for i, stage in reversed(list(enumerate(stages))):
        fig.add_trace(
            go.Scatter(
                x=cfd.index,
                y=cfd[stage],
                name=plot_text(stage),
                mode="lines",
                line={"width": 0.5, "color": stage_colour(first_index + i)},
                fill="tozeroy" if i == len(stages) - 1 else "tonexty",
                hovertemplate="%{x|%Y-%m-%d}: %{y} items<extra>" + plot_text(stage) + "</extra>",
            )
        )
    bottom = float(cfd[stages[-1]].min())
    top = float(cfd[stages[0]].max())
    fig.update_yaxes(range=[max(bottom - (top - bottom) * 0.05, 0), top * 1.02 + 1])
    fig.update_layout(legend={"traceorder": "reversed"})
    return _layout(fig, "Cumulative flow diagram", "", "items (cumulative)", height=420)


LIMIT_COLOUR = FAILURE_COLOUR
CHANGE_COLOUR = "#6a1b9a"


def _limit_trace(limit: pd.Series, show_legend: bool = True) -> go.Scatter:
    """The limit in force on each day as a dashed step line (it changes at the day's start)."""
    return go.Scatter(
        x=limit.index,
        y=limit,
        mode="lines",
        line_shape="hv",
        name="WIP limit",
        showlegend=show_legend,
        line={"color": LIMIT_COLOUR, "dash": "dash"},
        hovertemplate="%{x|%Y-%m-%d}: limit %{y}<extra></extra>",
    )


def _limit_word(value: object) -> str:
    return "none" if pd.isna(value) else str(int(value))


def _change_trace(marks: pd.DataFrame, level: pd.Series, show_legend: bool = True) -> go.Scatter:
    """A marker at each limit change, labelled with its `why` (shortened; whole in the hover).
    `marks`: `metrics.limits.limit_changes_on_days` rows; `level`: the y of each day."""
    y = [
        float(new) if not pd.isna(new) else float(level.get(day, 0))
        for day, new in zip(marks["day"], marks["new_limit"], strict=True)
    ]
    hover = [
        f"<b>limit {_limit_word(old)} → {_limit_word(new)}</b> on {day:%Y-%m-%d}"
        f"<br>{plot_text(why, 200)}<br>by {plot_text(who)}"
        for day, old, new, who, why in zip(
            marks["day"], marks["old_limit"], marks["new_limit"], marks.get("who", ""),
            marks.get("why", ""), strict=True,
        )
    ]  # fmt: skip
    return go.Scatter(
        x=marks["day"],
        y=y,
        mode="markers+text",
        name="limit changed",
        showlegend=show_legend,
        marker={"color": CHANGE_COLOUR, "symbol": "diamond", "size": 12},
        text=[plot_text(why, 48) for why in marks.get("why", [""] * len(marks))],
        textposition="top right",
        textfont={"size": 11, "color": CHANGE_COLOUR},
        hovertext=hover,
        hoverinfo="text",
    )


def wip_run_chart(
    daily: pd.DataFrame,
    total_limit: int | None,
    limit: pd.Series | None = None,
    marks: pd.DataFrame | None = None,
) -> go.Figure:
    """Daily WIP against the workflow's total WIP limit: `limit` (the limit in force each day,
    see `metrics.limits.limits_in_force`) as a step line, else `total_limit` as a flat line;
    `marks` (the total's changes in these days) as markers with their `why`."""
    fig = go.Figure(
        go.Scatter(
            x=daily.index,
            y=daily["wip"],
            mode="lines",
            name="WIP",
            line={"color": "#1e88e5"},
            hovertemplate="%{x|%Y-%m-%d}: %{y} items in progress<extra></extra>",
        )
    )
    if limit is not None and limit.notna().any():
        fig.add_trace(_limit_trace(limit))
    elif limit is None and total_limit and len(daily):
        flat = pd.Series(float(total_limit), index=daily.index)
        fig.add_trace(_limit_trace(flat).update(name=f"WIP limit {total_limit}"))
    if marks is not None and len(marks):
        fig.add_trace(_change_trace(marks, daily["wip"]))
    if len(daily):
        # The limit and the average are named in the legend, each on its own line, rather than
        # as labels on the lines, which overprint each other when the two are close.
        mean = float(daily["wip"].mean())
        fig.add_trace(
            go.Scatter(
                x=[daily.index[0], daily.index[-1]],
                y=[mean, mean],
                mode="lines",
                name=f"average {mean:.1f}",
                line={"color": "#757575", "dash": "dot", "width": 1},
                hovertemplate=f"average {mean:.1f} items in progress<extra></extra>",
            )
        )
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "Work in progress per day", "", "items in progress")


def stage_limit_series(
    days: pd.DatetimeIndex,
    stage: str,
    configured: int | None,
    changes: pd.DataFrame,
    timezone: str,
) -> pd.Series:
    """A stage's WIP limit on each local day (`metrics.limits.limits_in_force`). NaN = none."""
    return limits_in_force(days, {stage: configured}, changes, timezone)[stage]


def stage_wip_chart(
    daily: pd.DataFrame,
    stages: list[str],
    limits: dict[str, pd.Series],
    first_index: int = 0,
    marks: dict[str, pd.DataFrame] | None = None,
) -> go.Figure:
    """Per stage: its daily count against its limit, drawn as a step line over time, and a
    marker with the `why` at each change of the limit (`marks`, per stage).
    `first_index`: the workflow index of `stages[0]` (for the stage's colour)."""
    n = max(len(stages), 1)
    height = 150 * n + 80
    fig = make_subplots(
        rows=n,
        cols=1,
        shared_xaxes=True,
        # About 40 pixels between charts whatever their number: plotly refuses a spacing
        # above 1 / (rows - 1), which a fixed fraction exceeds from 26 stages on.
        vertical_spacing=min(0.08, 40 / height),
        subplot_titles=[plot_text(s) for s in stages],
    )
    legend_done = {"limit": False, "marks": False}
    for row, stage in enumerate(stages, start=1):
        colour = stage_colour(first_index + row - 1)
        # The limit first, so that a count running along it stays visible on top.
        limit = limits.get(stage)
        if limit is not None and limit.notna().any():
            fig.add_trace(_limit_trace(limit, not legend_done["limit"]), row=row, col=1)
            legend_done["limit"] = True
        fig.add_trace(
            go.Scatter(
                x=daily.index,
                y=daily[stage],
                mode="lines",
                name=plot_text(stage),
                line={"color": colour},
                showlegend=False,
                hovertemplate="%{x|%Y-%m-%d}: %{y} items<extra>" + plot_text(stage) + "</extra>",
            ),
            row=row,
            col=1,
        )
        own = (marks or {}).get(stage)
        if own is not None and len(own):
            fig.add_trace(
                _change_trace(own, daily[stage], not legend_done["marks"]), row=row, col=1
            )
            legend_done["marks"] = True
        fig.update_yaxes(rangemode="tozero", row=row, col=1)
    return _layout(fig, "WIP per stage against its limit", height=height)


def weekly(daily: pd.DataFrame, column: str) -> pd.Series:
    """Weekly sums (weeks ending on Sunday, labelled by their Monday) of a daily column."""
    if daily.empty:
        return pd.Series(dtype="int64")
    sums = daily[column].resample("W-SUN").sum()
    sums.index = sums.index - pd.Timedelta(days=6)
    return sums


def days_per_week(daily: pd.DataFrame) -> pd.Series:
    """How many of each week's 7 days the daily table holds (fewer at either end of a range
    that does not start on a Monday or end on a Sunday), indexed like `weekly`."""
    if daily.empty:
        return pd.Series(dtype="int64")
    counts = pd.Series(1, index=daily.index).resample("W-SUN").sum()
    counts.index = counts.index - pd.Timedelta(days=6)
    return counts


def weekly_throughput(daily: pd.DataFrame, window: int = 4) -> go.Figure:
    """Items delivered per week with a `window`-week moving average. A part week at either end
    of the range is drawn pale and named in its hover, and left out of the average, which
    starts once `window` whole weeks are known (rather than ramping up from the first)."""
    sums = weekly(daily, "throughput")
    days = days_per_week(daily)
    whole = days.eq(7)
    colours = np.where(whole.to_numpy(), "#43a047", "#c8e6c9")
    notes = ["" if n == 7 else f" (part week: {n} of 7 days)" for n in days.to_numpy(dtype=int)]
    fig = go.Figure(
        go.Bar(
            x=sums.index,
            y=sums,
            name="delivered",
            marker_color=colours,
            customdata=notes,
            hovertemplate="week of %{x|%Y-%m-%d}: %{y} items%{customdata}<extra></extra>",
        )
    )
    full = sums[whole]
    if len(full) >= window:
        avg = full.rolling(window, min_periods=window).mean().dropna()
        fig.add_trace(
            go.Scatter(
                x=avg.index,
                y=avg,
                mode="lines",
                name=f"{window}-week average",
                line={"color": "#1b5e20", "width": 3},
                hovertemplate="%{y:.1f} items per week<extra></extra>",
            )
        )
    return _layout(fig, "Throughput per week", "", "items delivered")


def net_flow(daily: pd.DataFrame) -> go.Figure:
    """Arrivals minus departures per week: above zero the system fills up, below it drains."""
    net = weekly(daily, "arrivals") - weekly(daily, "throughput")
    colours = np.where(net.to_numpy() > 0, FAILURE_COLOUR, SUCCESS_COLOUR)
    fig = go.Figure(
        go.Bar(
            x=net.index,
            y=net,
            marker_color=colours,
            name="net flow",
            hovertemplate="week of %{x|%Y-%m-%d}: %{y:+d}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": "#424242", "width": 1})
    return _layout(fig, "Net flow per week (started minus delivered)", "", "items")


def delivered_items(items: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Delivered items with their local `done_day`."""
    done = items[items["done_at"].notna()]
    return done.assign(done_day=local_days(done["done_at"], timezone))


def _type_colours(types: list[str]) -> dict[str, str]:
    return {t: TYPE_COLOURS[i % len(TYPE_COLOURS)] for i, t in enumerate(sorted(types))}


def cycle_time_scatter(delivered: pd.DataFrame, bands: pd.Series) -> go.Figure:
    """Delivered items: done day against cycle time, coloured by type, percentile lines.
    `delivered` comes from `delivered_items`."""
    fig = go.Figure()
    colours = _type_colours(list(delivered["type"].fillna("").astype(str).unique()))
    for kind, rows in delivered.groupby(delivered["type"].fillna("").astype(str), sort=True):
        hover = [
            f"<b>{plot_text(i)}</b> {plot_text(t)}<br>done {d:%Y-%m-%d}, {int(c)} days"
            for i, t, d, c in zip(
                rows.index, rows["title"], rows["done_day"], rows["cycle_time_days"], strict=True
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=rows["done_day"],
                y=rows["cycle_time_days"].astype("float64"),
                mode="markers",
                name=plot_text(kind or "(no type)"),
                marker={"color": colours[kind], "size": 7, "opacity": 0.75},
                hovertext=hover,
                hoverinfo="text",
                customdata=[str(i) for i in rows.index],
            )
        )
    _percentile_lines(fig, bands)
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "Cycle time of delivered items", "", "cycle time (days)", height=420)


def cycle_time_histogram(delivered: pd.DataFrame, bands: pd.Series) -> go.Figure:
    values = delivered["cycle_time_days"].astype("float64")
    fig = go.Figure(
        go.Histogram(
            x=values,
            xbins={"size": 1},
            marker_color="#1e88e5",
            name="items",
            hovertemplate="%{x} days: %{y} items<extra></extra>",
        )
    )
    _percentile_lines(fig, bands, axis="x")
    return _layout(fig, "Cycle time distribution", "cycle time (days)", "items")


def time_in_stage(
    stage_times: pd.DataFrame, delivered_ids: pd.Index, stages: list[str], waiting: set[str]
) -> go.Figure:
    """Average days delivered items spent in each in-progress stage (waiting stages in grey),
    with the share of them that passed through it: a stage most items skip still shows its bar
    (a median would be 0) and says how few items it concerns."""
    hours = stage_times.reindex(delivered_ids)[stages] if len(stages) else stage_times.iloc[:, :0]
    days = hours / 24
    mean = days.mean()
    passed = (hours > 0).mean() if len(hours) else pd.Series(0.0, index=stages)
    colours = ["#9e9e9e" if s in waiting else "#1e88e5" for s in stages]
    labels = [plot_text(s) + (" (waiting)" if s in waiting else "") for s in stages]
    shares = [f"{p:.0%} of items" for p in passed.to_numpy()]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=mean.to_numpy(),
            name="average days",
            marker_color=colours,
            text=shares,
            textposition="outside",
            customdata=shares,
            hovertemplate="%{x}: average %{y:.1f} days; %{customdata} passed through"
            "<extra></extra>",
        )
    )
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "Average days in each stage (delivered items)", "", "days")


def flow_efficiency_histogram(delivered: pd.DataFrame) -> go.Figure:
    """Items per 5% band of flow efficiency; the last band is 95 to 100% inclusive, so an item
    worked all the time (100%) is counted, not dropped off the axis."""
    values = delivered["flow_efficiency"].astype("float64").dropna() * 100
    edges = np.arange(0, 105, 5)
    counts, _ = np.histogram(values.clip(0, 100), bins=edges)  # numpy's last bin is closed
    names = [f"{lo}-{hi}%" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=edges[:-1] + 2.5,
            y=counts,
            width=5,
            marker_color="#7e57c2",
            customdata=names,
            hovertemplate="%{customdata}: %{y} items<extra></extra>",
            name="items",
        )
    )
    if len(values):
        mean = float(values.mean())
        fig.add_vline(
            x=mean,
            line={"color": "#212121", "dash": "dash"},
            annotation_text=f"average {mean:.0f}%",
        )
    fig.update_xaxes(range=[0, 100])
    return _layout(
        fig, "Flow efficiency (share of time actively worked)", "flow efficiency (%)", "items"
    )


def production(deployments: pd.DataFrame) -> pd.DataFrame:
    return deployments[deployments["production"].astype(bool)]


def deploys_per_week(deployments: pd.DataFrame, timezone: str) -> go.Figure:
    """Successful and failed production deployments per week."""
    prod = production(deployments)
    fig = go.Figure()
    if len(prod):
        day = local_days(prod["deployed_at"], timezone)
        week = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
        counts = pd.crosstab(week, prod["status"])
        full = pd.date_range(counts.index.min(), counts.index.max(), freq="7D")
        counts = counts.reindex(full, fill_value=0)
        for status, colour in (("success", SUCCESS_COLOUR), ("failure", FAILURE_COLOUR)):
            if status in counts:
                fig.add_trace(
                    go.Bar(
                        x=counts.index,
                        y=counts[status],
                        name=status,
                        marker_color=colour,
                        hovertemplate="week of %{x|%Y-%m-%d}: %{y}<extra>" + status + "</extra>",
                    )
                )
    fig.update_layout(barmode="stack")
    return _layout(fig, "Production deployments per week", "", "deployments")


def batch_sizes(deployments: pd.DataFrame, lines: pd.Series | None = None) -> go.Figure:
    """Items per successful production deployment; pull-request lines changed on a second axis
    where known (`lines`: deploy_id -> lines)."""
    ok = production(deployments)
    ok = ok[ok["status"].eq("success")]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=ok["deployed_at"],
            y=ok["batch_size"].astype("float64"),
            name="items",
            marker_color="#1e88e5",
            hovertext=[plot_text(d) for d in ok["deploy_id"]],
            hovertemplate="%{hovertext}<br>%{x|%Y-%m-%d}: %{y} items<extra></extra>",
        ),
        secondary_y=False,
    )
    if lines is not None and lines.notna().any():
        known = ok["deploy_id"].map(lines)
        fig.add_trace(
            go.Scatter(
                x=ok["deployed_at"],
                y=known,
                mode="markers",
                name="lines changed",
                marker={"color": "#ef6c00", "size": 7},
                hovertemplate="%{x|%Y-%m-%d}: %{y} lines<extra></extra>",
            ),
            secondary_y=True,
        )
        fig.update_yaxes(title_text="lines changed", secondary_y=True, rangemode="tozero")
    fig.update_yaxes(title_text="items shipped", secondary_y=False, rangemode="tozero")
    return _layout(fig, "Batch size per deployment")


def lead_times(shipped: pd.DataFrame) -> go.Figure:
    """Lead time for changes per shipped item (done to production), in days, by deploy time."""
    days = shipped["lead_time_hours"].astype("float64") / 24
    fig = go.Figure(
        go.Scatter(
            x=shipped["deployed_at"],
            y=days,
            mode="markers",
            name="items",
            marker={"color": "#00838f", "size": 6, "opacity": 0.7},
            hovertext=[plot_text(i) for i in shipped["item_id"]],
            hovertemplate="%{hovertext}: %{y:.1f} days<extra></extra>",
        )
    )
    if len(days):
        median = float(days.median())
        fig.add_hline(
            y=median,
            line={"color": "#212121", "dash": "dash"},
            annotation_text=f"median {median:.1f} days",
        )
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "Lead time for changes (done to production)", "", "days")


def restore_times(deployments: pd.DataFrame) -> go.Figure:
    """Each failed production deployment and the hours until the next successful one."""
    prod = production(deployments)
    failed = prod[prod["status"].eq("failure")]
    fig = go.Figure(
        go.Bar(
            x=failed["deployed_at"],
            y=failed["restore_hours"].astype("float64"),
            marker_color=FAILURE_COLOUR,
            name="time to restore",
            hovertext=[plot_text(d) for d in failed["deploy_id"]],
            hovertemplate="%{hovertext}<br>%{x|%Y-%m-%d}: %{y:.1f} hours<extra></extra>",
        )
    )
    return _layout(fig, "Failed deployments and time to restore", "", "hours to restore")


BEFORE_COLOUR = "#757575"
AFTER_COLOUR = "#1e88e5"


def mark_change(fig: go.Figure, day: pd.Timestamp, label: str = "change") -> go.Figure:
    """A vertical line at the start of `day` across the whole figure (every subplot), labelled.
    A shape and an annotation rather than `add_vline(annotation_text=...)`, which fails on
    date axes."""
    fig.add_shape(
        type="line", x0=day, x1=day, xref="x", y0=0, y1=1, yref="paper",
        line={"color": "#212121", "width": 2, "dash": "dot"},
    )  # fmt: skip
    fig.add_annotation(
        x=day, y=1, xref="x", yref="paper", text=plot_text(label), showarrow=False,
        xanchor="left", yanchor="top", font={"size": 11}, bgcolor="rgba(255,255,255,0.8)",
    )  # fmt: skip
    return fig


#: Kaizen charts carry two sides' series and medians: their legend goes under the plot, where
#: it has room, instead of over the title.
_LEGEND_BELOW = {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"}


def _side_segment(fig: go.Figure, first, last, value: float, name: str, colour: str) -> None:
    if pd.isna(value):
        return
    fig.add_trace(
        go.Scatter(
            x=[first, last + pd.Timedelta(hours=23)],
            y=[value, value],
            mode="lines",
            name=f"{name} {value:g}",
            line={"color": colour, "width": 3},
            hovertemplate=f"{name}: {value:g}<extra></extra>",
        )
    )


def kaizen_scatter(review) -> go.Figure:
    """Cycle time of the items delivered on each side of a change (`metrics.kaizen.KaizenReview`),
    each side's median as a line over its window, the old SLE (before p85) dashed, the change
    day marked."""
    fig = go.Figure()
    sides = (
        ("before", review.before_items, review.before, BEFORE_COLOUR),
        ("after", review.after_items, review.after, AFTER_COLOUR),
    )
    for name, items, window, colour in sides:
        hover = [
            f"<b>{plot_text(i)}</b> {plot_text(t)}<br>done {d:%Y-%m-%d}, {int(c)} days"
            for i, t, d, c in zip(
                items.index, items["title"], items["done_day"], items["cycle_time_days"],
                strict=True,
            )
        ]  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=items["done_day"],
                y=items["cycle_time_days"].astype("float64"),
                mode="markers",
                name=f"{name} ({len(items)} items)",
                marker={"color": colour, "size": 7, "opacity": 0.75},
                hovertext=hover,
                hoverinfo="text",
                # The item id rides along so that a clicked point can open its explanation.
                customdata=[str(i) for i in items.index],
            )
        )
        median = float(items["cycle_time_days"].astype("float64").median())
        _side_segment(fig, window.first, window.last, median, f"{name} median", colour)
    if not pd.isna(review.before_sle):
        fig.add_hline(
            y=review.before_sle,
            line={"color": PERCENTILE_COLOURS[85], "dash": "dash", "width": 1},
            annotation_text=f"old SLE (before p85) {review.before_sle:g} days",
            annotation_position="top left",
        )
    mark_change(fig, review.change)
    fig.update_xaxes(range=[review.before.first, review.after.last + pd.Timedelta(days=1)])
    fig.update_yaxes(rangemode="tozero")
    fig = _layout(fig, "Cycle time before and after the change", "", "cycle time (days)", 460)
    return fig.update_layout(legend=_LEGEND_BELOW)


def kaizen_weekly(before_weeks, after_weeks, medians: tuple[float, float], review) -> go.Figure:
    """Items delivered per 7-day block on each side of the change (`metrics.kaizen.side_weeks`),
    with each side's median week and the change day marked."""
    fig = go.Figure()
    for name, weeks, colour, median, window in (
        ("before", before_weeks, BEFORE_COLOUR, medians[0], review.before),
        ("after", after_weeks, AFTER_COLOUR, medians[1], review.after),
    ):
        short = [f" ({d} days only)" if d < 7 else "" for d in weeks["days"]]
        fig.add_trace(
            go.Bar(
                x=weeks["week_start"] + pd.to_timedelta(weeks["days"] / 2, unit="D"),
                y=weeks["delivered"],
                width=[d * 86_400_000 * 0.9 for d in weeks["days"]],
                name=f"{name}: delivered per week",
                marker_color=colour,
                customdata=np.stack([weeks["week_start"].dt.strftime("%Y-%m-%d"), short], -1)
                if len(weeks)
                else None,
                hovertemplate="week from %{customdata[0]}%{customdata[1]}: %{y} items"
                "<extra></extra>",
            )
        )
        _side_segment(fig, window.first, window.last, median, f"{name} median week", colour)
    mark_change(fig, review.change)
    fig = _layout(
        fig, "Throughput per week before and after the change", "", "items delivered", 400
    )
    return fig.update_layout(legend=_LEGEND_BELOW)


def xmr_chart(
    table: pd.DataFrame,
    title: str,
    y_title: str,
    x: pd.Index | list | None = None,
    hover: list[str] | None = None,
) -> go.Figure:
    """A process behaviour chart from `metrics.stability.xmr`: the points joined in order, the
    mean, the natural process limits, and the signals marked (red: outside the limits, orange:
    part of a run of 8 on one side). `x` defaults to the table's index; `hover` names points."""
    xs = list(table.index if x is None else x)
    hover = hover or [str(v) for v in xs]
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=table["value"],
            mode="lines+markers",
            name="value",
            line={"color": "#90a4ae", "width": 1},
            marker={"color": "#1e88e5", "size": 6},
            hovertext=[
                f"{plot_text(h)}: {v:g}" for h, v in zip(hover, table["value"], strict=True)
            ],
            hoverinfo="text",
        )
    )
    if len(table):
        row = table.iloc[0]
        for value, label, dash in (
            (row["mean"], "mean", "solid"),
            (row["upper"], "upper limit", "dash"),
            (row["lower"], "lower limit", "dash"),
        ):
            if pd.notna(value):
                fig.add_hline(
                    y=value, line={"color": "#424242" if label == "mean" else FAILURE_COLOUR,
                                   "dash": dash, "width": 1},
                    annotation_text=f"{label} {value:.1f}", annotation_position="top left",
                )  # fmt: skip
        signals = (
            ("run", "#ef6c00", "run of 8"),
            ("outside", FAILURE_COLOUR, "outside the limits"),
        )
        for column, colour, name in signals:
            mask = table[column].to_numpy(dtype=bool)
            if mask.any():
                fig.add_trace(
                    go.Scatter(
                        x=[v for v, m in zip(xs, mask, strict=True) if m],
                        y=table["value"][mask],
                        mode="markers",
                        name=name,
                        marker={"color": colour, "size": 10, "symbol": "circle-open",
                                "line": {"width": 2}},
                        hoverinfo="skip",
                    )
                )  # fmt: skip
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, title, "", y_title)
