"""Board: the stand-up page. What needs attention first, then the board itself, on one screen."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
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
    total_limit,
)
from dashboard.safe_text import safe_url
from dashboard.tables import items_table
from dashboard.view import choose_replay, current_view
from dashboard.widgets import chart, day_banner, explain_link, fmt, md, no_data, table

#: Cards shown per column: with the attention block above, 8 columns of this many cards fit one
#: 1440x900 screen; the rest open from a "+N more" button.
MAX_CARDS = 4
MAX_ATTENTION = 6
#: Board columns per row: more would squeeze each to a few characters.
BOARD_ROW = 10
#: The window of delivered items behind the board's SLE and pace, fixed (as in the export and
#: the digest): the sidebar's date range, chosen for the charts, must not move the SLE.
SLE_WINDOW_DAYS = 90
REFRESH_CHOICES = {"off": None, "every minute": "1m", "every 5 minutes": "5m",
                   "every 15 minutes": "15m"}  # fmt: skip

# Headings of a fixed height (a long stage name may take a second line; the count, joined by
# no-break spaces, never breaks) and cards of fixed lines, so that cards line up across columns;
# scoped to the board's own containers (their keys become CSS classes).
BOARD_CSS = """<style>
.st-key-fd-board h4 {font-size: 0.95rem; line-height: 1.3; padding: 0; margin: 0;
  overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;}
.st-key-fd-board [data-testid="stVerticalBlock"] {gap: 0.35rem;}
[class*="st-key-fd-colhead-"] {height: 3.6rem; min-height: 3.6rem; flex-shrink: 0;
  overflow: hidden; gap: 0.1rem !important;}
[class*="st-key-fd-colhead-"] p {margin: 0; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; font-size: 0.85rem;}
.st-key-fd-board [data-testid="stPopover"] button {min-height: 1.9rem; padding: 0 0.5rem;}
[class*="st-key-fd-colhead-"] [data-testid="stMarkdownContainer"],
[class*="st-key-fd-card-"] [data-testid="stMarkdownContainer"] {margin: 0;}
[data-testid="stMainBlockContainer"] {padding-top: 2.5rem;}
.st-key-fd-tiles [data-testid="stMetricValue"] {font-size: 1.6rem;}
.st-key-fd-tiles [data-testid="stMetric"] {padding: 0;}
[class*="st-key-fd-card-"] {padding: 0.25rem 0.5rem 0.3rem 0.5rem !important; gap: 0 !important;
  flex-shrink: 0;}
