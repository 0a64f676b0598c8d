"""The kaizen pack (spec section 7): one zip to take into the review, built the same way by
`flowdeck kaizen` and the dashboard's Kaizen page (no Streamlit here).

It holds every export file for the whole range, `kaizen.csv`, `wip_limits.csv`, the workflow
file in use and `report.html`: one self-contained page (plotly's JavaScript embedded, nothing
fetched) that prints on A4 or Letter. Every untrusted text (titles, stage names, the `why` of a
limit change) is HTML-escaped on the page, and formula-escaped in the CSV files.
"""

from __future__ import annotations

import html
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from connectors.config import Config
from connectors.csv_files import csv_text
from dashboard import charts
from metrics.days import local_days
from metrics.export_tables import export_tables, utc_text
from metrics.frames import FlowData
from metrics.kaizen import (
    KaizenReview,
    flow_direction,
    kaizen_review,
    side_weeks,
    weekly_median,
)
from metrics.report import FlowReport, flow_report
from metrics.workflow import Workflow

WIP_LIMIT_COLUMNS = ["changed_at", "stage", "old_limit", "new_limit", "who", "why"]
#: Plotly figures are drawn at a fixed width that fits the printable width of both A4 and
#: Letter (about 700 CSS pixels with 12 mm margins), so a printed chart is never cut.
PRINT_WIDTH = 700
METRIC_LABELS = {
    "delivered": "Items delivered",
    "throughput_per_week": "Throughput (items per week)",
    "cycle_time_p50": "Cycle time p50 (days)",
    "cycle_time_p85": "Cycle time p85, the SLE (days)",
    "flow_efficiency_avg": "Flow efficiency (average)",
    "blocked_days_avg": "Blocked days (average per item)",
    "over_before_sle": "Share beyond the old SLE",
    "wip_avg": "WIP (average items in progress)",
    "mann_whitney_p": "Mann-Whitney p (cycle times)",
}
SHARES = {"flow_efficiency_avg", "over_before_sle"}


def format_value(metric: str, value: float) -> str:
    """A kaizen value as a reader wants it: shares in %, counts whole, the p-value as is."""
    if value is None or pd.isna(value):
        return "n/a"
    if metric in SHARES:
        return f"{value * 100:.0f}%"
    if metric == "delivered":
        return f"{value:.0f}"
    if metric == "mann_whitney_p":
        return f"{value:.3g}"
    return f"{value:.1f}"


def format_change(metric: str, value: float) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if metric in SHARES:
        return f"{value * 100:+.0f} points"
    if metric == "delivered":
        return f"{value:+.0f}"
    return f"{value:+.1f}"


def _side_value(metric: str, value: float) -> str:
    # The test's p describes the pair: it has no value on either side.
    return "" if metric == "mann_whitney_p" else format_value(metric, value)


def comparison_rows(review: KaizenReview) -> pd.DataFrame:
    """The comparison as a reader sees it: `metric` (label), `before`, `after`, `change`
    (texts) and `direction` (better/worse/same for flow, "" for the test)."""
    table = review.table
    direction = flow_direction(table)
    return pd.DataFrame(
        {
            "metric": [METRIC_LABELS.get(m, m) for m in table["metric"]],
            "before": [
                _side_value(m, v) for m, v in zip(table["metric"], table["before"], strict=True)
            ],
            "after": [
                _side_value(m, v) for m, v in zip(table["metric"], table["after"], strict=True)
            ],
            "change": [
                format_value(m, v) if m == "mann_whitney_p" else format_change(m, v)
                for m, v in zip(table["metric"], table["change"], strict=True)
            ],
            "direction": direction.to_numpy(),
        }
    )


