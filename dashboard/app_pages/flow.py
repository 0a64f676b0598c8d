"""Flow: is work flowing? Cumulative flow, WIP against its limits, throughput and net flow."""

from __future__ import annotations

import streamlit as st

from dashboard import breakdown_charts, charts, data
from dashboard.board import short_id
from dashboard.limits_view import change_marks, report_limits
from dashboard.view import current_view
from dashboard.widgets import chart, day_banner, fmt, md, no_data, quality_links, table
from metrics.days import local_days
from metrics.limits import TOTAL
from metrics.quality import MASS_MOVE_ITEMS, data_quality, mass_moves
from metrics.stability import (
    cycle_times_in_done_order,
    report_littles_law,
    weekly_throughput,
    xmr,
    xmr_signals,
)

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
st.title("Flow")

if loaded.empty:
    no_data(
        "No work items yet, so no flow to draw.",
        "Open the Data page and click Sync now, or run `flowdeck sync` in a terminal.",
    )
    st.stop()

day_banner(view)
report = data.report(loaded, view.filters, view.moment)
quality_links(data_quality(report, workflow), ("mass_moves", "unmapped_status"))
if report.items.empty:
    no_data(
        "No items match the filters.",
        "Clear the item type, label or source filters in the sidebar.",
    )
    st.stop()

daily = report.daily
values = dict(zip(report.summary["metric"], report.summary["value"], strict=True))
st.caption(
    f"{report.first_day:%d %b %Y} to {report.last_day:%d %b %Y} ({len(daily)} days, "
    f"{workflow.timezone}). Change the days with the date range in the sidebar."
)
tiles = st.columns(4)
tiles[0].metric("Average WIP", fmt(values.get("wip_avg")), help="Items in progress per day.")
tiles[1].metric("Throughput per week", fmt(values.get("throughput_per_week")))
tiles[2].metric("Started per week", fmt(values.get("arrivals_per_week")))
tiles[3].metric("Delivered in range", fmt(values.get("items_delivered_in_range"), 0))

before = workflow.stage_names[: workflow.start]
with_backlog = st.toggle(
    f"Include the stages before {md(workflow.stage_names[workflow.start])} in the diagram",
    key="cfd_backlog",
    help="A long backlog dwarfs the in-progress bands; they are left out by default.",
) if before else False  # fmt: skip
cfd_stages = workflow.stage_names if with_backlog else workflow.stage_names[workflow.start :]
first_index = 0 if with_backlog else workflow.start
chart(charts.cumulative_flow(report.cfd[cfd_stages], cfd_stages, first_index), key="cfd")
st.caption(
    "Each band is a stage; its height on a day is how many items were in it. Bands that "
    "widen mean work piling up in that stage; parallel edges mean a steady flow."
)

in_force = report_limits(report, workflow, loaded.wip_changes)
marks = change_marks(report, workflow, loaded.wip_changes)
left, right = st.columns(2)
with left:
    chart(
        charts.wip_run_chart(daily, workflow.wip_limit, in_force[TOTAL], marks[TOTAL]),
        key="wip_run",
    )
    st.caption(
        "Items in progress each day, against the total WIP limit in force that day; a diamond "
        "marks each change of the limit, with its reason."
    )
with right:
    chart(charts.net_flow(daily), key="net_flow")
    st.caption(
        "Started minus delivered each week: above zero the system is filling up (ages will "
        "grow), below zero it is draining."
    )

chart(charts.weekly_throughput(daily), key="throughput")
st.caption(
    "Items delivered each week, with the 4-week moving average of whole weeks; a pale bar is a "
    "part week at either end of the range."
)
bulk = mass_moves(report.intervals)
bulk_day = local_days(bulk["minute"], workflow.timezone)
bulk = bulk[(bulk_day >= report.first_day) & (bulk_day <= report.last_day)]
if len(bulk):
    named = ", ".join(
        f"{m.tz_convert(workflow.timezone):%d %b %Y %H:%M} ({n} items)"
        for m, n in zip(bulk["minute"].head(5), bulk["items"].head(5), strict=True)
    )
    more = f" and {len(bulk) - 5} more" if len(bulk) > 5 else ""
    st.warning(
        f"Board clean-ups: {MASS_MOVE_ITEMS} or more items moved within one minute at {named}"
        f"{more}. Such moves are bookkeeping, not flow: throughput and the CFD jump on those "
        "days. The Data page's quality report lists every one.",
        icon=":material/warning:",
    )
