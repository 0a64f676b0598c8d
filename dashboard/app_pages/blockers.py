"""Blockers: the share of cycle time spent blocked, on what, where, and what is blocked now."""

from __future__ import annotations

import streamlit as st

from dashboard import breakdown_charts, charts, data
from dashboard.filters import filter_flow_data
from dashboard.view import current_view
from dashboard.widgets import chart, fmt, md, no_data, table
from metrics.blockers import (
    NO_REASON,
    blocked_days_by,
    blocked_days_per_week,
    blocked_item_days,
    blocked_now,
    blocked_share,
    spell_reasons,
)

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
tz = workflow.timezone
st.title("Blockers")

if loaded.empty:
    no_data(
        "No work items yet, so nothing to say about blockers.",
        "Open the Data page and click Sync now, or run `flowdeck sync` in a terminal.",
    )
    st.stop()

report = data.report(loaded, view.filters)
events = filter_flow_data(loaded.data, view.filters).events
first, last = report.first_day, report.last_day
if not events["event"].eq("blocked").any():
    no_data(
        "No item was ever blocked in this data.",
        "Blocked spells come from `blocked`/`unblocked` rows of an event log, a GitHub source's "
        "`blocked_labels`, or a Jira source's flag (docs/metrics.md#blocked-days).",
    )
    st.stop()

done = charts.delivered_items(report.items, tz)
delivered = done[(done["done_day"] >= first) & (done["done_day"] <= last)]
shares = blocked_share(delivered)
days = blocked_item_days(events, report.intervals, workflow, report.as_of)
days = days[(days["day"] >= first) & (days["day"] <= last)]
now = blocked_now(spell_reasons(events, report.as_of), report.items, report.as_of, tz)

st.caption(
    f"Items delivered from {first:%d %b %Y} to {last:%d %b %Y} ({len(delivered)}). A blocked "
    "day is a day on which an item was blocked at some moment while in progress."
)
tiles = st.columns(4)
tiles[0].metric(
    "Blocked days per delivered item",
    fmt(shares["blocked_days"].mean(), 1),
    help="The average over the items delivered in the date range.",
)
total_days = shares["cycle_time_days"].sum()
tiles[1].metric(
    "Share of cycle time blocked",
    fmt(shares["blocked_days"].sum() / total_days * 100 if total_days else None, 0, "%"),
    help="Blocked days of the delivered items over their cycle-time days.",
)
tiles[2].metric(
    "Delivered items ever blocked", f"{int((shares['blocked_days'] > 0).sum())}"
)  # fmt: skip
tiles[3].metric("Blocked now", f"{len(now)}")

st.subheader("Blocked now")
if now.empty:
    st.caption("Nothing in progress is blocked.")
else:
    longest = now.iloc[0]
    st.markdown(
        f"The longest: **{md(longest['item_id'])}** ({md(longest['title'])}), blocked for "
        f"{int(longest['blocked_for_days'])} day{'s' if longest['blocked_for_days'] != 1 else ''}"
        f" in {md(longest['stage'])}: {md(longest['reason'])}."
    )
    table(now, "blocked_now", key="blocked_now")

by_reason = blocked_days_by(days, "reason")
by_stage = blocked_days_by(days, "stage")
left, right = st.columns(2)
with left:
    if by_reason.empty:
        st.caption("No blocked days in the date range.")
    else:
        chart(breakdown_charts.blocked_days_bars(by_reason, "reason", "Blocked days by reason"),
              key="by_reason")  # fmt: skip
        if set(by_reason["reason"]) == {NO_REASON}:
            st.caption(
                "The source gives no reasons: label GitHub items `blocked: REASON`, or put the "
                "reason in the `status` column of an event log's `blocked` rows."
            )
        else:
            top = by_reason.iloc[0]
            st.caption(
                f"'{md(top['reason'])}' cost the most: {int(top['blocked_days'])} blocked days "
                f"over {int(top['items'])} items. Removing a recurring cause beats expediting."
            )
with right:
    if not by_stage.empty:
        chart(breakdown_charts.blocked_days_bars(by_stage, "stage", "Blocked days by stage"),
              key="by_stage")  # fmt: skip
        st.caption("Where items wait while blocked: the stage they were in on each blocked day.")

chart(breakdown_charts.blocked_days_weekly(blocked_days_per_week(days, first, last)), key="weekly")
st.caption(
    "Blocked item-days each week (an item blocked all week counts 7). A rising trend means "
    "more of the team's work waits on others."
)