def limits_from_workflow(workflow: Workflow) -> pd.DataFrame:
    """With no recorded history: today's limits from the workflow file, one row per limited
    stage (and `total`), no date, `who` = the file."""
    rows = [(s.name, s.wip_limit) for s in workflow.stages if s.wip_limit is not None]
    if workflow.wip_limit is not None:
        rows.append(("total", workflow.wip_limit))
    return pd.DataFrame(
        {
            "changed_at": pd.Series(pd.NaT, index=range(len(rows)), dtype="datetime64[ns, UTC]"),
            "stage": [r[0] for r in rows],
            "old_limit": pd.Series([pd.NA] * len(rows), dtype="Int64"),
            "new_limit": pd.Series([r[1] for r in rows], dtype="Int64"),
            "who": "flowdeck.toml",
            "why": "the limit in the workflow file (no change recorded)",
        }
    )


def wip_limits_table(changes: pd.DataFrame | None, workflow: Workflow) -> pd.DataFrame:
    """`wip_limits.csv`: the WIP-limit history, oldest first, `changed_at` as UTC text, with
    each change's `who` and `why`; the workflow file's limits when nothing was recorded."""
    if changes is None or changes.empty:
        history = limits_from_workflow(workflow)
    else:
        history = changes.sort_values("changed_at", kind="stable")
    out = pd.DataFrame({col: history.get(col, "") for col in WIP_LIMIT_COLUMNS})
    out["changed_at"] = utc_text(pd.to_datetime(out["changed_at"], utc=True))
    for col in ("who", "why", "stage"):
        out[col] = out[col].fillna("").astype(str)
    return out.reset_index(drop=True)


def changes_on(changes: pd.DataFrame | None, day: pd.Timestamp, timezone: str) -> pd.DataFrame:
    """The recorded WIP-limit changes made on local `day` (the change under review)."""
    if changes is None or changes.empty:
        return pd.DataFrame(columns=WIP_LIMIT_COLUMNS)
    days = local_days(pd.to_datetime(changes["changed_at"], utc=True), timezone)
    return changes[days.eq(pd.Timestamp(day).normalize()).to_numpy()]


def change_words(row: pd.Series) -> str:
    """`In Progress WIP limit 8 -> 4` for one history row (None is "no limit")."""

    def shown(value: object) -> str:
        return "none" if value is None or pd.isna(value) else str(int(value))

    return f"{row['stage']} WIP limit {shown(row['old_limit'])} → {shown(row['new_limit'])}"


def config_text(config: Config) -> str:
    """The workflow file in use, as its text (the demo's built-in one when it has no file)."""
    if config.path is not None:
        return Path(config.path).read_text(encoding="utf-8")
    from connectors.demo import DEMO_WORKFLOW_TOML

    return DEMO_WORKFLOW_TOML.lstrip()


