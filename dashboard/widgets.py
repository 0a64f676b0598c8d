"""Small Streamlit pieces the pages share: a table with its CSV download, the "no data" note,
a chart, a number. Untrusted text never reaches markdown unescaped (see `safe_text`)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.safe_text import escape_markdown
from dashboard.tables import csv_bytes, on_screen
from dashboard.view import current_timezone, stale_days

#: Plotly's mode bar links to plotly.com and its logo loads nothing, but keep the bar lean.
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def explain_links(item_ids: list[str], limit: int = 5) -> None:
    """Links to the Explain page for the items a user picked (a table row, a chart point)."""
    for item in [i for i in item_ids if i][:limit]:
        st.page_link(
            "app_pages/explain.py", label=f"Explain {md(item)}", icon=":material/search:",
            query_params={"item": item},
        )  # fmt: skip


def table(frame: pd.DataFrame, name: str, key: str, height: int | str = "auto", **kwargs) -> None:
    """A table and a button to download it as `name`.csv (formula-escaped). A table of items
    (an `item_id` column) lets the user pick a row to explain that item."""
    shown = on_screen(frame, current_timezone())
    if "item_id" in frame.columns and "on_select" not in kwargs:
        state = st.dataframe(
            shown, hide_index=True, height=height, key=f"{key}_table", on_select="rerun",
            selection_mode="single-row", **kwargs,
        )  # fmt: skip
        ids = frame["item_id"].astype(str).to_numpy()
        explain_links([ids[r] for r in state.selection.rows if 0 <= r < len(ids)])
    else:
        st.dataframe(shown, hide_index=True, height=height, key=f"{key}_table", **kwargs)
    st.download_button(
        f"Download {name}.csv",
        icon=":material/download:",
        data=csv_bytes(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_download",
        on_click="ignore",
    )


def chart(fig: go.Figure, key: str, explain: bool = False) -> None:
    """A plotly chart. `explain`: its points carry item ids as `customdata`, and clicking one
    offers a link to that item's explanation."""
    if not explain:
        st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch")
        return
    state = st.plotly_chart(
        fig, key=key, config=PLOTLY_CONFIG, width="stretch", on_select="rerun",
        selection_mode="points",
    )  # fmt: skip
    points = [p.get("customdata") for p in (state.selection.points if state else [])]
    # Plotly hands a point's customdata back as the value or as a one-element list.
    points = [p[0] if isinstance(p, list) and p else p for p in points]
    explain_links([p for p in points if isinstance(p, str)])


def day_banner(view, where: str = "page") -> None:
    """Say which day a page shows when it is not the latest: a replayed day (amber, with the
    day), or the last day of stale data; or warn that the latest is counted past stale data."""
    loaded = view.loaded
    tz = loaded.workflow.timezone
    gap = stale_days(loaded)
    last = loaded.last_day
    if view.replaying and view.chosen:
        st.warning(
            f"**Replaying {view.replay:%a %d %b %Y}**: this {where} shows the end of that day "
            f"({tz}), as it was then. Clear the day on the Board to come back to the latest.",
            icon=":material/history:",
        )
    elif view.replaying:
        # One line: the board must still fit one screen below it.
        st.warning(
            f"**The data ends on {last:%a %d %b %Y}, {gap} days ago**: this {where} shows that "
            "day. Sync for today, or pick a day on the Board.",
            icon=":material/update:",
        )
    elif gap is not None:
        st.warning(
            f"**The data ends on {last:%a %d %b %Y}, {gap} days ago**: ages count those {gap} "
            "days as if nothing moved. Sync (Data page, or `flowdeck sync`), or replay that day.",
            icon=":material/update:",
        )


#: Quality findings in words, for the charts they distort.
QUALITY_WORDS = {
    "straight_to_done": "zero-time items (straight to done: cycle time 0 hours)",
    "mass_moves": "board clean-ups (mass moves)",
    "unmapped_status": "events into unmapped statuses",
}


def quality_links(quality: pd.DataFrame, checks: tuple[str, ...]) -> None:
    """Under charts that the data-quality findings `checks` distort: what was found, and a
    link to the Data page's report (nothing when none of them was found)."""
    found = quality[quality["check"].isin(checks) & quality["count"].gt(0)]
    if found.empty:
        return
    counts = found.groupby("check", sort=False)["count"].sum()
    words = ", ".join(f"{int(n)} {QUALITY_WORDS.get(c, c)}" for c, n in counts.items())
    st.caption(f"Data quality: {md(words)} distort these charts.")
    st.page_link(
        "app_pages/data.py", label="Read the data-quality report", icon=":material/fact_check:"
    )


def no_data(why: str, what_to_do: str) -> None:
    """Instead of an empty chart: why there is nothing, and what to do about it."""
    st.info(f"**{why}** {what_to_do}")


def explain_link(item_id: object, icon_only: bool = False) -> str:
    """A markdown link to the Explain page for one item (the id percent-encoded: it is
    untrusted and must not end the link); `icon_only` for a card's narrow first line."""
    words = "" if icon_only else " explain"
    return f"[:material/search:{words}](explain?item={quote(str(item_id), safe='')})"


def md(text: object) -> str:
    return escape_markdown(text)


def code(text: object) -> str:
    """Text as an inline code span (escapes do not work inside one: fence it instead)."""
    value = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {value} {fence}"


def fmt(value: object, digits: int = 1, unit: str = "") -> str:
    """A number for a metric tile: `n/a` when missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return "n/a"
    number = float(value)
    text = f"{number:.{digits}f}" if digits else f"{round(number):d}"
    return f"{text}{unit}"