done = charts.delivered_items(report.items, workflow.timezone)
done = done[(done["done_day"] >= report.first_day) & (done["done_day"] <= report.last_day)]
if len(done):
    chart(
        breakdown_charts.throughput_by_type(done, report.first_day, report.last_day),
        key="throughput_by_type",
    )
    st.caption(
        "The same weeks by item type: how the team's capacity splits between features, bugs "
        "and chores (the sidebar's type filter applies here too)."
    )

limited = workflow.in_progress_names
limits = {name: in_force[name] for name in limited}
chart(charts.stage_wip_chart(daily, limited, limits, workflow.start, marks), key="stage_wip")
st.caption(
    "Each in-progress stage's count at the end of each day; the dashed step line is the WIP "
    "limit in force that day, and a diamond marks each change with its reason. Set limits and "
    "see their history on the WIP limits page."
)

st.subheader("Is the system stable? Little's Law")
check = report_littles_law(report, workflow)
tiles = st.columns(4)
tiles[0].metric("Average WIP (L)", fmt(check.wip_avg), help="Mean daily WIP over the range.")
tiles[1].metric(
    "Throughput per day (λ)", fmt(check.throughput_per_day, 2),
    help="Items delivered in the range / days.",
)  # fmt: skip
tiles[2].metric(
    "Average cycle time (W)", fmt(check.cycle_time_avg, 1, " days"),
    help="Mean cycle time in days of the items delivered in the range.",
)  # fmt: skip
tiles[3].metric(
    "L / (λ × W)", fmt(check.ratio, 2),
    help="Close to 1 (between 0.8 and 1.25) when the system is stable.",
)  # fmt: skip
if check.holds:
    st.success(
        "Little's Law holds for this range: WIP, throughput and cycle time agree, arrivals "
        "match departures and nothing is piling up, so the averages on these pages describe "
        "how the team works."
    )
else:
    st.markdown("Little's Law does **not** hold for this range, so averages here may mislead:")
    for flag in check.flags:
        st.warning(md(flag))

st.subheader("Process behaviour charts")
st.caption(
    "Natural process limits are the mean ± 2.66 × the average moving range: points inside them "
    "are routine variation; a point outside them, or 8 in a row on one side of the mean, is a "
    "signal worth investigating."
)


def signal_list(sentences: list[str], none: str) -> None:
    if not sentences:
        st.caption(none)
        return
    shown = sentences[:8]
    more = len(sentences) - len(shown)
    st.markdown("\n".join(f"- {md(s)}" for s in shown))
    if more:
        st.caption(f"… and {more} more signals.")


weeks = weekly_throughput(daily)
week_chart = xmr(weeks)
chart(
    charts.xmr_chart(week_chart, "Throughput per week (XmR)", "items delivered",
                     hover=[f"week of {d:%d %b %Y}" for d in weeks.index]),
    key="xmr_throughput",
)  # fmt: skip
signal_list(
    xmr_signals(week_chart, lambda d: f"the week of {d:%d %b %Y}", "items"),
    "No signal: weekly throughput varies only within its natural limits."
    if len(weeks) > 1 else "Fewer than two whole weeks in the range: no chart to read.",
)  # fmt: skip

cycle = cycle_times_in_done_order(done)
cycle_chart = xmr(cycle)
done_day = done["done_day"]
chart(
    charts.xmr_chart(
        cycle_chart.reset_index(drop=True), "Cycle time in done order (XmR)", "cycle time (days)",
        x=list(range(1, len(cycle) + 1)),
        hover=[f"{short_id(i)} done {done_day[i]:%d %b}" for i in cycle.index],
    ),
    key="xmr_cycle",
)  # fmt: skip
signal_list(
    xmr_signals(cycle_chart, lambda i: f"{short_id(i)} (done {done_day[i]:%d %b})", "days"),
    "No signal: cycle times vary only within their natural limits."
    if len(cycle) > 1 else "Fewer than two delivered items in the range: no chart to read.",
)  # fmt: skip

with st.expander("Daily table"):
    table(daily.reset_index().assign(date=lambda f: f["date"].dt.date), "daily", key="daily")
