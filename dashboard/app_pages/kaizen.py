"""Kaizen: did a change (a WIP limit, a policy) make flow better? Before and after, a verdict in
plain words, and the pack to take into the review (see docs/kaizen.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard import charts, data
from dashboard.filters import filter_flow_data
from dashboard.kaizen_pack import build_pack, change_words, comparison_rows
from dashboard.tables import items_table
from dashboard.view import current_view
from dashboard.widgets import chart, md, no_data, table
from metrics.days import local_days
from metrics.kaizen import (
    CHANGED,
    DEFAULT_KAIZEN_DAYS,
    TOO_FEW,
    kaizen_review,
    side_weeks,
    weekly_median,
)

ANY_DATE = "Any date (no recorded change)"
DIRECTION_STYLE = {"better": "color: #2e7d32; font-weight: 600",
                   "worse": "color: #c62828; font-weight: 600"}  # fmt: skip

view = current_view()
loaded = view.loaded
workflow = loaded.workflow
tz = workflow.timezone
st.title("Kaizen review")

if loaded.empty:
    no_data(
        "No work items yet, so nothing to compare.",
        "Open the Data page and click Sync now, or run `flowdeck sync` in a terminal.",
    )
    st.stop()

changes = loaded.wip_changes
history = (
    changes.sort_values("changed_at", ascending=False, kind="stable").reset_index(drop=True)
    if changes is not None and len(changes) and "changed_at" in changes
    else pd.DataFrame()
)
labels = []
if len(history):
    days = local_days(pd.to_datetime(history["changed_at"], utc=True), tz)
    for (_, row), day in zip(history.iterrows(), days, strict=True):
        labels.append(f"{day:%Y-%m-%d}: {change_words(row)}")

controls = st.columns([3, 2, 1])
choice = controls[0].selectbox(
    "Change to review", [*labels, ANY_DATE], key="kaizen_change",
    help="A WIP-limit change from the history (its why is the hypothesis), or any date.",
)  # fmt: skip
hypothesis = ""
if choice != ANY_DATE:
    row = history.iloc[labels.index(choice)]
    change_day = local_days(pd.to_datetime(history["changed_at"], utc=True), tz).iloc[
        labels.index(choice)
    ]
    change_day = change_day.date()
    hypothesis = str(row.get("why") or "").strip()
    who = str(row.get("who") or "").strip()
    controls[1].date_input("Change day", value=change_day, disabled=True, key="kaizen_day_shown")
else:
    # An old export stops long before today: its last weeks are the "after" side by default.
    latest = min(loaded.last_day or loaded.as_of_day, loaded.as_of_day)
    default = max(latest - dt.timedelta(days=DEFAULT_KAIZEN_DAYS - 1), loaded.first_day)
    change_day = controls[1].date_input(
        "Change day", value=default, min_value=loaded.first_day, max_value=loaded.as_of_day,
        key="kaizen_day", help="The first day of the 'after' side.",
    )  # fmt: skip
    who = ""
window = int(
    controls[2].number_input(
        "Days each side",
        min_value=1,
        max_value=365,
        value=DEFAULT_KAIZEN_DAYS,
        step=7,
        key="kaizen_days",
    )  # fmt: skip
)
if choice != ANY_DATE:
    by = f" (recorded by {md(who)})" if who else ""
    if hypothesis:
        st.info(f"**Hypothesis**{by}: {md(hypothesis)}")
    else:
        st.caption(f"No reason was recorded with this change{by}.")

# The windows come from the change day: the sidebar's date range does not apply, its item
# filters do.
filters = replace(view.filters, first=None, last=None)
report = data.report(loaded, filters)
review = kaizen_review(report, workflow, pd.Timestamp(change_day), window)
st.caption(
    f"Before: {review.before.label()}. After: {review.after.label()}, as of "
    f"{loaded.as_of_day:%d %b %Y} ({tz})."
    + (" Only the items the sidebar's filters keep." if filters.narrows_items else "")
)

verdict = review.verdict
box = {CHANGED: st.success, TOO_FEW: st.info}.get(verdict.label, st.warning)
box(f"**Verdict:** {md(verdict.text)}")

rows = comparison_rows(review)
styled = rows.style.map(lambda v: DIRECTION_STYLE.get(v, ""), subset=["direction"])
st.dataframe(styled, hide_index=True, key="kaizen_table")
st.caption(
    "Over the items delivered on each side; WIP over each side's days. Better or worse is for "
    "flow: shorter cycle times, more delivered, less WIP, fewer blocked days."
)

chart(charts.kaizen_scatter(review), key="kaizen_scatter", explain=True)
st.caption(
    "Each dot is an item delivered on one side of the change; the solid lines are each side's "
    "median, the dashed line the SLE before the change (its p85). Click a dot to explain it."
)
before_weeks = side_weeks(review.before_items, review.before, before=True)
after_weeks = side_weeks(review.after_items, review.after, before=False)
medians = (weekly_median(before_weeks), weekly_median(after_weeks))
chart(charts.kaizen_weekly(before_weeks, after_weeks, medians, review), key="kaizen_weekly")
st.caption("Items delivered per 7-day block counted from the change day, each side's median week.")

over = review.over_old_sle
st.subheader(f"After the change, beyond the old SLE ({len(over)})")
if over.empty:
    st.caption("No item delivered after the change took longer than the old SLE.")
else:
    shown = items_table(over)
    links = [f"explain?item={quote(str(i), safe='')}" for i in over.index]
    shown.insert(1, "explain", links)
    table(
        shown, "beyond_old_sle", key="beyond_old_sle",
        column_config={"explain": st.column_config.LinkColumn("explain", display_text="explain")},
    )  # fmt: skip


def pack_bytes() -> bytes:
    data_used = filter_flow_data(loaded.data, filters)
    pack = build_pack(
        loaded.config, data_used, loaded.as_of, pd.Timestamp(change_day), window, changes,
        report=report,
    )  # fmt: skip
    return pack.zip_bytes()


st.download_button(
    "Download the review pack (zip)", data=pack_bytes, icon=":material/download:",
    file_name=f"kaizen-{change_day:%Y-%m-%d}.zip", mime="application/zip",
    key="kaizen_pack", on_click="ignore",
    help="Every export file, kaizen.csv, wip_limits.csv, the workflow file and report.html "
    "(self-contained, prints on A4/Letter).",
)  # fmt: skip
