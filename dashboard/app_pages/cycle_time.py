"""Cycle time: how long delivered items took, what to promise (the SLE), where the time went."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data
from dashboard.tables import items_table
from dashboard.view import current_view
from dashboard.widgets import chart, day_banner, fmt, md, no_data, quality_links, table
from metrics.quality import data_quality

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
st.title("Cycle time")

if loaded.empty:
    no_data(
        "No work items yet, so no cycle times.",
        "Open the Data page and click Sync now, or run `flowdeck sync` in a terminal.",
    )
    st.stop()

day_banner(view)
report = data.report(loaded, view.filters, view.moment)
quality_links(data_quality(report, workflow), ("straight_to_done", "unmapped_status"))
done = charts.delivered_items(report.items, workflow.timezone)
first, last = report.first_day, report.last_day
delivered = done[(done["done_day"] >= first) & (done["done_day"] <= last)]
if delivered.empty:
    no_data(
        f"No item was delivered between {first:%d %b %Y} and {last:%d %b %Y}.",
        "Widen the date range or clear the filters in the sidebar; an item counts once it "
        f"reaches '{md(workflow.stages[workflow.done].name)}'.",
    )
    st.stop()

bands = report.percentiles
st.caption(
    f"{len(delivered)} items delivered from {first:%d %b %Y} to {last:%d %b %Y}. Cycle time "
    "counts calendar days from start to done, both included (an item done the day it started "
    "took 1 day)."
)
tiles = st.columns(5)
tiles[0].metric("p50", fmt(bands.get(50), 1, " days"), help="Half the items took this or less.")
tiles[1].metric("p70", fmt(bands.get(70), 1, " days"))
tiles[2].metric(
    "p85 (SLE)", fmt(bands.get(85), 1, " days"),
    help="The service level expectation: 85% of items finish within it.",
)  # fmt: skip
tiles[3].metric("p95", fmt(bands.get(95), 1, " days"))
efficiency = delivered["flow_efficiency"].astype("float64").mean()
tiles[4].metric("Flow efficiency", fmt(efficiency * 100, 0, "%"))

chart(charts.cycle_time_scatter(delivered, bands), key="scatter", explain=True)
st.caption(
    "Each dot is a delivered item (hover for its id and title). Dots above the p85 line took "
    "longer than the SLE: look for what they have in common. Click a dot to explain it."
)
left, right = st.columns(2)
with left:
    chart(charts.cycle_time_histogram(delivered, bands), key="histogram")
    st.caption("How many items took each number of days; a long tail is where predictability goes.")
with right:
    stages = workflow.in_progress_names
    waiting = {s.name for s in workflow.stages if s.waiting}
    chart(charts.time_in_stage(report.stage_times, delivered.index, stages, waiting), key="stages")
    st.caption(
        "Where delivered items spent their time: the average days in each stage over all of "
        "them, and the share that passed through it; grey stages are queues (waiting)."
    )
chart(charts.flow_efficiency_histogram(delivered), key="efficiency")
st.caption(
    "Flow efficiency: the share of an item's cycle time spent in stages that are not queues. "
    "Most teams are below 40%; the rest is waiting."
)

with st.expander(f"Delivered items ({len(delivered)})"):
    table(items_table(delivered), "delivered_items", key="delivered")
