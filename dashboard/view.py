"""What the entry script hands every page for this run: the loaded data, the sidebar's filters
and the day being shown (kept in the session, since `st.navigation` runs the page as a separate
script)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard.data import Loaded, replay_moment, stale_gap
from dashboard.filters import Filters

_KEY = "_flowdeck_view"
#: The replayed day the user chose on the board (a date, or None for "the latest"): a plain
#: session key, not a widget's, so that it survives moving to a page without that widget.
REPLAY_KEY = "flowdeck_replay"
#: The query parameter that carries the replayed day, so that a reload or a shared link keeps it.
REPLAY_PARAM = "as_of"


@dataclass(frozen=True)
class View:
    loaded: Loaded
    filters: Filters
    replay: dt.date | None = None
    """The day the Board, Flow and Cycle time pages show: a day the user replays, the last day
    with data when the data is stale, or None for the latest."""
    chosen: bool = False
    """True when `replay` is the user's choice, False when it is the stale data's last day."""

    @property
    def moment(self) -> pd.Timestamp:
        return replay_moment(self.loaded, self.replay)

    @property
    def replaying(self) -> bool:
        return self.moment != self.loaded.as_of


def stale_days(loaded: Loaded) -> int | None:
    """Days between the newest event and the data's as-of day, when more than
    STALE_AFTER_DAYS (None when the data is fresh, or has no events)."""
    return stale_gap(loaded.last_day, loaded.as_of_day)


def _valid(loaded: Loaded, day: object) -> dt.date | None:
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            return None
    if not isinstance(day, dt.date):
        return None
    first = loaded.first_day or day
    return day if first <= day <= loaded.as_of_day else None


def chosen_replay(loaded: Loaded) -> tuple[bool, dt.date | None]:
    """(whether the user chose, the day): from the session, else from the page's address."""
    if REPLAY_KEY in st.session_state:
        return True, _valid(loaded, st.session_state[REPLAY_KEY])
    raw = st.query_params.get(REPLAY_PARAM)
    if raw:
        day = _valid(loaded, raw)
        st.session_state[REPLAY_KEY] = day
        return True, day
    return False, None


def choose_replay(day: dt.date | None) -> None:
    """Remember the replayed day for every page (None: back to the latest, or to the last day
    with data when it is stale)."""
    st.session_state[REPLAY_KEY] = day
    if day is None:
        st.query_params.pop(REPLAY_PARAM, None)
    else:
        st.query_params[REPLAY_PARAM] = day.isoformat()


def resolve_replay(loaded: Loaded) -> tuple[dt.date | None, bool]:
    """The day to show and whether the user chose it. With no choice, stale data is shown as of
    its last day: ages counted to today would grow by every day the sync has not run, and every
    item would look beyond the SLE."""
    chosen, day = chosen_replay(loaded)
    if chosen and day is not None:
        if REPLAY_PARAM not in st.query_params:
            st.query_params[REPLAY_PARAM] = day.isoformat()
        return day, True
    if chosen:  # the user asked for the latest, explicitly
        return None, True
    if stale_days(loaded) is not None:
        return loaded.last_day, False
    return None, False


def set_view(view: View) -> None:
    st.session_state[_KEY] = view


def current_timezone() -> str:
    """The workflow's time zone, for showing times (UTC for a page run outside the app)."""
    view = st.session_state.get(_KEY)
    return view.loaded.workflow.timezone if view is not None else "UTC"


def current_view() -> View:
    view = st.session_state.get(_KEY)
    if view is None:  # a page run on its own (not through app.py)
        st.error("Open the dashboard through `flowdeck dashboard` (dashboard/app.py).")
        st.stop()
    return view
