"""Board: the stand-up page. What is stuck, which column is over its limit, what to finish next."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import streamlit as st

from dashboard import charts, data
from dashboard.board import (
    PACE_LABELS,
    Card,
    Column,
    attention_list,
    board_columns,
    day_words,
    likely_done_words,
    short_id,
)
from dashboard.safe_text import safe_url
from dashboard.tables import items_table
from dashboard.view import current_view
from dashboard.widgets import chart, explain_link, fmt, md, no_data, table

MAX_CARDS = 12
MAX_WAITING_CARDS = 5
#: Board columns per row: more would squeeze each to a few characters.
BOARD_ROW = 10
MAX_ATTENTION = 8
REFRESH_CHOICES = {"off": None, "every minute": "1m", "every 5 minutes": "5m",
                   "every 15 minutes": "15m"}  # fmt: skip


def card(item: Card, committed: bool) -> None:
    colour, words = PACE_LABELS.get(item.pace_band, PACE_LABELS[""])
    url = safe_url(item.url)
    name = md(short_id(item.item_id))
    ident = f"**[{name}]({url})**" if url else f"**{name}**"
    badges = f" :{colour}-badge[{words}]" if committed else ""
    if item.blocked:
        spell = f" for {day_words(item.blocked_for_days)}" if item.blocked_for_days else ""
        badges += f" :red-badge[⛔ blocked{spell}]"
    if committed:
        age = f"{item.age_days} days old" if item.age_days is not None else "age unknown"
        age += f" · {likely_done_words(item)}"
    else:
        age = f"created {item.age_days} days ago" if item.age_days is not None else ""
    with st.container(border=True):
        st.markdown(f"{ident}{badges}  \n{md(item.title)}")
        st.caption(f"{md(item.type)} · {age} · {explain_link(item.item_id)}")


def column_heading(col: Column) -> None:
    st.markdown(f"#### {md(col.heading)}")
    if col.limit is None:
        st.caption("no WIP limit" if col.committed else "not started yet")
    elif col.over:
        st.markdown(f":red-badge[**🔺 {col.status_words}**]")
    elif col.count == col.limit:
        st.markdown(f":orange[**{col.status_words}**]")
    else:
        st.markdown(f":green[{col.status_words}]")


def render_board(replay: dt.date | None) -> None:
    view = current_view()
    # A fragment rerun (auto-refresh) must see a finished sync: load again (cheap when cached).
    loaded, problem = data.load(view.loaded.setup)
    if problem is not None:
        st.error(f"Could not read newer data, showing the last good data: {md(problem)}")
    if loaded is None:
        return
    workflow = loaded.workflow
    if loaded.empty:
        no_data(
            "No work items yet.",
            "Open the Data page and click Sync now, or run `flowdeck sync` (or `flowdeck import "
            "FILE --source NAME`) in a terminal.",
        )
        return
    moment = data.replay_moment(loaded, replay)
    report = data.report(loaded, view.filters, moment)
    day = moment.tz_convert(workflow.timezone).date()
    label = "Replaying" if moment != loaded.as_of else "As of"
    st.caption(f"{label} the end of {day:%A %d %B %Y} ({workflow.timezone}).")
    if report.items.empty:
        no_data(
            "No items match the filters." if view.filters.narrows_items else "No items yet.",
            "Clear the item type, label or source filters in the sidebar, or replay a later day.",
        )
        return

    columns = board_columns(report, workflow, loaded.wip_changes, max_cards=MAX_CARDS)
    columns = [c if c.committed else replace(c, cards=c.cards[:MAX_WAITING_CARDS]) for c in columns]
    attention = attention_list(report, columns, workflow.timezone)
    wip = report.items[report.items["in_progress"]]
    sle = report.percentiles.get(85)
    tiles = st.columns(5)
    tiles[0].metric("Items in progress", f"{len(wip)}", help="Between start and done now.")
    limit = workflow.wip_limit
    tiles[1].metric("WIP limit", f"{limit}" if limit else "none", help="The workflow's total.")
    tiles[2].metric(
        "SLE (p85 cycle time)", fmt(sle, 1, " days"), help="85% of recent items took this long"
    )
    tiles[3].metric(
        "Older than the SLE", f"{int((wip['age_days'] > sle).sum()) if sle == sle else 0}"
    )
    tiles[4].metric("Blocked now", f"{int(wip['blocked_now'].sum())}")

    if report.percentiles.isna().all():
        st.caption(
            "No item was delivered in the date range, so there is no SLE and no pace yet: "
            "widen the date range in the sidebar."
        )
    if not columns:
        no_data("The workflow has no stage to show.", "Check `start` and `done` in the file.")
        return
    if len(columns) > BOARD_ROW:
        st.caption(
            f"The board has {len(columns)} columns: shown in rows of {BOARD_ROW}, in flow order "
            "(left to right, then the next row)."
        )
    for first in range(0, len(columns), BOARD_ROW):
        # Rows of at most BOARD_ROW columns: a workflow of 199 stages would squeeze each column
        # to one character in a single row.
        chunk = columns[first : first + BOARD_ROW]
        board = st.columns(BOARD_ROW if len(columns) > BOARD_ROW else len(chunk), gap="small")
        for holder, col in zip(board, chunk, strict=False):
            with holder:
                column_heading(col)
                for item in col.cards:
                    card(item, col.committed)
                hidden = col.count - len(col.cards)
                if hidden > 0:
                    st.caption(f"and {hidden} more (the oldest are shown)")
                if col.count == 0:
                    st.caption("empty")

    left, right = st.columns([3, 2])
    with left:
        stages = workflow.in_progress_names
        chart(charts.aging_wip(report.items, stages, report.percentiles), key="aging_wip")
    with right:
        st.subheader("Attention")
        if attention.empty:
            st.success("Nothing needs attention: no stage over its limit, nothing beyond the "
                       "SLE, nothing blocked.")  # fmt: skip
        for _, row in attention.head(MAX_ATTENTION).iterrows():
            if row["item_id"]:
                st.markdown(
                    f"- **{md(row['reason'])}**: {md(short_id(row['item_id']))} {md(row['title'])} "
                    f"{explain_link(row['item_id'])} "
                    f"({md(row['stage'])}; {md(row['detail'])})"
                )
            else:
                st.markdown(f"- **{md(row['stage'])}**: {md(row['detail'])}")
        if len(attention) > MAX_ATTENTION:
            st.caption(f"and {len(attention) - MAX_ATTENTION} more in the table below")
        if not attention.empty:
            table(attention, "attention", key="attention", height=200)

    with st.expander(f"Items in progress ({len(wip)})"):
        table(items_table(wip), "items_in_progress", key="wip_items")


view = current_view()
st.title("Board")
loaded_now = view.loaded
controls = st.columns([2, 2, 3])
with controls[0]:
    replay_day = st.date_input(
        "As of (replay a past day)",
        value=None,
        min_value=loaded_now.first_day,
        max_value=loaded_now.as_of_day,
        key="board_as_of",
        help="Show the board as it was at the end of that day; empty for the latest.",
    )
with controls[1]:
    refresh = st.selectbox(
        "Auto-refresh", list(REFRESH_CHOICES), key="board_refresh",
        help="For a wall screen: redraw the board with the latest synced data.",
    )  # fmt: skip

every = REFRESH_CHOICES[refresh]
if every is None:
    render_board(replay_day)
else:
    st.fragment(render_board, run_every=every)(replay_day)
