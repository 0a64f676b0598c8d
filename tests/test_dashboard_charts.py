"""The dashboard's plain parts, without Streamlit: chart builders (what each figure plots equals
the metrics' numbers), the board's columns and attention list, the sidebar's filters, safe
rendering of untrusted text, CSV downloads and the DORA bands."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from connectors.demo import DEMO_AS_OF, demo_config, demo_flow_data, demo_wip_limit_changes
from dashboard import charts, dora
from dashboard.board import (
    attention_list,
    board_columns,
    board_stages,
    limit_at,
    short_id,
)
from dashboard.filters import Filters, filter_flow_data, filter_options, within_days
from dashboard.safe_text import escape_markdown, plot_text, safe_url
from dashboard.tables import csv_bytes, items_table, on_screen
from metrics.days import end_of_day
from metrics.frames import FlowData
from metrics.report import flow_report

HOSTILE = "<script>alert('board')</script> in the search box"


@pytest.fixture(scope="module")
def demo():
    config = demo_config()
    data = demo_flow_data()
    return config.workflow, data, flow_report(data, config.workflow, DEMO_AS_OF)


@pytest.fixture(scope="module")
def empty():
    workflow = demo_config().workflow
    return workflow, flow_report(FlowData(), workflow, DEMO_AS_OF)


def _points(fig: go.Figure) -> int:
    """Markers drawn (a legend-only trace has no point)."""
    return sum(
        sum(y is not None for y in t.y)
        for t in fig.data
        if t.type == "scatter" and t.mode == "markers"
    )


# ---- charts -------------------------------------------------------------------------------


def test_aging_wip_plots_every_item_in_progress_at_its_age(demo):
    workflow, _, report = demo
    wip = report.items[report.items["in_progress"]]
    fig = charts.aging_wip(report.items, workflow.in_progress_names, report.percentiles)
    assert _points(fig) == len(wip)
    ages = sorted(float(y) for t in fig.data for y in t.y if y is not None)
    assert ages == sorted(wip["age_days"].astype(float))
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted(round(s.y0, 4) for s in lines) == sorted(report.percentiles.round(4))
    assert len([s for s in fig.layout.shapes if s.type == "rect"]) == 5  # 4 bands + beyond p95
    assert list(fig.layout.xaxis.ticktext) == workflow.in_progress_names


def test_aging_wip_hover_text_is_escaped():
    items = pd.DataFrame(
        {
            "title": [HOSTILE],
            "stage": ["In Progress"],
            "age_days": pd.array([4], dtype="Int64"),
            "in_progress": [True],
            "pace_band": ["late"],
            "blocked_now": [True],
        },
        index=pd.Index(["<b>X-1</b>"], name="item_id"),
    )
    bands = pd.Series([1.0, 2.0, 3.0, 3.5], index=[50, 70, 85, 95])
    fig = charts.aging_wip(items, ["In Progress"], bands)
    (hover,) = fig.data[0].hovertext
    assert "&lt;script&gt;" in hover and "<script>" not in hover
    assert "&lt;b&gt;X-1&lt;/b&gt;" in hover
    assert list(fig.data[0].marker.symbol) == ["x"]  # blocked items are crosses


def test_aging_wip_labels_never_overprint_and_the_cross_is_in_the_legend():
    items = pd.DataFrame(
        {
            "title": ["a", "b"],
            "stage": ["In Progress", "In Progress"],
            "age_days": pd.array([4, 30], dtype="Int64"),
            "in_progress": [True, True],
            "pace_band": ["ok", "late"],
            "blocked_now": [False, True],
        },
        index=pd.Index(["X-1", "X-2"], name="item_id"),
    )
    # p50 and p70 one day apart on a 32-day axis, p85 and p95 equal: labels would overprint.
    bands = pd.Series([10.0, 11.0, 20.0, 20.0], index=[50, 70, 85, 95])
    fig = charts.aging_wip(items, ["In Progress"], bands)
    labels = sorted(fig.layout.annotations, key=lambda a: a.y)
    assert [a.text for a in labels] == ["p50 10 days", "p70 11 days", "p85 20 days (SLE)",
                                        "p95 20 days"]  # fmt: skip
    # In the right margin (x beyond the plot), clear of the age axis's tick labels on the left.
    assert all(a.xref == "paper" and a.x == 1 and a.xanchor == "left" for a in labels)
    low, high = fig.layout.yaxis.range
    plot_px = charts.AGING_HEIGHT - 130
    px = [(a.y - low) / (high - low) * plot_px for a in labels]
    assert all(b - a >= charts._LABEL_PX - 1e-6 for a, b in zip(px, px[1:], strict=False)), px
    assert all(low <= a.y <= high for a in labels)
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert "blocked (a cross)" in legend
    cross = next(t for t in fig.data if t.name == "blocked (a cross)")
    assert cross.marker.symbol == "x"


def test_cumulative_flow_draws_the_cfd_table(demo):
    workflow, _, report = demo
    stages = workflow.stage_names[workflow.start :]
    fig = charts.cumulative_flow(report.cfd[stages], stages, workflow.start)
    assert [t.name for t in fig.data] == list(reversed(stages))
    for trace in fig.data:
        assert list(trace.y) == report.cfd[trace.name].tolist()
    assert fig.data[0].fill == "tozeroy"


def test_wip_run_chart_has_the_total_limit(demo):
    workflow, _, report = demo
    fig = charts.wip_run_chart(report.daily, workflow.wip_limit)
    assert list(fig.data[0].y) == report.daily["wip"].tolist()
    names = [t.name for t in fig.data]
    # The limit and the average are legend entries (each on its own line), not labels that
    # can overprint each other on the plot.
    mean = report.daily["wip"].mean()
    assert names == ["WIP", f"WIP limit {workflow.wip_limit}", f"average {mean:.1f}"]
    assert set(fig.data[1].y) == {workflow.wip_limit} and not fig.layout.annotations


def test_stage_limit_series_follows_the_wip_limit_history(demo):
    workflow, _, report = demo
    changes = demo_wip_limit_changes()
    days = report.daily.index
    limits = charts.stage_limit_series(days, "In Progress", 4, changes, workflow.timezone)
    change_day = pd.Timestamp(changes["changed_at"].iloc[0].tz_convert(workflow.timezone).date())
    assert (limits[days < change_day] == 8).all() and (limits[days >= change_day] == 4).all()
    ready = charts.stage_limit_series(days, "Ready", 6, changes, workflow.timezone)
    assert (ready == 6).all()
    none = charts.stage_limit_series(days, "Testing", None, pd.DataFrame(), workflow.timezone)
    assert none.isna().all()
    fig = charts.stage_wip_chart(report.daily, ["In Progress"], {"In Progress": limits})
    (step,) = [t for t in fig.data if t.name == "WIP limit"]
    assert step.line.shape == "hv" and list(step.y) == limits.tolist()


def test_weekly_throughput_and_net_flow_add_up(demo):
    _, _, report = demo
    daily = report.daily
    fig = charts.weekly_throughput(daily)
    assert sum(fig.data[0].y) == daily["throughput"].sum()
    net = charts.net_flow(daily)
    assert sum(net.data[0].y) == daily["arrivals"].sum() - daily["throughput"].sum()
    weeks = charts.weekly(daily, "throughput")
    assert all(d.day_of_week == 0 for d in weeks.index)  # labelled by their Monday


def test_part_weeks_are_marked_and_the_average_waits_for_whole_weeks():
    # Wed 3 Jan to Tue 6 Feb 2024: a 5-day first week, four whole weeks, a 2-day last week.
    days = pd.date_range("2024-01-03", "2024-02-06", freq="D", name="date")
    daily = pd.DataFrame({"throughput": 1, "arrivals": 1}, index=days)
    fig = charts.weekly_throughput(daily, window=4)
    bars = fig.data[0]
    assert list(bars.customdata) == [" (part week: 5 of 7 days)", "", "", "", "",
                                     " (part week: 2 of 7 days)"]  # fmt: skip
    assert bars.marker.color[0] != bars.marker.color[1] == bars.marker.color[4]
    (avg,) = [t for t in fig.data if t.name == "4-week average"]
    # One point: the first four whole weeks; the part weeks never pull it towards zero.
    assert list(avg.y) == [7.0] and pd.Timestamp(avg.x[0]) == pd.Timestamp("2024-01-29")


def test_cycle_time_charts_show_the_delivered_items(demo):
    workflow, _, report = demo
    delivered = charts.delivered_items(report.items, workflow.timezone)
    fig = charts.cycle_time_scatter(delivered, report.percentiles)
    assert _points(fig) == len(delivered)
    assert sorted(t.name for t in fig.data) == sorted(delivered["type"].unique())
    hist = charts.cycle_time_histogram(delivered, report.percentiles)
    assert len(hist.data[0].x) == len(delivered)
    assert len(hist.layout.annotations) == 4
    stages = workflow.in_progress_names
    bars = charts.time_in_stage(report.stage_times, delivered.index, stages, {"Ready"})
    hours = report.stage_times.loc[delivered.index, stages]
    assert np.allclose(bars.data[0].y, (hours / 24).mean().to_numpy())
    assert list(bars.data[0].text) == [f"{p:.0%} of items" for p in (hours > 0).mean()]
    eff = charts.flow_efficiency_histogram(delivered)
    assert sum(eff.data[0].y) == delivered["flow_efficiency"].notna().sum()


def test_items_at_100_percent_efficiency_and_a_stage_most_items_skip_are_shown():
    """A real board had 41 of 118 items at exactly 100%: they fell off a clipped axis; a stage
    most items skip had no bar because its median was 0."""
    delivered = pd.DataFrame({"flow_efficiency": [1.0, 1.0, 0.5, 0.02, None]})
    eff = charts.flow_efficiency_histogram(delivered)
    counts = dict(zip(eff.data[0].customdata, eff.data[0].y, strict=True))
    assert counts["95-100%"] == 2 and counts["50-55%"] == 1 and counts["0-5%"] == 1
    times = pd.DataFrame({"Dev": [48.0, 24.0, 24.0, 24.0], "Fix": [96.0, 0.0, 0.0, 0.0]},
                         index=["a", "b", "c", "d"])  # fmt: skip
    bars = charts.time_in_stage(times, times.index, ["Dev", "Fix"], set())
    assert list(bars.data[0].y) == [1.25, 1.0]  # Fix: 4 days over 4 items, though the median is 0
    assert list(bars.data[0].text) == ["100% of items", "25% of items"]


def test_delivery_charts_count_the_deployments(demo):
    workflow, data, report = demo
    table = report.deployments
    prod = table[table["production"]]
    fig = charts.deploys_per_week(table, workflow.timezone)
    by_status = {t.name: sum(t.y) for t in fig.data}
    assert by_status == prod["status"].value_counts().to_dict()
    lines = pd.Series({prod["deploy_id"].iloc[0]: 120.0})
    batches = charts.batch_sizes(table, lines)
    ok = prod[prod["status"].eq("success")]
    assert list(batches.data[0].y) == ok["batch_size"].astype(float).tolist()
    assert batches.data[1].name == "lines changed"
    lead = charts.lead_times(report.shipped_items)
    assert np.allclose(lead.data[0].y, report.shipped_items["lead_time_hours"] / 24)
    restore = charts.restore_times(table)
    assert len(restore.data[0].y) == (prod["status"] == "failure").sum()


def test_every_chart_builds_on_empty_data(empty):
    workflow, report = empty
    delivered = charts.delivered_items(report.items, workflow.timezone)
    figures = [
        charts.aging_wip(report.items, workflow.in_progress_names, report.percentiles),
        charts.cumulative_flow(report.cfd, workflow.stage_names),
        charts.wip_run_chart(report.daily, None),
        charts.weekly_throughput(report.daily),
        charts.net_flow(report.daily),
        charts.cycle_time_scatter(delivered, report.percentiles),
        charts.cycle_time_histogram(delivered, report.percentiles),
        charts.time_in_stage(report.stage_times, delivered.index, [], set()),
        charts.flow_efficiency_histogram(delivered),
        charts.deploys_per_week(report.deployments, workflow.timezone),
        charts.batch_sizes(report.deployments),
        charts.lead_times(report.shipped_items),
        charts.restore_times(report.deployments),
    ]
    for fig in figures:
        assert isinstance(fig, go.Figure)
        fig.to_json()  # serializable as Streamlit sends it


# ---- the board ----------------------------------------------------------------------------


def test_board_columns_count_what_the_metrics_count(demo):
    workflow, _, report = demo
    columns = board_columns(report, workflow)
    assert [c.stage for c in columns] == [workflow.stages[i].name for i in board_stages(workflow)]
    assert columns[0].stage == workflow.stages[workflow.start - 1].name
    assert not columns[0].committed and all(c.committed for c in columns[1:])
    wip = report.items[report.items["in_progress"]]
    for col in columns[1:]:
        assert col.count == (wip["stage"] == col.stage).sum()
        ages = [c.age_days for c in col.cards]
        assert ages == sorted(ages, reverse=True)  # oldest first
    backlog = report.items[(report.items["stage"] == columns[0].stage)]
    assert columns[0].count == len(backlog)
    short = board_columns(report, workflow, max_cards=3)
    assert all(len(c.cards) <= 3 for c in short)
    assert [c.count for c in short] == [c.count for c in columns]


def test_total_limit_is_the_workflows_else_the_sum_of_the_column_limits(demo):
    from dataclasses import replace

    from dashboard.board import total_limit

    workflow, _, report = demo
    columns = board_columns(report, workflow)
    assert total_limit(workflow, columns, None, report.as_of) == (16, "total limit")
    no_total = replace(workflow, wip_limit=None)
    committed = [c.limit for c in columns if c.committed]
    assert total_limit(no_total, columns, None, report.as_of) == (
        sum(committed),
        "sum of column limits",
    )
    # One column without a limit: no cap on the whole, so no sum pretending to be one.
    open_column = [replace(columns[-1], limit=None) if i == len(columns) - 1 else c
                   for i, c in enumerate(columns)]  # fmt: skip
    assert total_limit(no_total, open_column, None, report.as_of) == (None, "no total limit")


def test_column_heading_says_how_far_over_the_limit(demo):
    workflow, data, _ = demo
    # Before the kaizen change the team ran In Progress at 8 while the workflow now says 4.
    day = dt.date(2025, 4, 2)
    report = flow_report(data, workflow, end_of_day(day, workflow.timezone))
    configured = {c.stage: c for c in board_columns(report, workflow)}
    replayed = {c.stage: c for c in board_columns(report, workflow, demo_wip_limit_changes())}
    assert replayed["In Progress"].limit == 8 and configured["In Progress"].limit == 4
    col = configured["In Progress"]
    assert col.heading == f"In Progress {col.count}\xa0/\xa04"  # never broken
    if col.count > 4:
        assert col.status_words == f"{col.count - 4} over the limit"
    wip = report.items[report.items["in_progress"]]
    for col in replayed.values():
        if col.limit is None:
            continue
        assert (
            col.count == (report.items["position"] == workflow.stage_names.index(col.stage)).sum()
        )
        if col.count > col.limit:
            expected = f"{col.count - col.limit} over the limit"
        elif col.count == col.limit:
            expected = "at the limit"
        else:
            expected = f"{col.limit - col.count} below the limit"
        assert col.status_words == expected
    review = replayed["Review"]
    assert review.count == (wip["stage"] == "Review").sum() > 4  # this day Review was over
    assert review.status_words == f"{review.count - 4} over the limit"


def test_limit_at_reads_the_history():
    changes = pd.DataFrame(
        {
            "stage": ["Dev", "Dev"],
            "old_limit": pd.array([None, 5], dtype="Int64"),
            "new_limit": pd.array([5, 3], dtype="Int64"),
            "changed_at": pd.to_datetime(["2025-01-10", "2025-03-01"], utc=True),
        }
    )
    at = pd.Timestamp
    assert limit_at("Dev", 3, changes, at("2025-01-01", tz="UTC")) is None
    assert limit_at("Dev", 3, changes, at("2025-02-01", tz="UTC")) == 5
    assert limit_at("Dev", 3, changes, at("2025-04-01", tz="UTC")) == 3
    assert limit_at("Test", 2, changes, at("2025-04-01", tz="UTC")) == 2


def test_attention_list_names_late_and_blocked_items_and_full_stages(demo):
    workflow, data, _ = demo
    day = dt.date(2025, 3, 1)  # two items blocked for days, a stage over its limit
    report = flow_report(data, workflow, end_of_day(day, workflow.timezone))
    columns = board_columns(report, workflow)
    attention = attention_list(report, columns, workflow.timezone)
    assert (attention["reason"] == "blocked").sum() == 2
    wip = report.items[report.items["in_progress"]]
    sle = report.percentiles[85]
    late = set(wip.index[wip["age_days"] > sle])
    blocked = set(wip.index[wip["blocked_now"]])
    assert set(attention.loc[attention["reason"] == "older than the SLE", "item_id"]) == late
    assert set(attention.loc[attention["reason"] == "blocked", "item_id"]) == blocked
    # "blocked for N days": the open spell's local days, as the card's badge says
    cards = {c.item_id: c for col in columns for c in col.cards}
    for _, row in attention[attention["reason"] == "blocked"].iterrows():
        since = wip.loc[row["item_id"], "blocked_since"].tz_convert(workflow.timezone).date()
        days = (day - since).days + 1
        assert row["detail"] == f"blocked for {days} day{'s' if days != 1 else ''}"
        if row["item_id"] in cards:
            assert cards[row["item_id"]].blocked_for_days == days
    over = {c.stage for c in columns if c.over}
    assert set(attention.loc[attention["item_id"] == "", "stage"]) == over
    assert over, "the replayed day has a stage over its configured limit"


@pytest.mark.parametrize(
    ("item_id", "shown"),
    [("csv:team:FD-7", "FD-7"), ("jira:ABC-7", "ABC-7"), ("github:acme/web#12", "web#12"),
     ("FD-7", "FD-7"), ("csv:x", "x")],
)  # fmt: skip
def test_short_id(item_id, shown):
    assert short_id(item_id) == shown


# ---- filters ------------------------------------------------------------------------------


def test_filters_choose_items_and_their_events(demo):
    _, data, _ = demo
    options = filter_options(data.items)
    assert options["types"] == ["Bug", "Chore", "Story"] and "customer" in options["labels"]
    bugs = filter_flow_data(data, Filters(types=("Bug",)))
    assert set(bugs.items["type"]) == {"Bug"}
    assert set(bugs.events["item_id"]) <= set(bugs.items["item_id"])
    assert len(bugs.deployments) == len(data.deployments)
    customer = filter_flow_data(data, Filters(labels=("customer",)))
    assert customer.items["labels"].str.split(";").map(lambda ls: "customer" in ls).all()
    assert filter_flow_data(data, Filters()) is data
    nobody = filter_flow_data(data, Filters(sources=("elsewhere",)))
    assert nobody.items.empty and nobody.deployments.empty


def test_within_days_uses_local_days():
    frame = pd.DataFrame({"at": pd.to_datetime(["2025-03-30T23:30Z", "2025-03-31T00:30Z"])})
    kept = within_days(frame, "at", "Europe/London", pd.Timestamp("2025-03-31"),
                       pd.Timestamp("2025-03-31"))  # fmt: skip
    assert len(kept) == 2  # 23:30 UTC on the 30th is 00:30 BST on the 31st


# ---- untrusted text and downloads ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HOSTILE, "[click](javascript:alert(1))", ":red[alarm] :material/home: $x^2$", "**bold**",
     '=HYPERLINK("http://evil.example/","click me")', "line\nbreak # heading"],
)  # fmt: skip
def test_escape_markdown_leaves_no_markup(text):
    escaped = escape_markdown(text)
    # Every punctuation character is escaped, so none can open markup.
    for i, ch in enumerate(escaped):
        if ch in "<>[]():*$#`=_":
            assert escaped[i - 1] == "\\", (text, escaped)
    assert "\n" not in escaped
    assert plot_text(text).count("<") == 0


def test_safe_url_only_allows_http():
    assert safe_url("https://tracker.example.com/browse/FD-1") == (
        "https://tracker.example.com/browse/FD-1"
    )
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,hi") is None
    assert safe_url("") is None and safe_url(None) is None
    assert ")" not in safe_url("https://x.example/a)b c")


def test_csv_download_is_formula_escaped_like_the_export():
    frame = pd.DataFrame(
        {
            "title": ['=HYPERLINK("http://evil.example/")', "+1 for dark mode", "plain"],
            "done_at": pd.to_datetime(["2025-01-01T10:00Z", None, "2025-01-02T00:00Z"]),
            "n": [1, 2, 3],
        }
    )
    text = csv_bytes(frame).decode("utf-8").splitlines()
    assert text[0] == "title,done_at,n"
    assert text[1].startswith("\"'=HYPERLINK(") and text[2].startswith("'+1")
    assert "2025-01-01T10:00:00Z" in text[1]


def test_tables_one_time_zone_yes_no_and_no_none():
    frame = pd.DataFrame(
        {
            "item_id": ["A-1", "A-2"],
            "done_at": pd.to_datetime(["2025-07-01T10:00Z", None]),
            "blocked_now": [True, False],
            "reason": ["vendor", None],
            "age_days": pd.array([None, 12], dtype="Int64"),  # a delivered item has no age
            "share": [0.4234, float("nan")],
        }
    )
    screen = on_screen(frame, "Europe/London")
    assert screen["age_days"].tolist() == ["", "12"] and screen["share"].tolist() == ["0.4234", ""]
    # The workflow's zone with its offset on screen (British Summer Time in July)...
    assert screen["done_at"].tolist() == ["2025-07-01 11:00 +01:00", ""]
    assert screen["blocked_now"].tolist() == ["yes", "no"]
    assert screen["reason"].tolist() == ["vendor", ""]
    # ...and UTC in the download, as in the export files.
    text = csv_bytes(frame).decode("utf-8").splitlines()
    assert text[1] == "A-1,2025-07-01T10:00:00Z,yes,vendor,,0.4234"
    assert text[2] == "A-2,,no,,12,"


def test_the_items_table_uses_the_export_column_names(demo):
    from metrics.export_tables import ITEMS_COLUMNS

    _, _, report = demo
    shown = items_table(report.items[report.items["in_progress"]])
    extra = set(shown.columns) - set(ITEMS_COLUMNS)
    assert extra == {"pace_band"}, extra  # the board's words for `pace`, not in the export
    assert "cycle_time_hours" not in shown.columns  # one unit per number: days
    assert set(on_screen(shown, "UTC")["blocked_now"]) <= {"yes", "no"}


# ---- DORA bands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "band"),
    [(dora.deploy_frequency(10), "elite"), (dora.deploy_frequency(1), "high"),
     (dora.deploy_frequency(0.5), "medium"), (dora.deploy_frequency(0.1), "low"),
     (dora.lead_time(2), "elite"), (dora.lead_time(48), "high"), (dora.lead_time(300), "medium"),
     (dora.lead_time(2000), "low"), (dora.change_failure_rate(0.05), "elite"),
     (dora.change_failure_rate(0.12), "medium"), (dora.change_failure_rate(0.5), "low"),
     (dora.time_to_restore(0.5), "elite"), (dora.time_to_restore(5), "high"),
     (dora.time_to_restore(100), "medium"), (dora.time_to_restore(500), "low"),
     (dora.lead_time(float("nan")), ""), (dora.deploy_frequency(None), "")],
)  # fmt: skip
def test_dora_bands(rating, band):
    assert rating.band == band
    assert rating.meaning.endswith(".")


def test_mass_moves_are_minutes_when_many_items_moved_and_the_quality_report_names_them():
    from metrics.quality import data_quality, mass_moves
    from metrics.report import flow_report
    from tests.flowbuild import flow, workflow

    rows = [(f"I{i}", "2024-06-03 09:00", "Backlog") for i in range(12)]  # created together
    rows += [(f"I{i}", f"2024-06-04 16:20:{i:02d}", "Dev") for i in range(11)]  # a clean-up
    rows += [(f"I{i}", "2024-06-05 10:00", "Done") for i in range(9)]  # 9: not a clean-up
    data = flow(*rows)
    report = flow_report(data, workflow(), pd.Timestamp("2024-06-06", tz="UTC"))
    bulk = mass_moves(report.intervals)
    assert bulk.values.tolist() == [[pd.Timestamp("2024-06-04 16:20", tz="UTC"), 11]]
    quality = data_quality(report, workflow()).set_index("check")
    assert quality.loc["mass_moves", "count"] == 1
    assert "2024-06-04 16:20 UTC (11 items)" in quality.loc["mass_moves", "detail"]
