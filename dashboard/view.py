"""What the entry script hands every page for this run: the loaded data and the sidebar's
filters (kept in the session, since `st.navigation` runs the page as a separate script)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.data import Loaded
from dashboard.filters import Filters

_KEY = "_flowdeck_view"


@dataclass(frozen=True)
class View:
    loaded: Loaded
    filters: Filters


def set_view(view: View) -> None:
    st.session_state[_KEY] = view


def current_view() -> View:
    view = st.session_state.get(_KEY)
    if view is None:  # a page run on its own (not through app.py)
        st.error("Open the dashboard through `flowdeck dashboard` (dashboard/app.py).")
        st.stop()
    return view
