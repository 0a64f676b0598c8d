"""WIP limits: the limits in force, how well the team keeps them, what the data suggests, the
history of every change with its reason, and (for those allowed) the form to change one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from connectors.limits import limit_keys, shown
from dashboard import data
from dashboard.editing import edit_rights, password_ok
from dashboard.limits_view import limits_overview
from dashboard.view import current_view
from dashboard.widgets import md, no_data, table
from metrics.errors import FlowdeckError
from metrics.limits import TOTAL

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
st.title("WIP limits")
st.caption(
    "The limits live in the workflow file; every change is recorded with who made it and why, "
    "so that each one is an experiment the team can look back on."
)

if loaded.empty:
    no_data(
        "No work items yet, so no adherence or suggestion to show.",
        "Open the Data page and click Sync now, or run `flowdeck sync` in a terminal.",
    )
    st.stop()

report = data.report(loaded, view.filters)
changes = loaded.wip_changes
p50 = report.percentiles.get(50)
default_target = float(p50) if p50 is not None and pd.notna(p50) else 10.0
target = st.number_input(
    "Target cycle time (days) for the suggestion",
    min_value=0.5, max_value=365.0, value=round(default_target, 1), step=0.5,
    key="limits_target",
    help="By default the p50 cycle time of the items delivered in the date range.",
)  # fmt: skip
overview = limits_overview(report, workflow, changes, float(target))
st.caption(
    f"{report.first_day:%d %b %Y} to {report.last_day:%d %b %Y} ({len(report.daily)} days). "
    "WIP now is the last day's count; the share of days over counts only days with a limit."
)
shown_table = overview.assign(
    limit=overview["limit"].map(lambda k: "total (all work in progress)" if k == TOTAL else k),
    share_over=(overview["share_over"] * 100).round(0),
    average=overview["average"].round(1),
).rename(
    columns={
        "limit": "stage",
        "in_force": "limit in force",
        "wip_now": "WIP now",
        "average": "average WIP",
        "share_over": "% of days over",
        "suggested": "suggested limit",
        "reasoning": "why this suggestion",
    }
)
table(shown_table, "wip_limits_overview", key="limits_overview")
st.info(
    "**A suggestion is the start of an experiment, not an answer.** Change one limit at a "
    "time, write down what you expect to happen, and look again after a few weeks (the Kaizen "
    "review compares before and after)."
)

st.subheader("Change a limit")
if loaded.demo:
    st.caption(
        "The demo data is read-only. With your own workflow file, a change here rewrites the "
        "limit in flowdeck.toml and records it in the history."
    )
else:
    rights = edit_rights()
    if not rights.can_edit:
        st.warning(md(rights.reason))
    else:
        config = loaded.config
        keys = limit_keys(config)
        with st.form("limit_change", clear_on_submit=False):
            cols = st.columns([2, 1, 2])
            stage = cols[0].selectbox(
                "Stage", keys, key="limit_stage",
                format_func=lambda k: "total (all work in progress)" if k == TOTAL else k,
            )  # fmt: skip
            new = cols[1].text_input("New limit (a number, or none)", key="limit_new")
            who = cols[2].text_input("Who", key="limit_who", max_chars=100)
            why = st.text_area(
                "Why: the experiment and what you expect (e.g. 'we expect review waits to "
                "halve')", key="limit_why", max_chars=1000,
            )  # fmt: skip
            given = (
                st.text_input("Editor password", type="password", key="limit_password")
                if rights.needs_password
                else ""
            )
            submitted = st.form_submit_button("Change the limit")
        if submitted:
            if rights.needs_password and not password_ok(given):
                st.error("Wrong editor password; nothing changed.")
            else:
                try:
                    change = data.set_wip_limit(loaded.setup, stage, new, who, why)
                except FlowdeckError as exc:
                    st.error(md(exc))
                else:
                    st.session_state["limit_done"] = change.describe()
                    st.rerun()
        done = st.session_state.pop("limit_done", None)
        if done:
            st.success(md(done))

st.subheader("History")
if changes is not None and len(changes):
    history = changes.assign(
        changed_at=changes["changed_at"].dt.tz_convert(workflow.timezone).dt.tz_localize(None),
        old_limit=changes["old_limit"].map(lambda v: shown(None if pd.isna(v) else int(v))),
        new_limit=changes["new_limit"].map(lambda v: shown(None if pd.isna(v) else int(v))),
    )[["changed_at", "stage", "old_limit", "new_limit", "who", "why"]].iloc[::-1]
    latest = history.iloc[0]
    st.markdown(
        f"Latest change, {latest['changed_at']:%d %b %Y %H:%M}: **{md(latest['stage'])}** "
        f"{md(latest['old_limit'])} → {md(latest['new_limit'])} by {md(latest['who'])}: "
        f"“{md(latest['why'])}”"
    )
    table(history, "wip_limit_changes", key="limits_history")
    st.caption(f"Newest first; times in {md(workflow.timezone)}.")
else:
    st.caption("No change recorded yet: the limits come from the workflow file.")
