"""Flow: is work flowing? Cumulative flow, WIP against its limits, throughput and net flow."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import breakdown_charts, charts, data
from dashboard.board import limits_table
from dashboard.view import current_view
from dashboard.widgets import chart, fmt, md, no_data, table
from metrics.errors import FlowdeckError

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

report = data.report(loaded, view.filters)
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

left, right = st.columns(2)
with left:
    chart(charts.wip_run_chart(daily, workflow.wip_limit), key="wip_run")
    st.caption("Items in progress each day, against the workflow's total WIP limit.")
with right:
    chart(charts.net_flow(daily), key="net_flow")
    st.caption(
        "Started minus delivered each week: above zero the system is filling up (ages will "
        "grow), below zero it is draining."
    )

chart(charts.weekly_throughput(daily), key="throughput")
st.caption("Items delivered each week, with the 4-week moving average.")
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

limited = [s.name for s in workflow.stages[workflow.start : workflow.done]]
limits = {
    name: charts.stage_limit_series(
        daily.index, name, workflow.stages[workflow.stage_names.index(name)].wip_limit,
        loaded.wip_changes, workflow.timezone,
    )
    for name in limited
}  # fmt: skip
chart(charts.stage_wip_chart(daily, limited, limits, workflow.start), key="stage_wip")
st.caption(
    "Each in-progress stage's count at the end of each day; the dashed step line is the WIP "
    "limit in force that day (from the WIP-limit history)."
)


def shown_limit(value: object) -> str:
    return "none" if pd.isna(value) else str(int(value))


def limits_section() -> None:
    """The limits in force, a form to record a change (a lead's kaizen experiment), and the
    history, which the board's replay and the step lines above read."""
    st.subheader("WIP limits")
    changes = loaded.wip_changes
    now = limits_table(workflow, changes, loaded.as_of)
    differ = now[now["configured"].astype("float64").fillna(-1)
                 != now["in_force"].astype("float64").fillna(-1)]  # fmt: skip
    for _, row in differ.iterrows():
        st.warning(
            f"**{md(row['stage'])}**: the last recorded change set its limit to "
            f"{shown_limit(row['in_force'])}, but the workflow file says "
            f"{shown_limit(row['configured'])}. The board uses the recorded limit; edit the "
            "workflow file to match."
        )
    if not loaded.demo:
        with st.form("wip_limit_change", clear_on_submit=True):
            st.markdown("**Record a WIP-limit change** (it takes effect on the board now)")
            cols = st.columns([2, 1, 2])
            stage = cols[0].selectbox("Stage", now["stage"].tolist(), key="limit_stage")
            new = cols[1].number_input(
                "New limit (0 = none)", min_value=0, max_value=999, step=1, value=None,
                key="limit_new",
            )  # fmt: skip
            who = cols[2].text_input("Who", key="limit_who")
            why = st.text_input("Why (the experiment, what you expect)", key="limit_why")
            if st.form_submit_button("Record the change"):
                old = now.loc[now["stage"] == stage, "in_force"].iloc[0]
                old = None if pd.isna(old) else int(old)
                new_limit = int(new) or None if new is not None else old
                if new is None:
                    st.warning("Enter the new limit (0 for no limit); nothing recorded.")
                elif new_limit == old:
                    st.warning(f"{md(stage)} already has that limit; nothing recorded.")
                else:
                    try:
                        data.record_wip_limit_change(
                            loaded.setup, stage, old, new_limit, who.strip(), why.strip()
                        )
                    except FlowdeckError as exc:
                        st.error(md(exc))
                    else:
                        st.toast(
                            f"Recorded: {md(stage)} limit {old or 'none'} → {new_limit or 'none'}"
                        )
                        st.rerun()
    if changes is not None and len(changes):
        shown = changes.assign(
            changed_at=changes["changed_at"].dt.tz_convert(workflow.timezone).dt.tz_localize(None)
        )
        table(shown, "wip_limit_changes", key="wip_changes")
    else:
        st.caption("No WIP-limit change recorded yet: the limits come from the workflow file.")


limits_section()

with st.expander("Daily table"):
    table(daily.reset_index().assign(date=lambda f: f["date"].dt.date), "daily", key="daily")