[class*="st-key-fd-card-"] p {margin: 0; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; font-size: 0.875rem; line-height: 1.45;}
.st-key-fd-attention ul {columns: 2; column-gap: 2rem; margin: 0;}
.st-key-fd-attention li {break-inside: avoid; margin: 0; font-size: 0.9rem;}
.st-key-fd-attention p {margin: 0;}
</style>"""


def card(item: Card, committed: bool, key: str) -> None:
    colour, words = PACE_LABELS.get(item.pace_band, PACE_LABELS[""])
    url = safe_url(item.url)
    name = md(short_id(item.item_id))
    ident = f"**[{name}]({url})**" if url else f"**{name}**"
    if committed:
        age = f"{day_words(item.age_days)} old" if item.age_days is not None else "age unknown"
    else:
        age = f"{day_words(item.age_days)} here" if item.age_days is not None else ""
    badges = []
    if item.blocked:
        # First, so that a narrow card cuts the pace badge rather than this one.
        spell = f" for {day_words(item.blocked_for_days)}" if item.blocked_for_days else ""
        badges.append(f":red-badge[:material/block: blocked{spell}]")
    if committed:
        badges.append(f":{colour}-badge[{words}]")
    elif item.oldest:
        badges.append(":blue-badge[:material/arrow_forward: oldest: pull next]")
    foot = likely_done_words(item) if committed else md(item.type)
    with st.container(border=True, key=key):
        st.markdown(
            f"{ident} {explain_link(item.item_id, icon_only=True)} · {age}  \n"
            f"{md(item.title)}  \n{' '.join(badges) or '&nbsp;'}  \n:gray[{foot}]"
        )


def column_heading(col: Column, key: str) -> None:
    # A fixed height (see BOARD_CSS), so that the first cards of all columns line up.
    with st.container(key=key):
        tally = col.tally.replace("/", "\\/")  # digits and a slash: nothing else to escape
        st.markdown(f"#### {md(col.stage)} {tally}")
        if col.limit is None:
            st.markdown(f":gray[{'no WIP limit' if col.committed else 'not started yet'}]")
        elif col.over:
            st.markdown(f":red-badge[:material/arrow_upward: **{col.status_words}**]")
        elif col.count == col.limit:
            st.markdown(f":orange[**{col.status_words}**]")
        else:
            st.markdown(f":green[{col.status_words}]")


def more_cards(col: Column, hidden: pd.DataFrame) -> None:
    """The cards beyond MAX_CARDS, behind a "+N more" button."""
    with st.popover(f"+{col.count - len(col.cards)} more", width="stretch"):
        for item_id, row in hidden.iterrows():
            st.markdown(
                f"**{md(short_id(item_id))}** {md(row['title'])} · "
                f"{day_words(row['_age'])} {'old' if col.committed else 'here'} "
                f"{explain_link(item_id)}"
            )


def attention_block(attention: pd.DataFrame, sle: float, window: str) -> None:
    """The stand-up's first minute: over-limit columns, items beyond the SLE, blocked items."""
    with st.container(key="fd-attention"):
        sle_words = (
            f"the SLE is **{sle:.1f} days** (85% of the items delivered {window} took at "
            "most that long)"
            if sle == sle
            else f"no SLE: nothing was delivered {window}"
        )
        st.markdown(f"**:material/campaign: Attention** · {sle_words}")
        if attention.empty:
            st.success(
                "Nothing needs attention: no column over its limit, nothing beyond the SLE, "
                "nothing blocked.",
                icon=":material/check_circle:",
            )
            return
        lines = []
        for _, row in attention.head(MAX_ATTENTION).iterrows():
            if not row["item_id"]:
                lines.append(
                    f"- :red[:material/arrow_upward: **{md(row['stage'])}**] {md(row['detail'])}"
                )
                continue
            what = (
                f"{day_words(row['age_days'])} old, beyond the SLE"
                if row["reason"] == "older than the SLE"
                else md(row["detail"])
            )
            icon = ":material/block:" if row["reason"] == "blocked" else ":material/schedule:"
            lines.append(
                f"- :red[{icon}] **{md(short_id(row['item_id']))}** {md(row['title'])} "
                f"({md(row['stage'])}, {what}) {explain_link(row['item_id'])}"
            )
        st.markdown("\n".join(lines))
        if len(attention) > MAX_ATTENTION:
            st.caption(f"and {len(attention) - MAX_ATTENTION} more in *Attention, all* below")


def attention_table(attention: pd.DataFrame) -> pd.DataFrame:
    """The attention list as a table: the id as the team knows it first, no empty title cell
    for a column over its limit (its stage says which)."""
    return attention.assign(item=attention["item_id"].map(short_id))[
        ["reason", "item", "title", "stage", "age_days", "detail", "item_id"]
    ]


