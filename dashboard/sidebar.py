"""The sidebar every page shares: date range, item types, labels and sources.

It only reads widgets and returns a `Filters`; applying them is `dashboard.filters`' job.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.data import DEFAULT_RANGE_DAYS, Loaded
from dashboard.filters import Filters

#: Data whose last event is older than this is an export that stopped: show its last days.
STALE_AFTER = dt.timedelta(days=7)


def default_range(loaded: Loaded) -> tuple[dt.date, dt.date]:
    """The 90 days up to the data's as-of day (the window the percentiles use by default), not
    before the first event. When the data stopped more than a week before (an old export), the
    90 days up to its last event instead, so that the charts show what happened."""
    last = loaded.as_of_day
    if loaded.last_day is not None and last - loaded.last_day > STALE_AFTER:
        last = loaded.last_day
    first = last - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if loaded.first_day is not None and loaded.first_day > first:
        first = min(loaded.first_day, last)
    return first, last


def dates_from_widget(value: object, fallback: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date]:
    """A date-range widget's value: while the user has picked only the first day, the range
    runs from it to the fallback's end."""
    if isinstance(value, dt.date):
        return value, fallback[1]
    chosen = tuple(value or ())
    if len(chosen) == 2:
        return chosen[0], chosen[1]
    if len(chosen) == 1:
        return chosen[0], fallback[1]
    return fallback


def team_picker(teams: tuple[str, ...]) -> str:
    """The team chosen in the sidebar, kept in the URL's `team` parameter both ways."""
    wanted = st.query_params.get("team")
    index = teams.index(wanted) if wanted in teams else 0
    team = st.sidebar.selectbox("Team", teams, index=index, key="team")
    if st.query_params.get("team") != team:
        st.query_params["team"] = team
    return team


def render(loaded: Loaded) -> Filters:
    options = loaded.options
    fallback = default_range(loaded)
    with st.sidebar:
        st.header("Filters")
        lowest = min(loaded.first_day or fallback[0], fallback[0])
        value = st.date_input(
            "Date range",
            value=fallback,
            min_value=lowest,
            max_value=loaded.as_of_day,
            key="filter_range",
            help="Days of the flow charts, and the delivered items behind the cycle-time "
            "percentiles (default: the last 90 days).",
        )
        first, last = dates_from_widget(value, fallback)
        types = st.multiselect(
            "Item types", options.get("types", []), key="filter_types", placeholder="All types"
        )
        labels = st.multiselect(
            "Labels", options.get("labels", []), key="filter_labels", placeholder="All labels",
            help="Items carrying any of the chosen labels.",
        )  # fmt: skip
        sources = st.multiselect(
            "Sources", options.get("sources", []), key="filter_sources",
            placeholder="All sources",
        )  # fmt: skip
        if fallback[1] < loaded.as_of_day:
            st.caption(f"The data stops on {fallback[1]:%d %b %Y}: the default range ends there.")
    return Filters(
        first=first, last=last, types=tuple(types), labels=tuple(labels), sources=tuple(sources)
    )


def day_caption(view) -> None:
    """Which day the data describes, under the filters: the replayed day while there is one."""
    loaded = view.loaded
    tz = loaded.workflow.timezone
    with st.sidebar:
        if view.replaying:
            why = "replayed" if view.chosen else "the last day with data"
            st.markdown(
                f":orange-badge[:material/history: Data as of {view.replay:%a %d %b %Y}] "
                f"(end of day, {tz}; {why}: Board, Flow and Cycle time)."
            )
        else:
            st.caption(f"Data as of {loaded.as_of_day:%a %d %b %Y} (end of day, {tz}).")
