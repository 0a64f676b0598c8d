"""The Streamlit entry script (`flowdeck dashboard` runs `streamlit run` on this file).

It reads where the data is (see `dashboard.data`), shows the shared sidebar, then runs the page
chosen in the navigation; each page lives in `dashboard/app_pages/`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import streamlit as st

from connectors.secrets import scrub_logs
from dashboard import data, sidebar
from dashboard.safe_text import escape_markdown
from dashboard.view import View, resolve_replay, set_view
from metrics.errors import FlowdeckError

HERE = Path(__file__).resolve().parent
PAGES = HERE / "app_pages"

scrub_logs()

# Material icons, not emoji: Streamlit ships the icon font in its own static files (nothing is
# fetched from the internet), while emoji show as empty boxes where no emoji font is installed.
# Not for the tab's icon, though: as a favicon a `:material/...:` icon is fetched from
# fonts.gstatic.com, and without one each page's icon becomes the favicon. A small image file,
# which Streamlit serves itself, keeps the tab local.
st.set_page_config(page_title="Flowdeck", page_icon=str(HERE / "favicon.png"), layout="wide")

pages = [
    st.Page(PAGES / "board.py", title="Board", icon=":material/view_kanban:", default=True),
    st.Page(PAGES / "flow.py", title="Flow", icon=":material/waterfall_chart:", url_path="flow"),
    st.Page(PAGES / "limits.py", title="WIP limits", icon=":material/traffic:", url_path="limits"),
    st.Page(
        PAGES / "cycle_time.py", title="Cycle time", icon=":material/timer:", url_path="cycle_time"
    ),
    st.Page(PAGES / "blockers.py", title="Blockers", icon=":material/block:", url_path="blockers"),
    st.Page(
        PAGES / "forecast.py", title="Forecast", icon=":material/query_stats:", url_path="forecast"
    ),
    st.Page(PAGES / "delivery.py", title="Delivery", icon=":material/rocket:", url_path="delivery"),
    st.Page(PAGES / "kaizen.py", title="Kaizen", icon=":material/science:", url_path="kaizen"),
    st.Page(PAGES / "explain.py", title="Explain", icon=":material/search:", url_path="explain"),
    st.Page(PAGES / "data.py", title="Data", icon=":material/database:", url_path="data"),
]
if data.portfolio_configured():
    pages.insert(
        0,
        st.Page(
            PAGES / "portfolio.py",
            title="Portfolio",
            icon=":material/explore:",
            url_path="portfolio",
        ),
    )
page = st.navigation(pages)

try:
    setup = data.setup_from_env()
except FlowdeckError as exc:
    st.error(f"Cannot start: {escape_markdown(exc)}")
    st.stop()

if setup.teams:
    # The team is in the URL (?team=NAME), so each team's wall screen opens on its own board.
    setup = data.with_team(setup, sidebar.team_picker(setup.teams))

loaded, problem = data.load(setup)
if problem is not None:
    if loaded is not None:
        st.error(
            f"Could not read newer data, showing the last good data: {escape_markdown(problem)}"
        )
    else:
        st.error(escape_markdown(problem))
        st.info(
            "Fix the problem above, then reload this page. `flowdeck status` shows the store's "
            "sources; `flowdeck sync` fills it."
        )
        st.stop()

if loaded.demo:
    st.info(
        "**Demo data**: a simulated team, 18 months of work. Your own: `flowdeck init jira|github "
        "...`, `flowdeck sync`, `flowdeck dashboard --config flowdeck.toml`.",
        icon=":material/school:",
    )

if setup.sync_every:
    data.sync_runner(setup)  # starts the background schedule once per server process

replay, chosen = resolve_replay(loaded)
view = View(loaded=loaded, filters=sidebar.render(loaded), replay=replay, chosen=chosen)
sidebar.day_caption(view)
set_view(view)
try:
    page.run()
except FlowdeckError as exc:
    st.error(escape_markdown(exc))
except Exception as exc:  # a page's bug: one line on screen, the traceback in the server log
    if os.environ.get("FLOWDECK_DEBUG"):
        raise
    logging.getLogger("flowdeck").exception("page %s failed", page.title)
    st.error(
        f"This page failed: {escape_markdown(type(exc).__name__)}: {escape_markdown(exc)}. "
        "The other pages still work; the details are in the terminal running "
        "`flowdeck dashboard` (set FLOWDECK_DEBUG=1 to see them here)."
    )
