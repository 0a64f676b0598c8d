"""Portfolio: one row per team of the portfolio file, to look across teams (docs/teams.md).

Each row is the team over the last weeks: WIP now against its limit, throughput per week with
its weekly trend line, cycle-time p85 and how it moved against the weeks before, items beyond
the SLE, blocked items, deploy frequency and the last sync. The table sorts by any column (click
its header); the team's name opens its board.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.view import current_view

view = current_view()
setup = view.loaded.setup
st.header("Portfolio")
if setup.portfolio is None:
    st.info("One workflow file, one team: the Portfolio page lists the teams of a portfolio file.")
    st.stop()
rows = data.portfolio(setup)
st.caption(
    f"Each team over the last {data.PORTFOLIO_WEEKS} weeks (a team whose data stopped: the "
    f"{data.PORTFOLIO_WEEKS} weeks to its last day), from its own workflow and sources. "
    "Click a column to sort; a team's name opens its board."
)
st.dataframe(
    rows.drop(columns="team"),
    hide_index=True,
    placeholder="",  # a team without a total limit or a p85: an empty cell, not the word None
    width="stretch",
    column_order=[
        "link", "wip", "wip_limit", "throughput_per_week", "throughput_trend", "cycle_time_p85",
        "p85_change", "over_sle", "blocked", "deploys_per_week", "last_sync", "data_ends",
    ],
    column_config={
        "link": st.column_config.LinkColumn("Team", display_text=r"\?team=(.*)$"),
        "wip": st.column_config.NumberColumn("WIP now", format="%d"),
        "wip_limit": st.column_config.NumberColumn("WIP limit", format="%d"),
        "throughput_per_week": st.column_config.NumberColumn("Throughput / week", format="%.1f"),
        "throughput_trend": st.column_config.LineChartColumn("Throughput, weekly", y_min=0),
        "cycle_time_p85": st.column_config.NumberColumn("Cycle time p85 (days)", format="%.1f"),
        "p85_change": st.column_config.NumberColumn(
            "p85 change (days)", format="%+.1f", help="Against the same number of weeks before"
        ),
        "over_sle": st.column_config.NumberColumn("Beyond SLE", format="%d"),
        "blocked": st.column_config.NumberColumn("Blocked", format="%d"),
        "deploys_per_week": st.column_config.NumberColumn("Deploys / week", format="%.1f"),
        "last_sync": st.column_config.DatetimeColumn("Last sync (UTC)", format="YYYY-MM-DD HH:mm"),
        "data_ends": st.column_config.TextColumn(
            "Data ends", help="A team whose data stopped more than 3 days ago is shown as of its "
            "last day with data, as its board is",
        ),
    },
)  # fmt: skip
