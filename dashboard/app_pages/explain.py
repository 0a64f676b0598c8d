"""Explain: an item's timeline and why it has the started_at, done_at and cycle time it has.
Reached from the item pickers here, or `?item=ID` (the board's cards and the Kaizen page link
here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.filters import Filters
from dashboard.view import current_view
from dashboard.widgets import fmt, md, no_data, table
from metrics.errors import InputError
from metrics.explain import explain_item, find_item

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
tz = workflow.timezone
st.title("Explain a number")

if loaded.empty:
    no_data(
        "No work items yet, so nothing to explain.",
        "Open the Data page and click Sync now, or run `flowdeck sync` in a terminal.",
    )
    st.stop()

# Every item, whatever the sidebar filters: a link to an item must always find it.
report = data.report(loaded, Filters())
ids = [str(i) for i in report.items.index]
wanted = st.query_params.get("item")
if wanted is not None and st.session_state.get("_explain_from_link") != wanted:
    # A link was followed: it chooses the item once; the picker then stays the user's.
    st.session_state["_explain_from_link"] = wanted
    try:
        st.session_state["explain_item"] = find_item(report.items.index, wanted)
    except InputError as exc:
        st.warning(md(exc))


def follow_picker() -> None:
    st.query_params["item"] = st.session_state["explain_item"]
    st.session_state["_explain_from_link"] = st.session_state["explain_item"]


item_id = st.selectbox(
    "Item", ids, key="explain_item", on_change=follow_picker, index=None,
    placeholder="Choose an item (type to search its id)",
)  # fmt: skip
if item_id is None:
    st.caption(
        "Pick an item to see every status change it went through, which event started its "
        "cycle-time clock and which one delivered it, and why (docs/kaizen.md)."
    )
    st.stop()

x = explain_item(loaded.data.events, report, workflow, item_id)
facts = x.facts
st.subheader(f"{md(x.item_id)}: {md(facts['title'])}")
st.caption(
    f"{md(facts['type'] or 'no type')} · now in {md(facts['stage'] or 'no mapped status')} · as "
    f"of the end of {loaded.as_of_day:%d %b %Y} ({tz})"
)
tiles = st.columns(4)
tiles[0].metric("Cycle time", fmt(facts["cycle_time_days"], 0, " days"))
tiles[1].metric("Age", fmt(facts["age_days"], 0, " days"))
tiles[2].metric("Blocked days", fmt(facts["blocked_days"], 0))
efficiency = facts["flow_efficiency"]
tiles[3].metric("Flow efficiency", fmt(None if pd.isna(efficiency) else efficiency * 100, 0, "%"))

st.markdown("**Why these numbers**")
st.markdown("\n".join(f"- {md(line)}" for line in x.lines))

timeline = x.timeline.assign(
    changed_at=x.timeline["changed_at"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M")
).rename(columns={"changed_at": f"when ({tz})"})
st.markdown("**Timeline**")
table(timeline, f"timeline_{x.item_id}", key="explain_timeline")
if len(x.blocked):
    st.markdown("**Blocked spells**")
    spells = pd.DataFrame(
        {
            "from": x.blocked["start"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M"),
            "to": x.blocked["end"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M"),
            "still blocked": x.blocked["open"].map({True: "yes", False: "no"}),
        }
    )
    st.dataframe(spells, hide_index=True, key="explain_blocked")
if len(x.stage_hours):
    st.markdown("**Hours in each in-progress stage between started_at and done_at**")
    st.dataframe(x.stage_hours.round({"hours": 1}), hide_index=True, key="explain_hours")