def render_board() -> None:
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
    view = replace(view, loaded=loaded)
    day_banner(view, "board")
    moment = view.moment
    # The board's SLE and pace: the 90 days before the day shown, whatever the sidebar's range.
    report = data.report(loaded, replace(view.filters, first=None, last=None), moment)
    day = moment.tz_convert(workflow.timezone).date()
    window_first = day - dt.timedelta(days=SLE_WINDOW_DAYS - 1)
    window = f"{window_first:%d %b} to {day:%d %b %Y}"
    if report.items.empty:
        no_data(
            "No items match the filters." if view.filters.narrows_items else "No items yet.",
            "Clear the item type, label or source filters in the sidebar, or replay a later day.",
        )
        return

    full = board_columns(report, workflow, loaded.wip_changes)
    columns = board_columns(report, workflow, loaded.wip_changes, max_cards=MAX_CARDS)
    attention = attention_list(report, columns, workflow.timezone)
    wip = report.items[report.items["in_progress"]]
    sle = report.percentiles.get(85)
    limit, limit_kind = total_limit(workflow, columns, loaded.wip_changes, moment)
    tiles = st.container(key="fd-tiles").columns(5)
    tiles[0].metric("Items in progress", f"{len(wip)}", help="Between start and done.")
    tiles[1].metric(
        {"total limit": "Total WIP limit", "sum of column limits": "Sum of column limits"}.get(
            limit_kind, "Total WIP limit"
        ),
        f"{limit}" if limit is not None else "none",
        help="The workflow's total limit; when it has none, the sum of the limits of the "
        "columns from the commitment point on (when every one has a limit).",
    )
    tiles[2].metric(
        "SLE (p85 cycle time)",
        fmt(sle, 1, " days"),
        help=f"85% of the items delivered {window} (the 90 days up to the day shown) took at "
        "most this long.",
    )
    tiles[3].metric(
        "Older than the SLE", f"{int((wip['age_days'] > sle).sum()) if sle == sle else 0}"
    )
    tiles[4].metric("Blocked now", f"{int(wip['blocked_now'].sum())}")
    attention_block(attention, sle if sle is not None else float("nan"), window)

    if not columns:
        no_data("The workflow has no stage to show.", "Check `start` and `done` in the file.")
        return
    if len(columns) > BOARD_ROW:
        st.caption(
            f"The board has {len(columns)} columns: shown in rows of {BOARD_ROW}, in flow order "
            "(left to right, then the next row)."
        )
    facts = report.items
    with st.container(key="fd-board"):
        for first in range(0, len(columns), BOARD_ROW):
            # Rows of at most BOARD_ROW columns: a workflow of 199 stages would squeeze each
            # column to one character in a single row.
            chunk = columns[first : first + BOARD_ROW]
            width = BOARD_ROW if len(columns) > BOARD_ROW else len(chunk)
            board = st.columns(width, gap="small")
            for number, (holder, col) in enumerate(zip(board, chunk, strict=False)):
                with holder:
                    column_heading(col, key=f"fd-colhead-{first + number}")
                    for rank, item in enumerate(col.cards):
                        card(item, col.committed, key=f"fd-card-{first + number}-{rank}")
                    if col.count > len(col.cards):
                        every = full[first + number].cards[len(col.cards) :]
                        ids = [c.item_id for c in every]
                        ages = [c.age_days for c in every]
                        hidden = facts.loc[ids, ["title"]].assign(_age=ages)
                        more_cards(col, hidden)
                    if col.count == 0:
                        st.caption("empty")

    stages = workflow.in_progress_names
    chart(charts.aging_wip(report.items, stages, report.percentiles), key="aging_wip")
    with st.expander(f"Attention, all ({len(attention)})"):
        table(
            attention_table(attention), "attention", key="attention",
            column_order=["reason", "item", "title", "stage", "age_days", "detail"],
        )  # fmt: skip
    with st.expander(f"Items in progress ({len(wip)})"):
        table(items_table(wip), "items_in_progress", key="wip_items")


def _remember_replay() -> None:
    choose_replay(st.session_state.get("board_as_of"))


view = current_view()
loaded_now = view.loaded
st.html(BOARD_CSS)
header = st.columns([3, 2, 2], vertical_alignment="bottom")
header[0].title("Board")
if "board_as_of" not in st.session_state:
    # The widget's own state is dropped while another page is shown: start from the choice
    # kept for every page (a stale board's automatic last day is not a choice: left empty).
    st.session_state["board_as_of"] = view.replay if view.chosen else None
with header[1]:
    st.date_input(
        "As of (replay a past day)",
        min_value=loaded_now.first_day,
        max_value=loaded_now.as_of_day,
        key="board_as_of",
        on_change=_remember_replay,
        help="Show the board as it was at the end of that day (Flow and Cycle time follow); "
        "empty for the latest.",
    )
with header[2]:
    refresh = st.selectbox(
        "Auto-refresh", list(REFRESH_CHOICES), key="board_refresh",
        help="For a wall screen: redraw the board with the latest synced data.",
    )  # fmt: skip

every = REFRESH_CHOICES[refresh]
if every is None:
    render_board()
else:
    st.fragment(render_board, run_every=every)()