# ---- report.html ------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _chart_html(fig: go.Figure, first: bool) -> str:
    fig.update_layout(width=PRINT_WIDTH, autosize=False)
    return fig.to_html(
        full_html=False,
        include_plotlyjs=first,
        config={"displaylogo": False, "responsive": False, "displayModeBar": False},
    )


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #212121; max-width: 760px; margin: 24px auto; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.4em; }
.meta { color: #555; margin: 0.2em 0; }
.verdict { border-left: 6px solid #1e88e5; background: #e3f2fd; padding: 10px 14px;
           margin: 14px 0; font-size: 1.1em; }
.verdict.too_few { border-color: #9e9e9e; background: #f5f5f5; }
.verdict.changed { border-color: #2e7d32; background: #e8f5e9; }
.hypothesis { border-left: 6px solid #ef6c00; background: #fff3e0; padding: 8px 14px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.better { color: #2e7d32; font-weight: 600; }
.worse { color: #c62828; font-weight: 600; }
.chart { margin: 18px 0; page-break-inside: avoid; break-inside: avoid; }
.chart .how { color: #444; font-size: 0.92em; margin: 2px 0 0 0; }
section { page-break-inside: avoid; break-inside: avoid; }
@page { margin: 12mm; }
@media print {
  body { margin: 0; padding: 0; max-width: none; font-size: 11pt; }
  .chart, section, tr { page-break-inside: avoid; break-inside: avoid; }
  .verdict, .hypothesis, .better, .worse { -webkit-print-color-adjust: exact;
                                           print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""


def _table(frame: pd.DataFrame, numeric: set[str] = frozenset(), classes: dict | None = None):
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col in frame.columns:
            css = []
            if col in numeric:
                css.append("num")
            if classes and col in classes:
                css.append(classes[col](row))
            attr = f' class="{" ".join(c for c in css if c)}"' if any(css) else ""
            cells.append(f"<td{attr}>{_e(row[col])}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


@dataclass(frozen=True)
class KaizenCharts:
    """The figures of a review, shared by the page and report.html."""

    scatter: go.Figure
    weekly: go.Figure
    cfd: go.Figure
    wip: go.Figure


def kaizen_charts(
    review: KaizenReview, report: FlowReport, workflow: Workflow, changes: pd.DataFrame | None
) -> KaizenCharts:
    """The scatter, weekly throughput, CFD and per-stage WIP charts over the two windows, each
    with the change day marked."""
    before_weeks = side_weeks(review.before_items, review.before, before=True)
    after_weeks = side_weeks(review.after_items, review.after, before=False)
    medians = (weekly_median(before_weeks), weekly_median(after_weeks))
    days = pd.date_range(review.before.first, review.after.last, freq="D", name="date")
    daily = report.daily.reindex(days, fill_value=0)
    stages = workflow.stage_names[workflow.start :]
    cfd = report.cfd.reindex(days, fill_value=0)
    limited = workflow.stage_names[workflow.start : workflow.done]
    limits = {
        name: charts.stage_limit_series(
            days, name, workflow.stages[workflow.stage_names.index(name)].wip_limit, changes,
            workflow.timezone,
        )
        for name in limited
    }  # fmt: skip
    return KaizenCharts(
        scatter=charts.kaizen_scatter(review),
        weekly=charts.kaizen_weekly(before_weeks, after_weeks, medians, review),
        cfd=charts.mark_change(
            charts.cumulative_flow(cfd[stages], stages, workflow.start), review.change
        ),
        wip=charts.mark_change(
            charts.stage_wip_chart(daily, limited, limits, workflow.start), review.change
        ),
    )


CHART_HOW = {
    "scatter": "Each dot is an item delivered on one side of the change, at its done day and "
    "cycle time; the solid lines are each side's median, the dashed line the SLE before the "
    "change. Dots sitting lower after the dotted change line mean items finish sooner.",
    "weekly": "Items delivered in each 7-day block, counted from the change day; the lines "
    "are each side's median week. Higher bars after the change mean more delivered per week.",
    "cfd": "Each band is a stage, its height the items in it that day. Bands that widen mean "
    "work piling up in that stage; parallel edges mean steady flow.",
    "wip": "Each in-progress stage's items at the end of each day against its WIP limit in "
    "force that day (the dashed step line). A count held under a lower limit is the change at "
    "work.",
}


def report_html(
    review: KaizenReview,
    report: FlowReport,
    workflow: Workflow,
    changes: pd.DataFrame | None,
    title: str = "Kaizen review",
) -> str:
    """The self-contained report page: dates and as-of on top, the hypothesis (the recorded
    limit change of that day, if any), the verdict, the comparison, the four charts each with a
    sentence on how to read it, the items beyond the old SLE and the limit history."""
    tz = workflow.timezone
    figures = kaizen_charts(review, report, workflow, changes)
    as_of = report.as_of.tz_convert(tz)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}: change on {review.change:%Y-%m-%d}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}: change on {review.change:%Y-%m-%d}</h1>",
        f'<p class="meta">Before: {_e(review.before.label())}. After: '
        f"{_e(review.after.label())}.</p>",
        f'<p class="meta">As of {as_of:%Y-%m-%d %H:%M} ({_e(tz)}); the data runs from '
        f"{report.first_day:%Y-%m-%d} to {report.last_day:%Y-%m-%d}. Days are local days.</p>",
    ]
    made = changes_on(changes, review.change, tz)
    for _, row in made.iterrows():
        who = f" by {_e(row['who'])}" if str(row.get("who") or "").strip() else ""
        why = str(row.get("why") or "").strip()
        parts.append(
            f'<p class="hypothesis"><b>The change:</b> {_e(change_words(row))}{who}.'
            + (f"<br><b>Hypothesis:</b> {_e(why)}" if why else "")
            + "</p>"
        )
    parts.append(
        f'<p class="verdict {_e(review.verdict.label.replace(" ", "_"))}" id="verdict">'
        f"<b>Verdict:</b> {_e(review.verdict.text)}</p>"
    )
    rows = comparison_rows(review)
    parts.append("<section><h2>Before and after</h2>")
    parts.append(
        _table(
            rows,
            numeric={"before", "after", "change"},
            classes={"direction": lambda r: r["direction"]},
        )  # fmt: skip
    )
    parts.append(
        '<p class="meta">Over the items delivered on each side (an item counts once, on its '
        "final delivery); WIP over each side's days. Better or worse is for flow: shorter cycle "
        "times, more delivered, less WIP, fewer blocked days, higher flow efficiency.</p>"
        "</section>"
    )
    for i, key in enumerate(("scatter", "weekly", "cfd", "wip")):
        fig = getattr(figures, key)
        parts.append(f'<div class="chart" id="chart-{key}">{_chart_html(fig, i == 0)}')
        parts.append(f'<p class="how">{_e(CHART_HOW[key])}</p></div>')
    over = review.over_old_sle
    parts.append(f"<section><h2>Items after the change beyond the old SLE ({len(over)})</h2>")
    if len(over):
        shown = pd.DataFrame(
            {
                "item": over.index.astype(str),
                "title": over["title"].astype(str).to_numpy(),
                "type": over["type"].astype(str).to_numpy(),
                "done": over["done_day"].dt.strftime("%Y-%m-%d").to_numpy(),
                "cycle time (days)": over["cycle_time_days"].astype("Int64").astype(str),
            }
        )
        parts.append(_table(shown, numeric={"cycle time (days)"}))
    else:
        parts.append("<p>None.</p>")
    parts.append("</section><section><h2>WIP-limit history</h2>")
    history = wip_limits_table(changes, workflow)
    when = pd.to_datetime(history["changed_at"].replace("", None), utc=True)
    history["changed_at"] = when.dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M").fillna("")
    if len(history):
        parts.append(_table(history.rename(columns={"changed_at": f"changed ({tz})"})))
    else:
        parts.append("<p>No WIP limit in the workflow file and no change recorded.</p>")
    # The closing note stays in the last section: printed alone it would take a sheet.
    parts.append(
        '<p class="meta">Made with Flowdeck. Definitions: cycle time counts calendar '
        "days from start to done, both included; the SLE is the 85th percentile; the "
        "comparison of cycle times is a two-sided Mann-Whitney U test (p &lt; 0.05: changed)."
        "</p></section></body></html>"
    )
    return "\n".join(parts)


# ---- the zip ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pack:
    review: KaizenReview
    report: FlowReport
    files: dict[str, bytes]

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files.items():
                archive.writestr(name, content)
        return buffer.getvalue()


def build_pack(
    config: Config,
    data: FlowData,
    as_of: pd.Timestamp,
    change: pd.Timestamp,
    days: int,
    changes: pd.DataFrame | None,
    workflow_text: str | None = None,
    report: FlowReport | None = None,
) -> Pack:
    """Every file of the pack, in memory (nothing is written: the caller writes the zip at
    once). `report`: the flow report of `data` as of `as_of` over its whole range, when the
    caller has it already. Raises `FlowdeckError` for a change day after as-of or a bad
    window."""
    workflow = config.workflow
    if report is None:
        report = flow_report(data, workflow, as_of)
    review = kaizen_review(report, workflow, change, days)
    files = {
        name: csv_text(frame).encode("utf-8")
        for name, frame in export_tables(report, workflow).items()
    }
    files["kaizen.csv"] = csv_text(review.table).encode("utf-8")
    files["wip_limits.csv"] = csv_text(wip_limits_table(changes, workflow)).encode("utf-8")
    text = workflow_text if workflow_text is not None else config_text(config)
    files["flowdeck.toml"] = text.encode("utf-8")
    files["report.html"] = report_html(review, report, workflow, changes).encode("utf-8")
    return Pack(review=review, report=report, files=files)
